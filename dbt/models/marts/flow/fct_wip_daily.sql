{#- Per team and UTC day over the dim_dates spine: work items (incidents excluded, like every work metric:
    stg_jira__issues.is_incident) whose status interval at the end of the day (next midnight UTC) is in an
    in_progress, review, waiting or blocked category, split by category; open incidents in those categories are
    counted apart (incident_wip). The current interval of an issue counts until as_of and beyond (so the as_of
    day reflects the present state). A day that begins before the loaded Jira history
    (int_jira_history_start_derived) counts assumed states only: `is_truncated_by_history_start`. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"), indexed for what the
    dashboards, apps and report ask (one team's days or weeks, one issue, one merge request). -#}
{{
    config(
        indexes=[
            {'columns': ['team_id', 'date_day']}
        ]
    )
}}
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

spine_bounds as (

    select
        min(date_day) as first_day,
        max(date_day) as last_day
    from dates

),

wip_interval_days as (

    -- the days whose end an interval can cover: from the day it starts to the day before it ends (through the
    -- spine's last day for a current interval); the join below keeps the exact rule, this only spares comparing
    -- every interval with every day
    select
        wip_intervals.issue_id,
        wip_intervals.team_id,
        wip_intervals.status_category,
        wip_intervals.is_incident,
        wip_intervals.is_current,
        wip_intervals.started_at,
        wip_intervals.ended_at,
        cast(candidate_days.day_ts as date) as date_day
    from wip_intervals
    cross join spine_bounds
    cross join lateral generate_series(
        cast(greatest({{ utc_date('wip_intervals.started_at') }}, spine_bounds.first_day) as timestamp),
        cast(
            case
                when wip_intervals.is_current then spine_bounds.last_day
                else least({{ utc_date('wip_intervals.ended_at') }} - 1, spine_bounds.last_day)
            end as timestamp
        ),
        interval '1 day'
    ) as candidate_days (day_ts)

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
    inner join wip_interval_days as wip_intervals
        on
            day_ends.date_day = wip_intervals.date_day
            and day_ends.day_ended_at > wip_intervals.started_at
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
