{#- Every incident once, from both trackers, with the lower-cased text attribution searches: Jira issues that are
    incidents (stg_jira__issues.is_incident; `incident_id` = the Jira issue id; text = summary, description,
    labels and components) and GitLab incidents (`issue_type` = incident; `incident_id` = `gitlab:<global id>`,
    key = `<project path>#<iid>`, team = its project's team, closed while closed; text = title, description,
    labels). -#}
with

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

gitlab_issues as (

    select * from {{ ref('stg_gitlab__issues') }}

),

projects as (

    select * from {{ ref('stg_gitlab__projects') }}

),

jira_incidents as (

    select
        issue_id as incident_id,
        'jira' as incident_source,
        issue_id,
        issue_key,
        team_id,
        cast(null as text) as project_id,
        created_at,
        cast(null as timestamptz) as closed_at,
        lower(concat_ws(' ', summary, description_text, labels_text, components_text)) as incident_text
    from issues
    where is_incident

),

gitlab_incidents as (

    select
        'gitlab:' || gitlab_issues.gitlab_issue_id as incident_id,
        'gitlab' as incident_source,
        cast(null as text) as issue_id,
        gitlab_issues.issue_reference as issue_key,
        projects.team_id,
        gitlab_issues.project_id,
        gitlab_issues.created_at,
        case when gitlab_issues.state = 'closed' then gitlab_issues.closed_at end as closed_at,
        lower(concat_ws(' ', gitlab_issues.title, gitlab_issues.description_text, gitlab_issues.labels_text))
            as incident_text
    from gitlab_issues
    left join projects on gitlab_issues.project_id = projects.project_id
    where gitlab_issues.issue_type = 'incident'

),

final as (

    select * from jira_incidents
    union all
    select * from gitlab_incidents

)

select * from final
