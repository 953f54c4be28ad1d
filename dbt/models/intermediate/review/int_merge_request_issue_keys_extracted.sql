{#- Every Jira issue key found in a merge request's title, source branch, description or commit messages:
    one row per (merge request, key, where it was found). Keys are matched case-insensitively and upper-cased;
    keys whose project is not a loaded Jira project are dropped (`fix-2`, `sha-256`, ...). -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"): regular expressions over every merge request text and commit, read by the links and the merge request facts; computed once instead of once per reader and per test. -#}
{{ config(materialized='table') }}
with

merge_requests as (

    select * from {{ ref('stg_gitlab__merge_requests') }}

),

mr_commits as (

    select * from {{ ref('stg_gitlab__mr_commits') }}

),

jira_issues as (

    select * from {{ ref('stg_jira__issues') }}

),

known_projects as (

    select distinct upper(project_key) as project_key
    from jira_issues
    where project_key is not null

),

searched_texts as (

    select
        merge_request_id,
        'title' as found_in,
        title as searched_text
    from merge_requests
    union all
    select
        merge_request_id,
        'branch' as found_in,
        source_branch as searched_text
    from merge_requests
    union all
    select
        merge_request_id,
        'description' as found_in,
        description as searched_text
    from merge_requests
    union all
    select
        mr_commits.merge_request_id,
        'commit_message' as found_in,
        mr_commits.message as searched_text
    from mr_commits
    inner join merge_requests on mr_commits.merge_request_id = merge_requests.merge_request_id

),

key_matches as (

    select
        searched_texts.merge_request_id,
        searched_texts.found_in,
        upper(key_match.parts[1]) as issue_key
    from searched_texts
    cross join lateral {{ issue_key_matches('searched_texts.searched_text') }} as key_match (parts)
    where searched_texts.searched_text is not null

),

known_keys as (

    select distinct
        key_matches.merge_request_id,
        key_matches.issue_key,
        key_matches.found_in
    from key_matches
    inner join known_projects
        on regexp_replace(key_matches.issue_key, '-[0-9]+$', '') = known_projects.project_key

),

final as (

    select
        merge_request_id || ':' || issue_key || ':' || found_in as merge_request_issue_key_id,
        merge_request_id,
        issue_key,
        found_in,
        case found_in
            when 'title' then 1
            when 'branch' then 1
            when 'description' then 2
            else 3
        end as confidence_rank
    from known_keys

)

select * from final
