{#- Blocked windows per issue: intervals in a `blocked` status category and flag windows, unioned and
    merged so overlapping or touching windows count once (gaps and islands). `block_source` says what
    the merged window is made of: status, flag or both. Clipping to the issue's active life is done
    downstream (fct_blocked_intervals, fct_issue_lifecycle). A window that starts before the loaded history
    begins (int_jira_history_start_derived) has an assumed start: `is_truncated_by_history_start`. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"): read by three facts and the escalation check; as_of- and history-start-dependent; computed once instead of once per reader and per test. -#}
{{ config(materialized='table') }}
with

intervals as (

    select * from {{ ref('int_status_intervals_derived') }}

),

flag_windows as (

    select * from {{ ref('int_flag_windows_derived') }}

),

history_start as (

    select * from {{ ref('int_jira_history_start_derived') }}

),

windows as (

    select
        issue_id,
        started_at,
        ended_at,
        'status' as block_source
    from intervals
    where status_category = 'blocked'

    union all

    select
        issue_id,
        flagged_at as started_at,
        unflagged_at as ended_at,
        'flag' as block_source
    from flag_windows

),

with_running_end as (

    select
        *,
        max(ended_at) over (
            partition by issue_id
            order by started_at, ended_at
            rows between unbounded preceding and 1 preceding
        ) as previous_max_ended_at
    from windows
    where ended_at > started_at

),

island_starts as (

    select
        *,
        case
            when previous_max_ended_at is null or started_at > previous_max_ended_at then 1 else 0
        end as is_island_start
    from with_running_end

),

islands as (

    select
        *,
        sum(is_island_start) over (
            partition by issue_id
            order by started_at, ended_at
            rows between unbounded preceding and current row
        ) as island_seq
    from island_starts

),

merged as (

    select
        issue_id,
        cast(island_seq as integer) as blocked_window_seq,
        min(started_at) as started_at,
        max(ended_at) as ended_at,
        max(case when block_source = 'status' then 1 else 0 end) = 1 as has_status_block,
        max(case when block_source = 'flag' then 1 else 0 end) = 1 as has_flag_block
    from islands
    group by issue_id, island_seq

),

final as (

    select
        merged.issue_id || ':' || cast(merged.blocked_window_seq as text) as blocked_window_id,
        merged.issue_id,
        merged.blocked_window_seq,
        merged.started_at,
        merged.ended_at,
        case
            when merged.has_status_block and merged.has_flag_block then 'both'
            when merged.has_status_block then 'status'
            else 'flag'
        end as block_source,
        coalesce(merged.started_at < history_start.history_started_at, false) as is_truncated_by_history_start
    from merged
    cross join history_start

)

select * from final
