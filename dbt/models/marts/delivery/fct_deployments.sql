{#- One row per GitLab deployment: environment class, outcome, the merge requests it first brought to production,
    their lead time for changes (fct_merge_requests.lead_time_for_changes_hours), and the incidents attributed to
    it. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"), indexed for what the
    dashboards, apps and report ask (one team's days or weeks, one issue, one merge request). -#}
{{
    config(
        indexes=[
            {'columns': ['deployment_id']},
            {'columns': ['team_id', 'deployed_at']}
        ]
    )
}}
with

deployments as (

    select * from {{ ref('int_deployments_classified') }}

),

mr_deployments as (

    select * from {{ ref('int_merge_request_deployments_matched') }}

),

merge_requests as (

    select * from {{ ref('fct_merge_requests') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}

),

shipped as (

    select
        mr_deployments.deployment_id,
        count(*) as merge_request_count,
        count(*) filter (where mr_deployments.match_method = 'inferred_merge_time') as inferred_merge_request_count,
        {{ percentile_of('merge_requests.lead_time_for_changes_hours', 0.5) }} as lead_time_p50_hours,
        {{ percentile_of('merge_requests.lead_time_for_changes_hours', 0.85) }} as lead_time_p85_hours,
        max(merge_requests.lead_time_for_changes_hours) as lead_time_max_hours
    from mr_deployments
    left join merge_requests on mr_deployments.merge_request_id = merge_requests.merge_request_id
    group by mr_deployments.deployment_id

),

caused as (

    select
        deployment_id,
        count(*) as incident_count,
        string_agg(issue_key, ', ' order by issue_key) as incident_keys
    from incidents
    where deployment_id is not null
    group by deployment_id

),

pipeline_firsts as (

    select
        deployment_id,
        row_number() over (
            partition by pipeline_or_deployment_id, environment_class, is_successful
            order by deployed_at, created_at, deployment_id
        ) = 1 as is_first_of_pipeline
    from deployments

),

final as (

    select
        deployments.deployment_id,
        deployments.deployment_iid,
        deployments.project_id,
        deployments.project_path,
        deployments.team_id,
        deployments.environment_name,
        deployments.environment_class,
        deployments.environment_class_source,
        deployments.environment_class = 'production' as is_production,
        deployments.status,
        deployments.is_successful,
        deployments.is_successful_production,
        deployments.ref,
        deployments.commit_sha,
        deployments.pipeline_id,
        deployments.pipeline_or_deployment_id,
        pipeline_firsts.is_first_of_pipeline,
        deployments.created_at,
        deployments.finished_at,
        deployments.deployed_at,
        coalesce(shipped.merge_request_count, 0) as merge_request_count,
        coalesce(shipped.inferred_merge_request_count, 0) as inferred_merge_request_count,
        {{ metric_round('shipped.lead_time_p50_hours') }} as lead_time_p50_hours,
        {{ metric_round('shipped.lead_time_p85_hours') }} as lead_time_p85_hours,
        {{ metric_round('shipped.lead_time_max_hours') }} as lead_time_max_hours,
        coalesce(caused.incident_count, 0) as incident_count,
        caused.incident_keys,
        coalesce(caused.incident_count, 0) > 0 as has_incident
    from deployments
    left join shipped on deployments.deployment_id = shipped.deployment_id
    left join caused on deployments.deployment_id = caused.deployment_id
    left join pipeline_firsts on deployments.deployment_id = pipeline_firsts.deployment_id

)

select * from final
