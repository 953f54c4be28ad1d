{#- One row per Jira issue with its flow metrics (definitions: docs/metrics.md). `is_done_work` is the one
    definition of "a done issue that is not an incident", the population of every work metric.
    Flow efficiency = active hours / cycle time, where active hours are the in_progress and (active) review
    status hours between started_at and done_at minus the time not worked although the status says so: flag
    windows and review waits (a linked human merge request ready for review and not yet reviewed: ready_at ->
    the first of first review, merge or close, from fct_merge_requests via fct_issue_merge_request_links).
    Flag windows and review waits are merged per issue first, so an hour that is both counts once. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"), indexed for what the
    dashboards, apps and report ask (one team's days or weeks, one issue, one merge request). -#}
{{
    config(
        indexes=[
            {'columns': ['issue_id']},
            {'columns': ['issue_key']},
            {'columns': ['team_id', 'done_at']}
        ]
    )
}}
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

merge_request_links as (

    select * from {{ ref('fct_issue_merge_request_links') }}

),

merge_requests as (

    select * from {{ ref('fct_merge_requests') }}

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

review_waits as (

    select
        merge_request_links.issue_id,
        merge_requests.ready_at as started_at,
        greatest(
            merge_requests.ready_at,
            coalesce(
                least(merge_requests.first_review_at, merge_requests.merged_at, merge_requests.closed_at),
                {{ as_of_ts() }}
            )
        ) as ended_at
    from merge_request_links
    inner join merge_requests on merge_request_links.merge_request_id = merge_requests.merge_request_id
    where
        merge_request_links.issue_id is not null
        and merge_requests.ready_at is not null
        and not merge_requests.is_bot_author

),

unworked_windows as (

    -- kind 'review_wait': review waits alone (review_wait_hours); 'not_worked': review waits and flag windows
    -- together (what active hours lose); each kind is merged on its own below
    select
        issue_id,
        'review_wait' as window_kind,
        started_at,
        ended_at
    from review_waits

    union all

    select
        issue_id,
        'not_worked' as window_kind,
        started_at,
        ended_at
    from review_waits

    union all

    select
        issue_id,
        'not_worked' as window_kind,
        flagged_at as started_at,
        unflagged_at as ended_at
    from flag_windows

),

unworked_running_ends as (

    select
        *,
        max(ended_at) over (
            partition by issue_id, window_kind
            order by started_at, ended_at
            rows between unbounded preceding and 1 preceding
        ) as previous_max_ended_at
    from unworked_windows
    where ended_at > started_at

),

unworked_islands as (

    select
        *,
        sum(
            case when previous_max_ended_at is null or started_at > previous_max_ended_at then 1 else 0 end
        ) over (
            partition by issue_id, window_kind
            order by started_at, ended_at
            rows between unbounded preceding and current row
        ) as island_seq
    from unworked_running_ends

),

unworked_merged as (

    select
        issue_id,
        window_kind,
        island_seq,
        min(started_at) as started_at,
        max(ended_at) as ended_at
    from unworked_islands
    group by issue_id, window_kind, island_seq

),

unworked_active_time as (

    select
        active_intervals.issue_id,
        sum(
            case
                when unworked_merged.window_kind = 'not_worked'
                    then greatest(
                        0,
                        {{ hours_between(
                            'greatest(active_intervals.started_at, unworked_merged.started_at)',
                            'least(active_intervals.ended_at, unworked_merged.ended_at)'
                        ) }}
                    )
                else 0
            end
        ) as not_worked_hours,
        sum(
            case
                when unworked_merged.window_kind = 'review_wait'
                    then greatest(
                        0,
                        {{ hours_between(
                            'greatest(active_intervals.started_at, unworked_merged.started_at)',
                            'least(active_intervals.ended_at, unworked_merged.ended_at)'
                        ) }}
                    )
                else 0
            end
        ) as review_wait_hours
    from active_intervals
    inner join unworked_merged
        on
            active_intervals.issue_id = unworked_merged.issue_id
            and active_intervals.started_at < unworked_merged.ended_at
            and active_intervals.ended_at > unworked_merged.started_at
    group by active_intervals.issue_id

),

active_time as (

    select
        active_intervals.issue_id,
        sum({{ hours_between('active_intervals.started_at', 'active_intervals.ended_at') }}) as active_status_hours
    from active_intervals
    group by active_intervals.issue_id

),

metrics as (

    select
        issues.issue_id,
        issues.issue_key,
        issues.team_id,
        issues.project_key,
        issues.issue_type,
        issues.summary,
        issues.is_incident,
        issues.created_at,
        milestones.life_started_at,
        milestones.started_at,
        milestones.done_at,
        milestones.done_at_source,
        case
            when milestones.done_at is not null and milestones.started_at is not null
                then {{ hours_between('milestones.started_at', 'milestones.done_at') }}
        end as cycle_time_hours,
        case
            when milestones.done_at is not null
                then {{ hours_between('milestones.life_started_at', 'milestones.done_at') }}
        end as lead_time_hours,
        coalesce(blocked_time.blocked_hours, 0) as blocked_hours,
        case
            when milestones.done_at is not null and milestones.started_at is not null
                then greatest(
                    0,
                    coalesce(active_time.active_status_hours, 0) - coalesce(unworked_active_time.not_worked_hours, 0)
                )
        end as active_hours,
        case
            when milestones.done_at is not null and milestones.started_at is not null
                then coalesce(unworked_active_time.review_wait_hours, 0)
        end as review_wait_hours,
        milestones.reopen_count,
        issues.status_name as current_status,
        milestones.current_status_category,
        issues.has_assignee,
        issues.is_flagged,
        issues.updated_at
    from issues
    inner join milestones on issues.issue_id = milestones.issue_id
    left join blocked_time on issues.issue_id = blocked_time.issue_id
    left join active_time on issues.issue_id = active_time.issue_id
    left join unworked_active_time on issues.issue_id = unworked_active_time.issue_id

),

final as (

    select
        issue_id,
        issue_key,
        team_id,
        project_key,
        issue_type,
        summary,
        is_incident,
        created_at,
        life_started_at,
        started_at,
        done_at,
        done_at_source,
        coalesce(current_status_category = 'done' and done_at is not null and not is_incident, false) as is_done_work,
        cast(round(cast(cycle_time_hours as numeric), 4) as numeric(14, 4)) as cycle_time_hours,
        cast(round(cast(lead_time_hours as numeric), 4) as numeric(14, 4)) as lead_time_hours,
        cast(round(cast(blocked_hours as numeric), 4) as numeric(14, 4)) as blocked_hours,
        cast(round(cast(active_hours as numeric), 4) as numeric(14, 4)) as active_hours,
        cast(round(cast(review_wait_hours as numeric), 4) as numeric(14, 4)) as review_wait_hours,
        case
            when cycle_time_hours > 0
                then cast(round(cast(least(1, active_hours / cycle_time_hours) as numeric), 4) as numeric(8, 4))
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
