{#- One row per sprint, with its team: the most common team of the issues that were ever in it. -#}
with

sprints as (

    select * from {{ ref('int_sprints_unioned') }}

),

memberships as (

    select * from {{ ref('int_sprint_memberships_reconstructed') }}

),

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

sprint_teams as (

    select
        memberships.sprint_id,
        issues.team_id,
        row_number() over (
            partition by memberships.sprint_id
            order by count(distinct memberships.issue_id) desc, issues.team_id
        ) as team_rank
    from memberships
    inner join issues on memberships.issue_id = issues.issue_id
    group by memberships.sprint_id, issues.team_id

),

board_teams as (

    select
        sprints.board_id,
        sprint_teams.team_id,
        row_number() over (
            partition by sprints.board_id
            order by count(*) desc, sprint_teams.team_id
        ) as team_rank
    from sprints
    inner join sprint_teams on sprints.sprint_id = sprint_teams.sprint_id and sprint_teams.team_rank = 1
    where sprints.board_id is not null
    group by sprints.board_id, sprint_teams.team_id

),

final as (

    select
        sprints.sprint_id,
        sprints.sprint_name,
        sprints.sprint_state,
        sprints.board_id,
        sprints.sprint_goal,
        coalesce(sprint_teams.team_id, board_teams.team_id) as team_id,
        sprints.started_at,
        sprints.planned_end_at,
        sprints.completed_at,
        sprints.known_from
    from sprints
    left join sprint_teams on sprints.sprint_id = sprint_teams.sprint_id and sprint_teams.team_rank = 1
    left join board_teams on sprints.board_id = board_teams.board_id and board_teams.team_rank = 1

)

select * from final
