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

),

final as (

    select * from renamed

)

select * from final
