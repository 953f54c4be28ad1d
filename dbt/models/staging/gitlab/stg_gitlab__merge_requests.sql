{#- Incremental (delete+insert on merge_request_id): JSON is parsed once per raw document version, not by every
    consumer; a build reads only the raw rows ingested since the last one and the post-hook drops rows whose
    document left raw or was re-ingested (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='merge_request_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['merge_request_id'], 'unique': True},
            {'columns': ['ingested_at']},
            {'columns': ['project_id']}
        ],
        post_hook="{{ delete_stale_staging_rows(source('gitlab', 'gitlab_merge_requests'), 'merge_request_id') }}"
    )
}}

with

source as (

    select * from {{ source('gitlab', 'gitlab_merge_requests') }}

),

renamed as (

    select
        source_id as merge_request_id,
        payload ->> 'iid' as merge_request_iid,
        coalesce(payload ->> 'project_id', parent_id) as project_id,
        payload ->> 'title' as title,
        payload ->> 'description' as description,
        payload ->> 'state' as state,
        coalesce(cast(payload ->> 'draft' as boolean), cast(payload ->> 'work_in_progress' as boolean), false) as is_draft,
        payload ->> 'source_branch' as source_branch,
        payload ->> 'target_branch' as target_branch,
        payload -> 'author' ->> 'id' as author_id,
        payload -> 'author' ->> 'username' as author_username,
        payload -> 'merged_by' ->> 'username' as merged_by_username,
        coalesce(jsonb_array_length(case when jsonb_typeof(payload -> 'reviewers') = 'array' then payload -> 'reviewers' end), 0) as requested_reviewer_count,
        payload ->> 'merge_commit_sha' as merge_commit_sha,
        payload ->> 'sha' as head_sha,
        cast(payload -> 'diff_stats' ->> 'additions' as integer) as lines_added,
        cast(payload -> 'diff_stats' ->> 'deletions' as integer) as lines_deleted,
        cast(payload -> 'diff_stats' ->> 'file_count' as integer) as files_changed,
        payload ->> 'web_url' as web_url,
        {{ parse_jira_ts("payload ->> 'created_at'") }} as created_at,
        {{ parse_jira_ts("payload ->> 'updated_at'") }} as updated_at,
        {{ parse_jira_ts("payload ->> 'merged_at'") }} as merged_at,
        {{ parse_jira_ts("payload ->> 'closed_at'") }} as closed_at,
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
