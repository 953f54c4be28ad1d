{#- One row per started sprint: scope at start, scope change, completion and carry-over
    (definitions per issue in int_sprint_issues_classified; docs/metrics.md). -#}
with

sprints as (

    select * from {{ ref('dim_sprints') }}

),

sprint_issues as (

    select * from {{ ref('int_sprint_issues_classified') }}

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

final as (

    select
        sprints.sprint_id,
        sprints.sprint_name,
        sprints.team_id,
        sprints.sprint_state,
        sprints.started_at,
        coalesce(counts.sprint_ended_at, sprints.completed_at, sprints.planned_end_at) as evaluated_at,
        sprints.completed_at,
        cast(coalesce(counts.committed_count, 0) as integer) as committed_count,
        cast(coalesce(counts.added_count, 0) as integer) as added_count,
        cast(coalesce(counts.removed_count, 0) as integer) as removed_count,
        cast(coalesce(counts.completed_count, 0) as integer) as completed_count,
        cast(coalesce(counts.completed_committed_count, 0) as integer) as completed_committed_count,
        cast(coalesce(counts.carried_over_count, 0) as integer) as carried_over_count,
        case
            when counts.committed_count > 0
                then cast(round(cast(counts.completed_committed_count as numeric) / counts.committed_count, 4) as numeric(8, 4))
        end as planning_accuracy
    from sprints
    left join counts on sprints.sprint_id = counts.sprint_id
    where sprints.started_at is not null and sprints.started_at <= {{ as_of_ts() }}

)

select * from final
