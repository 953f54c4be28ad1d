{#- Incremental (delete+insert on deployment_merge_request_id): JSON is parsed once per raw document version, not by every
    consumer; a build reads only the raw rows ingested since the last one and the post-hook drops rows whose
    document left raw or was re-ingested (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='deployment_merge_request_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['deployment_merge_request_id'], 'unique': True},
            {'columns': ['ingested_at']},
            {'columns': ['deployment_id']}
        ],
        post_hook="{{ delete_stale_staging_rows(source('gitlab', 'gitlab_deployment_merge_requests'), 'deployment_merge_request_id') }}"
    )
}}

with

source as (

    select * from {{ source('gitlab', 'gitlab_deployment_merge_requests') }}

),

renamed as (

    select
        source_id as deployment_merge_request_id,
        coalesce(parent_id, split_part(source_id, ':', 1)) as deployment_id,
        payload ->> 'id' as merge_request_id,
        payload ->> 'project_id' as project_id,
        payload ->> 'iid' as merge_request_iid,
        {{ parse_jira_ts("payload ->> 'merged_at'") }} as merged_at,
        source as source_system,
        ingested_at

    from source

    {% if is_incremental() %}

        where {{ ingested_since_last_build('source.ingested_at') }}

    {% endif %}

),

final as (

    select * from renamed

)

select * from final
