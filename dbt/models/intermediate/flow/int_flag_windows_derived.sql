{#- One row per window in which an issue was flagged (Jira "Flagged" = Impediment).
    Built like the status intervals from the `Flagged` changelog items: before the first item the issue
    is in that item's from-state (assumed since `created`); a non-empty toString sets the flag, an empty
    one clears it. The issue's current flag field closes the gap when history is missing: a flagged
    issue whose last known state is unflagged (or that has no Flagged history) is flagged from its last
    flag change (or `created`) to as_of. Flag windows of one issue never overlap. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"): read by the blocked windows and the lifecycle; as_of-dependent (open flags end at as_of); computed once instead of once per reader and per test. -#}
{{ config(materialized='table') }}
with

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

changelog_items as (

    select * from {{ ref('stg_jira__changelog_items') }}

),

flag_items as (

    select
        changelog_items.issue_id,
        changelog_items.history_id,
        changelog_items.item_seq,
        changelog_items.changed_at,
        coalesce(trim(changelog_items.from_string), '') <> '' as was_flagged,
        coalesce(trim(changelog_items.to_string), '') <> '' as is_flagged_after
    from changelog_items
    inner join issues on changelog_items.issue_id = issues.issue_id
    where lower(changelog_items.field_name) = 'flagged' and changelog_items.changed_at is not null

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by issue_id, changed_at, was_flagged, is_flagged_after
            order by {{ numeric_id('history_id') }} nulls last, history_id, item_seq
        ) as duplicate_seq
    from flag_items

),

ordered as (

    select
        issue_id,
        changed_at,
        was_flagged,
        is_flagged_after,
        row_number() over (
            partition by issue_id
            order by changed_at, {{ numeric_id('history_id') }} nulls last, history_id, item_seq
        ) as change_seq,
        count(*) over (partition by issue_id) as change_count
    from deduplicated
    where duplicate_seq = 1

),

first_states as (

    select
        issues.issue_id,
        0 as state_seq,
        first_change.was_flagged as is_flagged,
        least(issues.created_at, first_change.changed_at) as started_at,
        first_change.changed_at as ended_at
    from issues
    inner join ordered as first_change
        on issues.issue_id = first_change.issue_id and first_change.change_seq = 1

),

change_states as (

    select
        issue_id,
        cast(change_seq as integer) as state_seq,
        is_flagged_after as is_flagged,
        changed_at as started_at,
        lead(changed_at) over (partition by issue_id order by change_seq) as ended_at
    from ordered

),

current_flag_states as (

    select
        issues.issue_id,
        cast(coalesce(last_change.change_seq, 0) + 1 as integer) as state_seq,
        true as is_flagged,
        coalesce(last_change.changed_at, issues.created_at) as started_at,
        cast(null as timestamptz) as ended_at
    from issues
    left join ordered as last_change
        on issues.issue_id = last_change.issue_id and last_change.change_seq = last_change.change_count
    where issues.is_flagged and not coalesce(last_change.is_flagged_after, false)

),

unioned as (

    select * from first_states
    union all
    select * from change_states
    union all
    select * from current_flag_states

),

final as (

    select
        issue_id || ':' || cast(state_seq as text) as flag_window_id,
        issue_id,
        state_seq as flag_window_seq,
        started_at as flagged_at,
        coalesce(ended_at, greatest(started_at, {{ as_of_ts() }})) as unflagged_at,
        ended_at is null as is_current
    from unioned
    where is_flagged

)

select * from final
