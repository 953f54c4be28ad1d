{#- One row per (Jira issue key, merge request) link found in GitLab text, with where it was found and a
    confidence: title or branch (high) > description (medium) > commit message only (low). -#}
{#- Incremental (delete+insert on merge_request_id) by merge request: a build recomputes the links of the merge
    requests with a merge request or commit document ingested at or after the model's watermark
    (app.dbt_model_watermarks: a title edit adds or removes links), of the merge requests whose text names a key
    of a Jira issue ingested since (the issue behind a key, its id and team), whose linked issue left staging,
    or whose project's team changed, and all of them when a Jira project is seen for the first time; links of
    merge requests that left staging, or that no longer name the key, are deleted. Independent of as_of
    (docs/operations.md, "Incremental builds"). Indexed for what the dashboards, apps and report ask (one
    issue, one merge request). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='merge_request_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['issue_key']},
            {'columns': ['issue_id']},
            {'columns': ['merge_request_id']}
        ],
        post_hook=[
            "delete from {{ this }} as built where not exists"
            " (select 1 from {{ ref('int_merge_request_issue_keys_extracted') }} as issue_keys"
            " inner join {{ ref('stg_gitlab__merge_requests') }} as merge_requests"
            " on issue_keys.merge_request_id = merge_requests.merge_request_id"
            " where issue_keys.merge_request_id = built.merge_request_id and issue_keys.issue_key = built.issue_key)",
            "{{ save_model_watermark([ref('stg_gitlab__merge_requests'), ref('stg_gitlab__mr_commits'),"
            " ref('stg_jira__issues')]) }}"
        ]
    )
}}
-- depends_on: {{ ref('stg_gitlab__mr_commits') }}
with

{% if is_incremental() %}
    changed_keys as (

        select upper(changed_issues.issue_key) as issue_key
        from {{ ref('stg_jira__issues') }} as changed_issues
        where changed_issues.ingested_at >= {{ model_watermark() }} and changed_issues.issue_key is not null

    ),

    changed_merge_requests as (

        {{ keys_ingested_since_watermark([
            (ref('stg_gitlab__merge_requests'), 'merge_request_id'),
            (ref('stg_gitlab__mr_commits'), 'merge_request_id')
        ]) }}

        union

        -- the issue behind a key may be another one now (loaded, updated, moved to another team)
        select keyed.merge_request_id as changed_key
        from {{ ref('int_merge_request_issue_keys_extracted') }} as keyed
        where keyed.issue_key in (select changed_keys.issue_key from changed_keys)

        union

        -- the linked issue changed (its key may be another one now, after a move) or left staging (deleted)
        select built.merge_request_id as changed_key
        from {{ this }} as built
        left join {{ ref('stg_jira__issues') }} as loaded_issues on built.issue_id = loaded_issues.issue_id
        where
            built.issue_id is not null
            and (loaded_issues.issue_id is null or loaded_issues.ingested_at >= {{ model_watermark() }})

        union

        -- a project's team is the only value read from projects (whose documents change with every activity)
        select built.merge_request_id as changed_key
        from {{ this }} as built
        left join {{ ref('stg_gitlab__projects') }} as projects on built.project_id = projects.project_id
        where built.merge_request_team_id is distinct from projects.team_id

        union

        -- a Jira project seen for the first time: every merge request's keys were searched again
        select every_merge_request.merge_request_id as changed_key
        from {{ ref('stg_gitlab__merge_requests') }} as every_merge_request
        where exists (
            select 1
            from {{ ref('stg_jira__issues') }} as project_issues
            where project_issues.project_key is not null
            group by upper(project_issues.project_key)
            having min(project_issues.ingested_at) >= {{ model_watermark() }}
        )

    ),
{% endif %}

issue_keys as (

    select * from {{ ref('int_merge_request_issue_keys_extracted') }}
    {% if is_incremental() %}
        where merge_request_id in (select changed_merge_requests.changed_key from changed_merge_requests)
    {% endif %}

),

merge_requests as (

    select * from {{ ref('stg_gitlab__merge_requests') }}
    {% if is_incremental() %}
        where merge_request_id in (select changed_merge_requests.changed_key from changed_merge_requests)
    {% endif %}

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
    {% if is_incremental() %}
        where
            issue_key is not null
            and upper(issue_key) in (select issue_keys.issue_key from issue_keys)
    {% else %}
        where issue_key is not null
    {% endif %}
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
