{#- One row per (Jira issue key, merge request) link found in GitLab text, with where it was found and a
    confidence: title or branch (high) > description (medium) > commit message only (low). -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"), indexed for what the
    dashboards, apps and report ask (one team's days or weeks, one issue, one merge request). -#}
{{
    config(
        indexes=[
            {'columns': ['issue_key']},
            {'columns': ['issue_id']},
            {'columns': ['merge_request_id']}
        ]
    )
}}
with

issue_keys as (

    select * from {{ ref('int_merge_request_issue_keys_extracted') }}

),

merge_requests as (

    select * from {{ ref('stg_gitlab__merge_requests') }}

),

projects as (

    select * from {{ ref('stg_gitlab__projects') }}

),

jira_issues as (

    select * from {{ ref('stg_jira__issues') }}

),

issues_by_key as (

    select distinct on (upper(issue_key))
        upper(issue_key) as issue_key,
        issue_id,
        team_id
    from jira_issues
    where issue_key is not null
    order by upper(issue_key), updated_at desc nulls last, issue_id asc

),

links as (

    select
        merge_request_id,
        issue_key,
        min(confidence_rank) as confidence_rank,
        bool_or(found_in = 'title') as is_key_in_title,
        bool_or(found_in = 'branch') as is_key_in_branch,
        bool_or(found_in = 'description') as is_key_in_description,
        bool_or(found_in = 'commit_message') as is_key_in_commit_message
    from issue_keys
    group by merge_request_id, issue_key

),

final as (

    select
        links.issue_key || ':' || links.merge_request_id as issue_merge_request_link_id,
        links.issue_key,
        issues_by_key.issue_id,
        issues_by_key.issue_id is not null as is_issue_loaded,
        issues_by_key.team_id as issue_team_id,
        links.merge_request_id,
        merge_requests.project_id,
        projects.team_id as merge_request_team_id,
        merge_requests.state as merge_request_state,
        merge_requests.created_at as merge_request_created_at,
        merge_requests.merged_at as merge_request_merged_at,
        case
            when links.is_key_in_title then 'title'
            when links.is_key_in_branch then 'branch'
            when links.is_key_in_description then 'description'
            else 'commit_message'
        end as link_source,
        concat_ws(
            ', ',
            case when links.is_key_in_title then 'title' end,
            case when links.is_key_in_branch then 'branch' end,
            case when links.is_key_in_description then 'description' end,
            case when links.is_key_in_commit_message then 'commit_message' end
        ) as link_sources,
        case links.confidence_rank
            when 1 then 'high'
            when 2 then 'medium'
            else 'low'
        end as confidence,
        links.is_key_in_title,
        links.is_key_in_branch,
        links.is_key_in_description,
        links.is_key_in_commit_message
    from links
    inner join merge_requests on links.merge_request_id = merge_requests.merge_request_id
    left join projects on merge_requests.project_id = projects.project_id
    left join issues_by_key on links.issue_key = issues_by_key.issue_key

)

select * from final
