{#- Each merged blocked window with whether anyone acted on it: a status or assignee change strictly inside the
    window counts as escalation. A window that lasts at least var `blocked_escalation_hours` with no such change
    is "not escalated" and its hours are `unescalated_hours` (else 0). A window truncated by the start of the
    loaded history (`is_truncated_by_history_start`: its start, and any action before the history, are unknown)
    is kept here but never observed (fct_metric_observations), so it is never diagnosis evidence. -#}
with

blocked_windows as (

    select * from {{ ref('int_blocked_windows_merged') }}

),

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

changelog_items as (

    select * from {{ ref('stg_jira__changelog_items') }}

),

actions as (

    select
        blocked_windows.blocked_window_id,
        count(*) as action_count
    from blocked_windows
    inner join changelog_items
        on
            blocked_windows.issue_id = changelog_items.issue_id
            and blocked_windows.started_at < changelog_items.changed_at
            and blocked_windows.ended_at > changelog_items.changed_at
    where lower(changelog_items.field_name) in ('status', 'assignee')
    group by blocked_windows.blocked_window_id

),

final as (

    select
        blocked_windows.blocked_window_id as blocked_interval_id,
        blocked_windows.issue_id,
        issues.issue_key,
        issues.team_id,
        blocked_windows.started_at,
        blocked_windows.ended_at,
        {{ clamped_hours('blocked_windows.started_at', 'blocked_windows.ended_at') }} as hours,
        coalesce(actions.action_count, 0) as action_count,
        coalesce(actions.action_count, 0) > 0 as is_escalated,
        case
            when
                coalesce(actions.action_count, 0) = 0
                and {{ hours_between('blocked_windows.started_at', 'blocked_windows.ended_at') }}
                >= {{ var('blocked_escalation_hours') }}
                then {{ clamped_hours('blocked_windows.started_at', 'blocked_windows.ended_at') }}
            else 0
        end as unescalated_hours,
        blocked_windows.is_truncated_by_history_start
    from blocked_windows
    inner join issues on blocked_windows.issue_id = issues.issue_id
    left join actions on blocked_windows.blocked_window_id = actions.blocked_window_id

)

select * from final
