{#- Per team and UTC day over the dim_dates spine: issues whose status interval at the end of the day
    (next midnight UTC) is in an in_progress, review, waiting or blocked category. The current interval
    of an issue counts until as_of and beyond (so the as_of day reflects the present state). -#}
with

intervals as (

    select * from {{ ref('int_status_intervals_derived') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

teams as (

    select distinct team_id from intervals

),

day_ends as (

    select
        date_day,
        cast(date_day + 1 as timestamp) at time zone 'UTC' as day_ended_at
    from dates

),

wip_intervals as (

    select * from intervals
    where {{ is_in_status_category_group('status_category', 'wip') }}

),

wip_counts as (

    select
        wip_intervals.team_id,
        day_ends.date_day,
        count(distinct wip_intervals.issue_id) as wip_total,
        count(distinct case when wip_intervals.status_category = 'in_progress' then wip_intervals.issue_id end)
            as wip_in_progress,
        count(distinct case when wip_intervals.status_category = 'review' then wip_intervals.issue_id end)
            as wip_review,
        count(distinct case when wip_intervals.status_category = 'waiting' then wip_intervals.issue_id end)
            as wip_waiting,
        count(distinct case when wip_intervals.status_category = 'blocked' then wip_intervals.issue_id end)
            as wip_blocked
    from day_ends
    inner join wip_intervals
        on
            day_ends.day_ended_at > wip_intervals.started_at
            and (wip_intervals.is_current or day_ends.day_ended_at <= wip_intervals.ended_at)
    group by wip_intervals.team_id, day_ends.date_day

),

final as (

    select
        teams.team_id || ':' || cast(dates.date_day as text) as wip_daily_id,
        teams.team_id,
        dates.date_day,
        cast(coalesce(wip_counts.wip_total, 0) as integer) as wip_total,
        cast(coalesce(wip_counts.wip_in_progress, 0) as integer) as wip_in_progress,
        cast(coalesce(wip_counts.wip_review, 0) as integer) as wip_review,
        cast(coalesce(wip_counts.wip_waiting, 0) as integer) as wip_waiting,
        cast(coalesce(wip_counts.wip_blocked, 0) as integer) as wip_blocked
    from dates
    cross join teams
    left join wip_counts
        on teams.team_id = wip_counts.team_id and dates.date_day = wip_counts.date_day

)

select * from final
