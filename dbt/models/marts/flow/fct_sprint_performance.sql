{#- One row per started sprint: scope at start, scope change, completion and carry-over
    (definitions per issue in int_sprint_issues_classified; docs/metrics.md).
    A sprint is scored (planning_accuracy) only when it is over and its start is inside the loaded history:
    a running sprint (not completed by as_of: state active, or no completeDate and an end after as_of) is not
    scored as if complete (`is_running`), and a sprint that started before the loaded Jira history begins
    (`is_truncated_by_history_start`, int_jira_history_start_derived) has an unknown commitment. Their counts
    are shown; their planning_accuracy is null, so they never reach the team weeks or the diagnosis. -#}
with

sprints as (

    select * from {{ ref('dim_sprints') }}

),

sprint_issues as (

    select * from {{ ref('int_sprint_issues_classified') }}

),

history_start as (

    select * from {{ ref('int_jira_history_start_derived') }}

),

counts as (

    select
        sprint_id,
        min(sprint_started_at) as sprint_started_at,
        min(sprint_ended_at) as sprint_ended_at,
        sum(case when is_committed then 1 else 0 end) as committed_count,
        sum(case when is_added then 1 else 0 end) as added_count,
        sum(case when is_removed then 1 else 0 end) as removed_count,
        sum(case when is_completed then 1 else 0 end) as completed_count,
        sum(case when is_completed and is_committed then 1 else 0 end) as completed_committed_count,
        sum(case when is_carried_over then 1 else 0 end) as carried_over_count
    from sprint_issues
    group by sprint_id

),

scored as (

    select
        sprints.*,
        case
            when sprints.completed_at is not null then sprints.completed_at > {{ as_of_ts() }}
            else
                coalesce(sprints.sprint_state, '') <> 'closed'
                or sprints.planned_end_at is null
                or sprints.planned_end_at > {{ as_of_ts() }}
        end as is_running,
        coalesce(sprints.started_at < history_start.history_started_at, false) as is_truncated_by_history_start
    from sprints
    cross join history_start

),

final as (

    select
        scored.sprint_id,
        scored.sprint_name,
        scored.team_id,
        scored.sprint_state,
        scored.started_at,
        coalesce(counts.sprint_ended_at, scored.completed_at, scored.planned_end_at) as evaluated_at,
        scored.completed_at,
        cast(coalesce(counts.committed_count, 0) as integer) as committed_count,
        cast(coalesce(counts.added_count, 0) as integer) as added_count,
        cast(coalesce(counts.removed_count, 0) as integer) as removed_count,
        cast(coalesce(counts.completed_count, 0) as integer) as completed_count,
        cast(coalesce(counts.completed_committed_count, 0) as integer) as completed_committed_count,
        cast(coalesce(counts.carried_over_count, 0) as integer) as carried_over_count,
        scored.is_running,
        scored.is_truncated_by_history_start,
        case
            when counts.committed_count > 0 and not scored.is_running and not scored.is_truncated_by_history_start
                then cast(round(cast(counts.completed_committed_count as numeric) / counts.committed_count, 4) as numeric(8, 4))
        end as planning_accuracy
    from scored
    left join counts on scored.sprint_id = counts.sprint_id
    where scored.started_at is not null and scored.started_at <= {{ as_of_ts() }}

)

select * from final
