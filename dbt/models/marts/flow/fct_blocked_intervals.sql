{#- Merged blocked windows per issue (status category blocked and/or flagged), with the part inside the
    issue's active life (started_at or the life start, to done_at or as_of), which is what blocked_hours sums.
    A window that starts before the loaded history (is_truncated_by_history_start) has an assumed start. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"), indexed for what the
    dashboards, apps and report ask (one team's days or weeks, one issue, one merge request). -#}
{{
    config(
        indexes=[
            {'columns': ['issue_id']},
            {'columns': ['team_id', 'started_at']}
        ]
    )
}}
with

blocked_windows as (

    select * from {{ ref('int_blocked_windows_merged') }}

),

milestones as (

    select * from {{ ref('int_issue_milestones_derived') }}

),

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

final as (

    select
        blocked_windows.blocked_window_id as blocked_interval_id,
        blocked_windows.issue_id,
        issues.team_id,
        blocked_windows.blocked_window_seq as blocked_interval_seq,
        blocked_windows.block_source,
        blocked_windows.started_at,
        blocked_windows.ended_at,
        cast(round(cast({{ hours_between('blocked_windows.started_at', 'blocked_windows.ended_at') }} as numeric), 4) as numeric(14, 4)) as hours,
        cast(round(cast(greatest(
            0,
            {{ hours_between(
                'greatest(blocked_windows.started_at, milestones.active_from)',
                'least(blocked_windows.ended_at, milestones.active_to)'
            ) }}
        ) as numeric), 4) as numeric(14, 4)) as active_hours,
        blocked_windows.ended_at >= {{ as_of_ts() }} as is_current,
        blocked_windows.is_truncated_by_history_start
    from blocked_windows
    inner join milestones on blocked_windows.issue_id = milestones.issue_id
    inner join issues on blocked_windows.issue_id = issues.issue_id

)

select * from final
