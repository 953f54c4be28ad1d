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

resolved as (

    {#- Jira incidents resolve at their done time; GitLab incidents (no issue_id) at closed_at -#}
    select
        attributed.*,
        coalesce(lifecycle.done_at, attributed.closed_at) as resolved_at
    from attributed
    left join lifecycle on attributed.issue_id = lifecycle.issue_id

),

final as (

    select
        resolved.incident_id,
        resolved.incident_source,
        resolved.issue_key,
        resolved.team_id,
        resolved.created_at,
        resolved.resolved_at,
        resolved.resolved_at is not null as is_resolved,
        resolved.deployment_id,
        resolved.deployed_at,
        resolved.attribution_method,
        resolved.is_explicitly_attributed,
        resolved.deployment_id is not null as is_deployment_caused,
        {{ clamped_hours('resolved.created_at', 'resolved.resolved_at') }} as time_to_restore_hours,
        case
            when resolved.deployment_id is not null
                then {{ clamped_hours('resolved.deployed_at', 'resolved.resolved_at') }}
        end as recovery_time_hours
    from resolved

)

select * from final
