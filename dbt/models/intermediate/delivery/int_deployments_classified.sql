{#- Every deployment with its environment class (seed environment_classes: the first regex, by priority, that
    matches the lower-cased environment name; else GitLab's environment tier when it is production or staging;
    else other), its team, and when it reached its environment. `is_successful_production` is the one
    definition of a deployment that reached production; `pipeline_or_deployment_id` is what deployment frequency
    counts once (a pipeline that deploys two regions is one deployment). -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"): read by seven models (dim_dates, deployments, incidents, DORA...); computed once instead of once per reader and per test. -#}
{{ config(materialized='table') }}
with

deployments as (

    select * from {{ ref('stg_gitlab__deployments') }}

),

projects as (

    select * from {{ ref('stg_gitlab__projects') }}

),

environment_classes as (

    select * from {{ ref('environment_classes') }}

),

pattern_matches as (

    select distinct on (deployments.deployment_id)
        deployments.deployment_id,
        environment_classes.environment_class
    from deployments
    inner join environment_classes
        on lower(trim(deployments.environment_name)) ~ environment_classes.environment_pattern
    order by deployments.deployment_id asc, environment_classes.priority asc

),

classified as (

    select
        deployments.deployment_id,
        deployments.deployment_iid,
        deployments.project_id,
        projects.team_id,
        projects.path_with_namespace as project_path,
        projects.project_name,
        deployments.environment_name,
        coalesce(
            pattern_matches.environment_class,
            case lower(deployments.environment_tier) when 'production' then 'production' when 'staging' then 'staging' end,
            'other'
        ) as environment_class,
        case
            when pattern_matches.environment_class is not null then 'name_pattern'
            when lower(deployments.environment_tier) in ('production', 'staging') then 'environment_tier'
            else 'default'
        end as environment_class_source,
        deployments.status,
        deployments.status = 'success' as is_successful,
        deployments.ref,
        deployments.commit_sha,
        deployments.pipeline_id,
        deployments.created_at,
        deployments.finished_at,
        case when deployments.status = 'success' then coalesce(deployments.finished_at, deployments.updated_at) end
            as deployed_at
    from deployments
    left join projects on deployments.project_id = projects.project_id
    left join pattern_matches on deployments.deployment_id = pattern_matches.deployment_id

),

final as (

    select
        *,
        coalesce(environment_class = 'production' and is_successful and deployed_at is not null, false)
            as is_successful_production,
        coalesce(pipeline_id, deployment_id) as pipeline_or_deployment_id
    from classified

)

select * from final
