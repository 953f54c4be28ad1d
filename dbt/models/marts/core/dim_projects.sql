{#- Jira projects (seen on issues) and GitLab projects, one row each, with the owning team:
    a Jira project's team is the most common team of its issues; a GitLab project's is its namespace. -#}
with

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

gitlab_projects as (

    select * from {{ ref('stg_gitlab__projects') }}

),

jira_project_teams as (

    select
        project_id,
        team_id,
        count(*) as issue_count,
        row_number() over (partition by project_id order by count(*) desc, team_id) as team_rank
    from issues
    where project_id is not null
    group by project_id, team_id

),

jira_projects as (

    select
        issues.project_id,
        max(issues.project_key) as project_key,
        max(issues.project_name) as project_name,
        count(*) as issue_count
    from issues
    where issues.project_id is not null
    group by issues.project_id

),

unioned as (

    select
        'jira:' || jira_projects.project_id as project_id,
        'jira' as source_system,
        jira_projects.project_id as source_project_id,
        jira_projects.project_key,
        jira_projects.project_name,
        jira_project_teams.team_id,
        cast(null as timestamptz) as created_at
    from jira_projects
    left join jira_project_teams
        on jira_projects.project_id = jira_project_teams.project_id and jira_project_teams.team_rank = 1

    union all

    select
        'gitlab:' || project_id as project_id,
        'gitlab' as source_system,
        project_id as source_project_id,
        path_with_namespace as project_key,
        project_name,
        team_id,
        created_at
    from gitlab_projects

),

final as (

    select * from unioned

)

select * from final
