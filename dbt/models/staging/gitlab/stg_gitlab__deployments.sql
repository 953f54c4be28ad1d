{#- Incremental (delete+insert on deployment_id): JSON is parsed once per raw document version, not by every
    consumer; a build reads only the raw rows ingested since the last one and the post-hook drops rows whose
    document left raw or was re-ingested (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='deployment_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['deployment_id'], 'unique': True},
            {'columns': ['ingested_at']}
        ],
        post_hook="{{ delete_stale_staging_rows(source('gitlab', 'gitlab_deployments'), 'deployment_id') }}"
    )
}}

with

source as (

    select * from {{ source('gitlab', 'gitlab_deployments') }}

),

renamed as (

    select
        source_id as deployment_id,
        payload ->> 'iid' as deployment_iid,
        parent_id as project_id,
        payload ->> 'ref' as ref,
        payload ->> 'sha' as commit_sha,
        payload ->> 'status' as status,
        payload -> 'environment' ->> 'name' as environment_name,
        payload -> 'environment' ->> 'tier' as environment_tier,
        payload -> 'deployable' -> 'pipeline' ->> 'id' as pipeline_id,
        {{ parse_jira_ts("payload ->> 'created_at'") }} as created_at,
        {{ parse_jira_ts("payload ->> 'updated_at'") }} as updated_at,
        {{ parse_jira_ts("payload ->> 'finished_at'") }} as finished_at,
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
