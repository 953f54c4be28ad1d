{#- One row per Jira issue with its flow metrics (definitions: docs/metrics.md). `is_done_work` is the one
    definition of "a done issue that is not an incident", the population of every work metric. -#}
with

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

milestones as (

    select * from {{ ref('int_issue_milestones_derived') }}

),

intervals as (

    select * from {{ ref('int_status_intervals_derived') }}

),

flag_windows as (

    select * from {{ ref('int_flag_windows_derived') }}

),

blocked_windows as (

    select * from {{ ref('int_blocked_windows_merged') }}

),

blocked_time as (

    select
        blocked_windows.issue_id,
        sum(
            greatest(
                0,
                {{ hours_between(
                    'greatest(blocked_windows.started_at, milestones.active_from)',
                    'least(blocked_windows.ended_at, milestones.active_to)'
                ) }}
            )
        ) as blocked_hours
    from blocked_windows
    inner join milestones on blocked_windows.issue_id = milestones.issue_id
    group by blocked_windows.issue_id

),

active_intervals as (

    select
        intervals.interval_id,
        intervals.issue_id,
        greatest(intervals.started_at, milestones.started_at) as started_at,
        least(intervals.ended_at, milestones.done_at) as ended_at
    from intervals
    inner join milestones on intervals.issue_id = milestones.issue_id
    where
        {{ is_in_status_category_group('intervals.status_category', 'active') }}
        and milestones.done_at is not null
        and milestones.started_at is not null
        and intervals.started_at < milestones.done_at
        and intervals.ended_at > milestones.started_at

),

flagged_active_time as (

    select
        active_intervals.interval_id,
        sum(
            greatest(
                0,
                {{ hours_between(
                    'greatest(active_intervals.started_at, flag_windows.flagged_at)',
                    'least(active_intervals.ended_at, flag_windows.unflagged_at)'
                ) }}
            )
        ) as flagged_hours
    from active_intervals
    inner join flag_windows on active_intervals.issue_id = flag_windows.issue_id
    group by active_intervals.interval_id

),

unflagged_active_time as (

    select
        active_intervals.issue_id,
        sum(
            {{ hours_between('active_intervals.started_at', 'active_intervals.ended_at') }}
            - coalesce(flagged_active_time.flagged_hours, 0)
        ) as active_unflagged_hours
    from active_intervals
    left join flagged_active_time on active_intervals.interval_id = flagged_active_time.interval_id
    group by active_intervals.issue_id

),

metrics as (

    select
        issues.issue_id,
        issues.issue_key,
        issues.team_id,
        issues.project_key,
        issues.issue_type,
        issues.is_incident,
        issues.created_at,
        milestones.started_at,
        milestones.done_at,
        case
            when milestones.done_at is not null and milestones.started_at is not null
                then {{ hours_between('milestones.started_at', 'milestones.done_at') }}
        end as cycle_time_hours,
        case
            when milestones.done_at is not null
                then {{ hours_between('issues.created_at', 'milestones.done_at') }}
        end as lead_time_hours,
        coalesce(blocked_time.blocked_hours, 0) as blocked_hours,
        unflagged_active_time.active_unflagged_hours,
        milestones.reopen_count,
        issues.status_name as current_status,
        milestones.current_status_category,
        issues.has_assignee,
        issues.is_flagged,
        issues.updated_at
    from issues
    inner join milestones on issues.issue_id = milestones.issue_id
    left join blocked_time on issues.issue_id = blocked_time.issue_id
    left join unflagged_active_time on issues.issue_id = unflagged_active_time.issue_id

),

final as (

    select
        issue_id,
        issue_key,
        team_id,
        project_key,
        issue_type,
        is_incident,
        created_at,
        started_at,
        done_at,
        coalesce(current_status_category = 'done' and done_at is not null and not is_incident, false) as is_done_work,
        cast(round(cast(cycle_time_hours as numeric), 4) as numeric(14, 4)) as cycle_time_hours,
        cast(round(cast(lead_time_hours as numeric), 4) as numeric(14, 4)) as lead_time_hours,
        cast(round(cast(blocked_hours as numeric), 4) as numeric(14, 4)) as blocked_hours,
        case
            when cycle_time_hours > 0
                then cast(round(cast(coalesce(active_unflagged_hours, 0) / cycle_time_hours as numeric), 4) as numeric(8, 4))
        end as flow_efficiency,
        reopen_count,
        reopen_count > 0 as is_reworked,
        current_status,
        current_status_category,
        has_assignee,
        is_flagged,
        updated_at
    from metrics

)

select * from final
