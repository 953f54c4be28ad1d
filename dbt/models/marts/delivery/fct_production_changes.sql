{#- One row per production change: the successful production deployments of one pipeline counted once
    (int_deployments_classified.pipeline_or_deployment_id: a pipeline that deploys two regions is one change),
    the unit of both sides of the DORA deployment frequency and change failure rate. A change failed when an
    incident is attributed to any of its deployments (fct_incidents, inferred within var
    `incident_attribution_window_hours`), and failed explicitly when one of those incidents names the deployment,
    its sha or its merge request. It counts in the week of its first production deployment. -#}
with

deployments as (

    select * from {{ ref('int_deployments_classified') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}

),

production as (

    select * from deployments
    where is_successful_production

),

caused as (

    select
        deployment_id,
        count(*) as incident_count,
        count(*) filter (where is_explicitly_attributed) as explicit_incident_count
    from incidents
    where deployment_id is not null
    group by deployment_id

),

grouped as (

    select
        production.pipeline_or_deployment_id,
        min(production.team_id) as team_id,
        min(production.project_id) as project_id,
        min(production.deployed_at) as first_deployed_at,
        max(production.deployed_at) as last_deployed_at,
        count(*) as production_deployment_count,
        string_agg(production.environment_name, ', ' order by production.environment_name) as environment_names,
        coalesce(sum(caused.incident_count), 0) as incident_count,
        coalesce(sum(caused.explicit_incident_count), 0) as explicit_incident_count
    from production
    left join caused on production.deployment_id = caused.deployment_id
    group by production.pipeline_or_deployment_id

),

final as (

    select
        pipeline_or_deployment_id as production_change_id,
        team_id,
        project_id,
        first_deployed_at,
        last_deployed_at,
        {{ utc_week_start('first_deployed_at') }} as week_start_date,
        production_deployment_count,
        environment_names,
        cast(incident_count as integer) as incident_count,
        cast(explicit_incident_count as integer) as explicit_incident_count,
        incident_count > 0 as is_failed_change,
        explicit_incident_count > 0 as is_explicitly_failed_change
    from grouped

)

select * from final
