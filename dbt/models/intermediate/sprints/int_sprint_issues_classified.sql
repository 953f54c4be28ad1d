{#- One row per (sprint, issue) for every issue that was in a started sprint at any time between its
    start and its end (completeDate, else endDate, capped at as_of for a sprint still running), with the
    sprint-scope flags the sprint report counts:
    committed = in the sprint at its start; added = joined after the start, not committed;
    removed = in it at some point but no longer at the end; completed = in it at the end and in a done
    status category at the end; carried over = in it at the end, not done, and also in a later sprint. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"): read by dim_sprints and fct_sprint_performance; as_of-dependent; computed once instead of once per reader and per test. -#}
{{ config(materialized='table') }}
with

sprints as (

    select * from {{ ref('int_sprints_unioned') }}

),

memberships as (

    select * from {{ ref('int_sprint_memberships_reconstructed') }}

),

intervals as (

    select * from {{ ref('int_status_intervals_derived') }}

),

sprint_bounds as (

    select
        sprint_id,
        started_at as sprint_started_at,
        greatest(
            started_at,
            coalesce(completed_at, least(coalesce(planned_end_at, {{ as_of_ts() }}), {{ as_of_ts() }}))
        ) as sprint_ended_at
    from sprints
    where started_at is not null and started_at <= {{ as_of_ts() }}

),

issue_membership_flags as (

    select
        sprint_bounds.sprint_id,
        memberships.issue_id,
        sprint_bounds.sprint_started_at,
        sprint_bounds.sprint_ended_at,
        bool_or(
            memberships.added_at <= sprint_bounds.sprint_started_at
            and (memberships.removed_at is null or memberships.removed_at > sprint_bounds.sprint_started_at)
        ) as is_committed,
        bool_or(
            memberships.added_at > sprint_bounds.sprint_started_at
            and memberships.added_at <= sprint_bounds.sprint_ended_at
        ) as was_added_during,
        bool_or(
            memberships.added_at <= sprint_bounds.sprint_ended_at
            and (memberships.removed_at is null or memberships.removed_at >= sprint_bounds.sprint_ended_at)
        ) as is_in_sprint_at_end
    from sprint_bounds
    inner join memberships
        on
            sprint_bounds.sprint_id = memberships.sprint_id
            and sprint_bounds.sprint_ended_at >= memberships.added_at
            and (memberships.removed_at is null or sprint_bounds.sprint_started_at < memberships.removed_at)
    group by
        sprint_bounds.sprint_id,
        memberships.issue_id,
        sprint_bounds.sprint_started_at,
        sprint_bounds.sprint_ended_at

),

status_at_end as (

    select
        issue_membership_flags.sprint_id,
        issue_membership_flags.issue_id,
        max(intervals.status_category) as status_category_at_end
    from issue_membership_flags
    inner join intervals
        on
            issue_membership_flags.issue_id = intervals.issue_id
            and issue_membership_flags.sprint_ended_at >= intervals.started_at
            and (intervals.is_current or issue_membership_flags.sprint_ended_at < intervals.ended_at)
    group by issue_membership_flags.sprint_id, issue_membership_flags.issue_id

),

later_sprints as (

    select distinct
        issue_membership_flags.sprint_id,
        issue_membership_flags.issue_id
    from issue_membership_flags
    inner join memberships as later_membership
        on
            issue_membership_flags.issue_id = later_membership.issue_id
            and issue_membership_flags.sprint_id <> later_membership.sprint_id
    inner join sprints as later_sprint
        on later_membership.sprint_id = later_sprint.sprint_id
    where
        later_sprint.started_at is null
        or later_sprint.started_at > issue_membership_flags.sprint_started_at

),

final as (

    select
        issue_membership_flags.sprint_id || ':' || issue_membership_flags.issue_id as sprint_issue_id,
        issue_membership_flags.sprint_id,
        issue_membership_flags.issue_id,
        issue_membership_flags.sprint_started_at,
        issue_membership_flags.sprint_ended_at,
        issue_membership_flags.is_committed,
        not issue_membership_flags.is_committed and issue_membership_flags.was_added_during as is_added,
        not issue_membership_flags.is_in_sprint_at_end as is_removed,
        issue_membership_flags.is_in_sprint_at_end,
        coalesce(status_at_end.status_category_at_end = 'done', false) as is_done_at_end,
        issue_membership_flags.is_in_sprint_at_end
        and coalesce(status_at_end.status_category_at_end = 'done', false) as is_completed,
        issue_membership_flags.is_in_sprint_at_end
        and not coalesce(status_at_end.status_category_at_end = 'done', false)
        and later_sprints.issue_id is not null as is_carried_over
    from issue_membership_flags
    left join status_at_end
        on
            issue_membership_flags.sprint_id = status_at_end.sprint_id
            and issue_membership_flags.issue_id = status_at_end.issue_id
    left join later_sprints
        on
            issue_membership_flags.sprint_id = later_sprints.sprint_id
            and issue_membership_flags.issue_id = later_sprints.issue_id

)

select * from final
