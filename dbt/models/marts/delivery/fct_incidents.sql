{#- One row per incident (Jira issue of a type in var `incident_issue_types`, or GitLab incident): when it started
    and was resolved (Jira: first entry into a done status; GitLab: closed),
    the production deployment it is attributed to and how (`attribution_method`), and the recovery times. -#}
with

attributed as (

    select * from {{ ref('int_incidents_attributed') }}

),

lifecycle as (

    select * from {{ ref('fct_issue_lifecycle') }}

),

resolutions as (

    select
        attributed.incident_id,
        case
            when attributed.incident_source = 'jira' then lifecycle.done_at
            else attributed.closed_at
        end as resolved_at
    from attributed
    left join lifecycle on attributed.issue_id = lifecycle.issue_id

),

final as (

    select
        attributed.incident_id,
        attributed.incident_source,
        attributed.issue_key,
        attributed.team_id,
        attributed.created_at,
        resolutions.resolved_at,
        resolutions.resolved_at is not null as is_resolved,
        attributed.deployment_id,
        attributed.deployed_at,
        attributed.attribution_method,
        attributed.is_explicitly_attributed,
        attributed.deployment_id is not null as is_deployment_caused,
        {{ clamped_hours('attributed.created_at', 'resolutions.resolved_at') }} as time_to_restore_hours,
        case
            when attributed.deployment_id is not null
                then {{ clamped_hours('attributed.deployed_at', 'resolutions.resolved_at') }}
        end as recovery_time_hours
    from attributed
    inner join resolutions on attributed.incident_id = resolutions.incident_id

)

select * from final
