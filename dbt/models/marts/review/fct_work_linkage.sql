{#- Per team and ISO week: done Jira issues with no merge request (unlinked work) and merged human merge
    requests with no Jira issue, with the keys and merge-request ids behind each number as evidence. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"), indexed for what the
    dashboards, apps and report ask (one team's days or weeks, one issue, one merge request). -#}
{{
    config(
        indexes=[
            {'columns': ['team_id']}
        ]
    )
}}
with

lifecycle as (

    select * from {{ ref('fct_issue_lifecycle') }}

),

links as (

    select * from {{ ref('fct_issue_merge_request_links') }}

),

merge_requests as (

    select * from {{ ref('fct_merge_requests') }}

),

linked_issue_ids as (

    select distinct issue_id
    from links
    where issue_id is not null

),

done_issues as (

    select
        lifecycle.team_id,
        {{ utc_week_start('lifecycle.done_at') }} as week_start_date,
        lifecycle.issue_key,
        linked_issue_ids.issue_id is not null as has_merge_request
    from lifecycle
    left join linked_issue_ids on lifecycle.issue_id = linked_issue_ids.issue_id
    where lifecycle.is_done_work

),

merged_merge_requests as (

    select
        team_id,
        {{ utc_week_start('merged_at') }} as week_start_date,
        merge_request_id,
        is_linked_to_issue
    from merge_requests
    where is_merged and not is_bot_author and team_id is not null

),

issue_weeks as (

    select
        team_id,
        week_start_date,
        count(*) as done_issue_count,
        count(*) filter (where not has_merge_request) as unlinked_done_issue_count,
        string_agg(issue_key, ', ' order by issue_key) filter (where not has_merge_request) as unlinked_issue_keys
    from done_issues
    group by team_id, week_start_date

),

merge_request_weeks as (

    select
        team_id,
        week_start_date,
        count(*) as merged_merge_request_count,
        count(*) filter (where not is_linked_to_issue) as unlinked_merge_request_count,
        string_agg(merge_request_id, ', ' order by merge_request_id) filter (
            where not is_linked_to_issue
        ) as unlinked_merge_request_ids
    from merged_merge_requests
    group by team_id, week_start_date

),

team_weeks as (

    select
        team_id,
        week_start_date
    from issue_weeks
    union
    select
        team_id,
        week_start_date
    from merge_request_weeks

),

final as (

    select
        team_weeks.team_id || ':' || cast(team_weeks.week_start_date as text) as team_week_id,
        team_weeks.team_id,
        team_weeks.week_start_date,
        coalesce(issue_weeks.done_issue_count, 0) as done_issue_count,
        coalesce(issue_weeks.unlinked_done_issue_count, 0) as unlinked_done_issue_count,
        case
            when issue_weeks.done_issue_count > 0
                then cast(round(1.0 * issue_weeks.unlinked_done_issue_count / issue_weeks.done_issue_count, 4) as numeric(8, 4))
        end as unlinked_work_share,
        issue_weeks.unlinked_issue_keys,
        coalesce(merge_request_weeks.merged_merge_request_count, 0) as merged_merge_request_count,
        coalesce(merge_request_weeks.unlinked_merge_request_count, 0) as unlinked_merge_request_count,
        case
            when merge_request_weeks.merged_merge_request_count > 0
                then cast(round(
                    1.0 * merge_request_weeks.unlinked_merge_request_count / merge_request_weeks.merged_merge_request_count, 4
                ) as numeric(8, 4))
        end as unlinked_merge_request_share,
        merge_request_weeks.unlinked_merge_request_ids
    from team_weeks
    left join issue_weeks
        on team_weeks.team_id = issue_weeks.team_id and team_weeks.week_start_date = issue_weeks.week_start_date
    left join merge_request_weeks
        on
            team_weeks.team_id = merge_request_weeks.team_id
            and team_weeks.week_start_date = merge_request_weeks.week_start_date

)

select * from final
