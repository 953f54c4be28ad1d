{#- Incremental (delete+insert on note_id): JSON is parsed once per raw document version, not by every
    consumer; a build reads only the raw rows ingested since the last one and the post-hook drops rows whose
    document left raw or was re-ingested (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='note_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['note_id'], 'unique': True},
            {'columns': ['ingested_at']},
            {'columns': ['merge_request_id']}
        ],
        post_hook="{{ delete_stale_staging_rows(source('gitlab', 'gitlab_mr_notes'), 'note_id') }}"
    )
}}

with

source as (

    select * from {{ source('gitlab', 'gitlab_mr_notes') }}

),

renamed as (

    select
        source_id as note_id,
        coalesce(parent_id, payload ->> 'noteable_id') as merge_request_id,
        payload ->> 'body' as body,
        payload ->> 'type' as note_type,
        payload ->> 'noteable_type' as noteable_type,
        payload -> 'author' ->> 'id' as author_id,
        payload -> 'author' ->> 'username' as author_username,
        coalesce(cast(payload ->> 'system' as boolean), false) as is_system,
        coalesce(cast(payload ->> 'system' as boolean), false)
        and payload ->> 'body' = 'approved this merge request' as is_approval,
        {{ parse_jira_ts("payload ->> 'created_at'") }} as created_at,
        {{ parse_jira_ts("payload ->> 'updated_at'") }} as updated_at,
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
