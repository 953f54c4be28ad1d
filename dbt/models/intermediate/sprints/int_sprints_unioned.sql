{#- Every known sprint once: the agile sprint documents, plus sprints only seen inside issues' sprint
    field (their copy of name, state and dates is used). The sprint document wins when both exist. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"): read by three sprint models; computed once instead of once per reader and per test. -#}
{{ config(materialized='table') }}
with

sprints as (

    select * from {{ ref('stg_jira__sprints') }}

),

issue_sprints as (

    select * from {{ ref('stg_jira__issue_sprints') }}

),

field_sprints as (

    select
        sprint_id,
        sprint_name,
        sprint_state,
        board_id,
        started_at,
        planned_end_at,
        completed_at,
        row_number() over (
            partition by sprint_id
            order by completed_at desc nulls last, started_at desc nulls last, issue_id asc
        ) as copy_seq
    from issue_sprints

),

unioned as (

    select
        sprint_id,
        sprint_name,
        sprint_state,
        board_id,
        sprint_goal,
        started_at,
        planned_end_at,
        completed_at,
        'sprint_document' as known_from
    from sprints

    union all

    select
        field_sprints.sprint_id,
        field_sprints.sprint_name,
        field_sprints.sprint_state,
        field_sprints.board_id,
        cast(null as text) as sprint_goal,
        field_sprints.started_at,
        field_sprints.planned_end_at,
        field_sprints.completed_at,
        'issue_field' as known_from
    from field_sprints
    where
        field_sprints.copy_seq = 1
        and not exists (
            select 1 from sprints
            where sprints.sprint_id = field_sprints.sprint_id
        )

),

final as (

    select * from unioned

)

select * from final
