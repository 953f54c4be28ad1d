{#- One row per incident (Jira issue of a type in var `incident_issue_types`): when it started and was resolved,
    the production deployment it is attributed to and how (`attribution_method`), and the recovery times. -#}
with

attributed as (

    select * from {{ ref('int_incidents_attributed') }}

),

lifecycle as (

    select * from {{ ref('fct_issue_lifecycle') }}

),

final as (

    select
        attributed.issue_id as incident_id,
        attributed.issue_key,
        attributed.team_id,
        attributed.created_at,
        lifecycle.done_at as resolved_at,
        lifecycle.done_at is not null as is_resolved,
        attributed.deployment_id,
        attributed.deployed_at,
        attributed.attribution_method,
        attributed.is_explicitly_attributed,
        attributed.deployment_id is not null as is_deployment_caused,
        {{ clamped_hours('attributed.created_at', 'lifecycle.done_at') }} as time_to_restore_hours,
        case
            when attributed.deployment_id is not null
                then {{ clamped_hours('attributed.deployed_at', 'lifecycle.done_at') }}
        end as recovery_time_hours
    from attributed
    left join lifecycle on attributed.issue_id = lifecycle.issue_id

)

select * from final
