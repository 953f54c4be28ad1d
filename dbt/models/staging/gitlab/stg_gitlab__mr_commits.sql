{#- Incremental (delete+insert on mr_commit_id): JSON is parsed once per raw document version, not by every
    consumer; a build reads only the raw rows ingested since the last one and the post-hook drops rows whose
    document left raw or was re-ingested (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='mr_commit_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['mr_commit_id'], 'unique': True},
            {'columns': ['ingested_at']},
            {'columns': ['merge_request_id']}
        ],
        post_hook="{{ delete_stale_staging_rows(source('gitlab', 'gitlab_mr_commits'), 'mr_commit_id') }}"
    )
}}

with

source as (

    select * from {{ source('gitlab', 'gitlab_mr_commits') }}

),

renamed as (

    select
        source_id as mr_commit_id,
        parent_id as merge_request_id,
        payload ->> 'id' as commit_sha,
        payload ->> 'title' as title,
        coalesce(payload ->> 'message', payload ->> 'title') as message,
        payload ->> 'author_name' as author_name,
        payload ->> 'author_email' as author_email,
        {{ parse_jira_ts("payload ->> 'authored_date'") }} as authored_at,
        {{ parse_jira_ts("payload ->> 'committed_date'") }} as committed_at,
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
