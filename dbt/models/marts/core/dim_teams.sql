{#- Every team: slugs of Jira team-field names, fallback project-key teams of issues without a team,
    and GitLab namespaces (namespace.path). -#}
with

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

gitlab_projects as (

    select * from {{ ref('stg_gitlab__projects') }}

),

jira_teams as (

    select
        team_id,
        coalesce(team_name, project_key) as team_name,
        team_name is null as is_project_fallback,
        'jira' as source_system
    from issues
    where team_id is not null

),

gitlab_teams as (

    select
        team_id,
        coalesce(namespace_name, namespace_path) as team_name,
        false as is_project_fallback,
        'gitlab' as source_system
    from gitlab_projects
    where team_id is not null

),

unioned as (

    select * from jira_teams
    union all
    select * from gitlab_teams

),

final as (

    select
        team_id,
        min(team_name) as team_name,
        max(case when source_system = 'jira' then 1 else 0 end) = 1 as has_jira_issues,
        max(case when source_system = 'gitlab' then 1 else 0 end) = 1 as has_gitlab_projects,
        min(case when is_project_fallback then 1 else 0 end) = 1 as is_project_fallback
    from unioned
    group by team_id

)

select * from final
