{#- Each merged MR that reached production, with the FIRST successful production deployment that includes it.
    `deployment_relation`: GitLab's deployment -> merge requests relation lists it. Otherwise
    `inferred_merge_time`: the first successful production deployment of the MR's project that started at or
    after the merge, among deployments for which no relation was loaded (a deployment whose relation is known
    and does not list the MR did not ship it). -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"): read by five models; computed once instead of once per reader and per test. -#}
{{ config(materialized='table') }}
with

deployments as (

    select * from {{ ref('int_deployments_classified') }}

),

relations as (

    select * from {{ ref('stg_gitlab__deployment_merge_requests') }}

),

merge_requests as (

    select * from {{ ref('stg_gitlab__merge_requests') }}

),

production as (

    select * from deployments
    where is_successful_production

),

deployments_with_relation as (

    select distinct deployment_id
    from relations

),

by_relation as (

    select distinct on (relations.merge_request_id)
        relations.merge_request_id,
        production.deployment_id,
        production.project_id,
        production.deployed_at,
        'deployment_relation' as match_method
    from relations
    inner join production on relations.deployment_id = production.deployment_id
    order by relations.merge_request_id asc, production.deployed_at asc, production.deployment_id asc

),

by_merge_time as (

    select distinct on (merge_requests.merge_request_id)
        merge_requests.merge_request_id,
        production.deployment_id,
        production.project_id,
        production.deployed_at,
        'inferred_merge_time' as match_method
    from merge_requests
    inner join production
        on
            merge_requests.project_id = production.project_id
            and coalesce(production.created_at, production.deployed_at) >= merge_requests.merged_at
    left join deployments_with_relation on production.deployment_id = deployments_with_relation.deployment_id
    where
        merge_requests.merged_at is not null
        and deployments_with_relation.deployment_id is null
        and merge_requests.merge_request_id not in (select by_relation.merge_request_id from by_relation)
    order by merge_requests.merge_request_id asc, production.deployed_at asc, production.deployment_id asc

),

final as (

    select * from by_relation
    union all
    select * from by_merge_time

)

select * from final
