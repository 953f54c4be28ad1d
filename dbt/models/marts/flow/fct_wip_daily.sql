{#- Per team and UTC day over the dim_dates spine: work items (incidents excluded, like every work metric:
    stg_jira__issues.is_incident) whose status interval at the end of the day (next midnight UTC) is in an
    in_progress, review, waiting or blocked category, split by category; open incidents in those categories are
    counted apart (incident_wip). The current interval of an issue counts until as_of and beyond (so the as_of
    day reflects the present state). A day that begins before the loaded Jira history
    (int_jira_history_start_derived) counts assumed states only: `is_truncated_by_history_start`. -#}
with

intervals as (

    select * from {{ ref('int_status_intervals_derived') }}

),

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

history_start as (

    select * from {{ ref('int_jira_history_start_derived') }}

),

teams as (

    select distinct team_id from intervals

),

day_ends as (

    select
        date_day,
        cast(date_day as timestamp) at time zone 'UTC' as day_started_at,
        cast(date_day + 1 as timestamp) at time zone 'UTC' as day_ended_at
    from dates

),

wip_intervals as (

    select
        intervals.*,
        issues.is_incident
    from intervals
    inner join issues on intervals.issue_id = issues.issue_id
    where {{ is_in_status_category_group('intervals.status_category', 'wip') }}

),

wip_counts as (

    select
        wip_intervals.team_id,
        day_ends.date_day,
        count(distinct wip_intervals.issue_id) filter (where not wip_intervals.is_incident) as wip_total,
        count(distinct wip_intervals.issue_id) filter (
            where not wip_intervals.is_incident and wip_intervals.status_category = 'in_progress'
        ) as wip_in_progress,
        count(distinct wip_intervals.issue_id) filter (
            where not wip_intervals.is_incident and wip_intervals.status_category = 'review'
        ) as wip_review,
        count(distinct wip_intervals.issue_id) filter (
            where not wip_intervals.is_incident and wip_intervals.status_category = 'waiting'
        ) as wip_waiting,
        count(distinct wip_intervals.issue_id) filter (
            where not wip_intervals.is_incident and wip_intervals.status_category = 'blocked'
        ) as wip_blocked,
        count(distinct wip_intervals.issue_id) filter (where wip_intervals.is_incident) as incident_wip
    from day_ends
    inner join wip_intervals
        on
            day_ends.day_ended_at > wip_intervals.started_at
            and (wip_intervals.is_current or day_ends.day_ended_at <= wip_intervals.ended_at)
    group by wip_intervals.team_id, day_ends.date_day

),

final as (

    select
        teams.team_id || ':' || cast(day_ends.date_day as text) as wip_daily_id,
        teams.team_id,
        day_ends.date_day,
        cast(coalesce(wip_counts.wip_total, 0) as integer) as wip_total,
        cast(coalesce(wip_counts.wip_in_progress, 0) as integer) as wip_in_progress,
        cast(coalesce(wip_counts.wip_review, 0) as integer) as wip_review,
        cast(coalesce(wip_counts.wip_waiting, 0) as integer) as wip_waiting,
        cast(coalesce(wip_counts.wip_blocked, 0) as integer) as wip_blocked,
        cast(coalesce(wip_counts.incident_wip, 0) as integer) as incident_wip,
        coalesce(day_ends.day_started_at < history_start.history_started_at, false) as is_truncated_by_history_start
    from day_ends
    cross join teams
    cross join history_start
    left join wip_counts
        on teams.team_id = wip_counts.team_id and day_ends.date_day = wip_counts.date_day

)

select * from final
