{#- Each incident (int_incidents_unioned: Jira and GitLab) attributed to the production deployment that caused it.
    Precedence (the first that applies wins, and `attribution_method` says which):
    1 explicit_deployment           the text names `<project path>#<deployment iid>` of a production deployment;
    2 explicit_sha                  the text contains a 7-40 hex prefix of a production deployment's sha;
    3 explicit_merge_request        the text names `<project path>!<mr iid>` of an MR that reached production;
    4 inferred_last_deployment      the last successful production deployment, before the incident, of the
                                    service: the team's GitLab project whose name appears in the text, and
                                    for a GitLab incident the project it is filed in;
    5 inferred_team_last_deployment no team project is named at all: the team's last successful production
                                    deployment before the incident (only with var `incident_attribution_team_fallback`: true);
    else unattributed (also when a named service has no deployment in the window: another project's release
    is not blamed for it). Inference only looks back var `incident_attribution_window_hours` (default 24).
    Every rule only considers deployments finished at or before the incident was opened: a reference to a later
    deployment or MR (the fix, the rollback) is not the cause, and the next rule is tried.
    The text searched is int_incidents_unioned.incident_text. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"): read by fct_incidents and the DORA report; computed once instead of once per reader and per test. -#}
{{ config(materialized='table') }}
{%- set window_hours = var('incident_attribution_window_hours') -%}
{%- set team_fallback = var('incident_attribution_team_fallback') -%}
{#- The precedence, first wins: each rule's candidate CTE and the attribution_method it gives. -#}
{%- set attribution_rules = [
    {'method': 'explicit_deployment', 'candidates': 'deployment_refs'},
    {'method': 'explicit_sha', 'candidates': 'sha_refs'},
    {'method': 'explicit_merge_request', 'candidates': 'merge_request_refs'},
    {'method': 'inferred_last_deployment', 'candidates': 'service_deployments'},
    {'method': 'inferred_team_last_deployment', 'candidates': 'team_deployments'},
] -%}
with

incidents as (

    select * from {{ ref('int_incidents_unioned') }}

),

deployments as (

    select * from {{ ref('int_deployments_classified') }}

),

mr_deployments as (

    select * from {{ ref('int_merge_request_deployments_matched') }}

),

merge_requests as (

    select * from {{ ref('stg_gitlab__merge_requests') }}

),

projects as (

    select * from {{ ref('stg_gitlab__projects') }}

),

production as (

    select * from deployments
    where is_successful_production

),

deployment_refs as (

    select distinct
        incidents.incident_id,
        production.deployment_id,
        production.deployed_at
    from incidents
    cross join lateral regexp_matches(incidents.incident_text, '([a-z0-9_./-]+)#([0-9]+)', 'g') as ref_match (parts)
    inner join production
        on
            lower(production.project_path) = ref_match.parts[1]
            and production.deployment_iid = ref_match.parts[2]
            and incidents.created_at >= production.deployed_at

),

sha_refs as (

    select distinct
        incidents.incident_id,
        production.deployment_id,
        production.deployed_at
    from incidents
    cross join lateral regexp_matches(incidents.incident_text, '(?<![0-9a-z])([0-9a-f]{7,40})(?![0-9a-z])', 'g') as sha_match (parts)
    inner join production
        on
            -- implied by the prefix match below (every match has at least 7 characters); an equality the
            -- planner can hash, instead of testing every deployment against every hex token
            left(lower(production.commit_sha), 7) = left(sha_match.parts[1], 7)
            and lower(production.commit_sha) like sha_match.parts[1] || '%'
            and incidents.created_at >= production.deployed_at

),

merge_request_refs as (

    select distinct
        incidents.incident_id,
        mr_deployments.deployment_id,
        mr_deployments.deployed_at
    from incidents
    cross join lateral regexp_matches(incidents.incident_text, '([a-z0-9_./-]+)!([0-9]+)', 'g') as mr_match (parts)
    inner join projects on lower(projects.path_with_namespace) = mr_match.parts[1]
    inner join merge_requests
        on projects.project_id = merge_requests.project_id and merge_requests.merge_request_iid = mr_match.parts[2]
    inner join mr_deployments
        on
            merge_requests.merge_request_id = mr_deployments.merge_request_id
            and incidents.created_at >= mr_deployments.deployed_at

),

named_services as (

    select
        incidents.incident_id,
        incidents.project_id
    from incidents
    where incidents.project_id is not null
    union
    select
        incidents.incident_id,
        projects.project_id
    from incidents
    inner join projects
        on
            incidents.team_id = projects.team_id
            and incidents.incident_text ~ (
                '(^|[^a-z0-9])' || regexp_replace(lower(projects.project_name), '([^a-z0-9])', '\\\1', 'g')
                || '([^a-z0-9]|$)'
            )

),

service_deployments as (

    select distinct on (incidents.incident_id)
        incidents.incident_id,
        production.deployment_id,
        production.deployed_at
    from incidents
    inner join named_services on incidents.incident_id = named_services.incident_id
    inner join production
        on
            named_services.project_id = production.project_id
            and incidents.created_at >= production.deployed_at
            and production.deployed_at > incidents.created_at - interval '{{ window_hours }} hours'
    order by incidents.incident_id asc, production.deployed_at desc, production.deployment_id desc

),

team_deployments as (

    select distinct on (incidents.incident_id)
        incidents.incident_id,
        production.deployment_id,
        production.deployed_at
    from incidents
    inner join production
        on
            incidents.team_id = production.team_id
            and incidents.created_at >= production.deployed_at
            and production.deployed_at > incidents.created_at - interval '{{ window_hours }} hours'
    left join named_services on incidents.incident_id = named_services.incident_id
    where
        named_services.incident_id is null
        and {{ 'true' if team_fallback else 'false' }}
    order by incidents.incident_id asc, production.deployed_at desc, production.deployment_id desc

),

candidates as (

    {% for rule in attribution_rules %}
        select
            incident_id,
            deployment_id,
            deployed_at,
            {{ loop.index }} as precedence,
            '{{ rule.method }}' as attribution_method
        from {{ rule.candidates }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

chosen as (

    select distinct on (incident_id)
        incident_id,
        deployment_id,
        deployed_at,
        attribution_method
    from candidates
    order by incident_id asc, precedence asc, deployed_at desc, deployment_id asc

),

final as (

    select
        incidents.incident_id,
        incidents.incident_source,
        incidents.issue_id,
        incidents.issue_key,
        incidents.team_id,
        incidents.project_id,
        incidents.created_at,
        incidents.closed_at,
        chosen.deployment_id,
        chosen.deployed_at,
        coalesce(chosen.attribution_method, 'unattributed') as attribution_method,
        coalesce(chosen.attribution_method like 'explicit%', false) as is_explicitly_attributed
    from incidents
    left join chosen on incidents.incident_id = chosen.incident_id

)

select * from final
