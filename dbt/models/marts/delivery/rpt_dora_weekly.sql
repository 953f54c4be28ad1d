{#- The four DORA keys per team and ISO week, with sample sizes and the DORA performance band of each
    (seed dora_performance_bands). Every team with GitLab projects gets every week of dim_dates (from the first day
    of data, an earlier production deployment included, to the as_of week), zero-deployment weeks included.
    Deployment frequency and change failure rate count the same unit, production changes (fct_production_changes:
    one per pipeline); the band reads change_failure_rate (explicit and inferred attributions), the explicitly
    attributed rate is beside it. Lead time for changes reads fct_merge_requests.lead_time_for_changes_hours
    (first commit -> production: the band's basis) with GitLab's merge -> production (merge_to_deploy_hours)
    beside it, bot MRs excluded. Recovery ends when the service was restored (fct_incidents.restored_at).
    Definitions: docs/metrics.md, "Delivery and DORA". -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"), indexed for what the
    dashboards, apps and report ask (one team's days or weeks, one issue, one merge request). -#}
{{
    config(
        indexes=[
            {'columns': ['team_id', 'week_start_date']}
        ]
    )
}}
with

teams as (

    select * from {{ ref('dim_teams') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

deployments as (

    select * from {{ ref('fct_deployments') }}

),

production_changes as (

    select * from {{ ref('fct_production_changes') }}

),

merge_requests as (

    select * from {{ ref('fct_merge_requests') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}

),

bands as (

    select * from {{ ref('dora_performance_bands') }}

),

production as (

    select
        *,
        {{ utc_week_start('deployed_at') }} as week_start_date
    from deployments
    where is_successful_production

),

weeks as (

    select distinct week_start_date
    from dates

),

team_weeks as (

    select
        teams.team_id,
        weeks.week_start_date
    from teams
    cross join weeks
    where teams.has_gitlab_projects

),

deployment_day_weeks as (

    select
        team_id,
        week_start_date,
        count(distinct {{ utc_date('deployed_at') }}) as deployment_days
    from production
    group by team_id, week_start_date

),

change_weeks as (

    select
        team_id,
        week_start_date,
        count(*) as deployment_count,
        count(*) filter (where is_failed_change) as failed_deployments,
        count(*) filter (where is_explicitly_failed_change) as explicitly_failed_deployments
    from production_changes
    group by team_id, week_start_date

),

lead_time_weeks as (

    select
        team_id,
        {{ utc_week_start('deployed_at') }} as week_start_date,
        {{ percentile_of('lead_time_for_changes_hours', 0.5) }} as lead_time_p50_hours,
        {{ percentile_of('lead_time_for_changes_hours', 0.85) }} as lead_time_p85_hours,
        count(*) as lead_time_n,
        count(*) filter (where deployment_match_method = 'inferred_merge_time') as lead_time_inferred_n
    from merge_requests
    where lead_time_for_changes_hours is not null and not is_bot_author
    group by team_id, {{ utc_week_start('deployed_at') }}

),

merge_to_production_weeks as (

    select
        team_id,
        {{ utc_week_start('deployed_at') }} as week_start_date,
        {{ percentile_of('merge_to_deploy_hours', 0.5) }} as merge_to_production_p50_hours,
        {{ percentile_of('merge_to_deploy_hours', 0.85) }} as merge_to_production_p85_hours,
        count(*) as merge_to_production_n
    from merge_requests
    where merge_to_deploy_hours is not null and not is_bot_author
    group by team_id, {{ utc_week_start('deployed_at') }}

),

recovery_weeks as (

    select
        team_id,
        {{ utc_week_start('restored_at') }} as week_start_date,
        {{ percentile_of('recovery_time_hours', 0.5) }} as recovery_time_p50_hours,
        count(*) as recovery_time_n
    from incidents
    where is_deployment_caused and recovery_time_hours is not null
    group by team_id, {{ utc_week_start('restored_at') }}

),

weekly as (

    select
        team_weeks.team_id,
        team_weeks.week_start_date,
        coalesce(deployment_day_weeks.deployment_days, 0) as deployment_days,
        coalesce(change_weeks.deployment_count, 0) as deployment_count,
        coalesce(change_weeks.deployment_count, 0) as change_failure_n,
        coalesce(change_weeks.failed_deployments, 0) as failed_deployment_count,
        coalesce(change_weeks.explicitly_failed_deployments, 0) as explicitly_failed_deployment_count,
        1.0 * change_weeks.failed_deployments / nullif(change_weeks.deployment_count, 0) as change_failure_rate,
        1.0 * change_weeks.explicitly_failed_deployments / nullif(change_weeks.deployment_count, 0)
            as change_failure_rate_explicit,
        lead_time_weeks.lead_time_p50_hours,
        lead_time_weeks.lead_time_p85_hours,
        coalesce(lead_time_weeks.lead_time_n, 0) as lead_time_n,
        coalesce(lead_time_weeks.lead_time_inferred_n, 0) as lead_time_inferred_n,
        merge_to_production_weeks.merge_to_production_p50_hours,
        merge_to_production_weeks.merge_to_production_p85_hours,
        coalesce(merge_to_production_weeks.merge_to_production_n, 0) as merge_to_production_n,
        recovery_weeks.recovery_time_p50_hours,
        coalesce(recovery_weeks.recovery_time_n, 0) as recovery_time_n
    from team_weeks
    left join deployment_day_weeks
        on
            team_weeks.team_id = deployment_day_weeks.team_id
            and team_weeks.week_start_date = deployment_day_weeks.week_start_date
    left join change_weeks
        on
            team_weeks.team_id = change_weeks.team_id
            and team_weeks.week_start_date = change_weeks.week_start_date
    left join merge_to_production_weeks
        on
            team_weeks.team_id = merge_to_production_weeks.team_id
            and team_weeks.week_start_date = merge_to_production_weeks.week_start_date
    left join lead_time_weeks
        on
            team_weeks.team_id = lead_time_weeks.team_id
            and team_weeks.week_start_date = lead_time_weeks.week_start_date
    left join recovery_weeks
        on
            team_weeks.team_id = recovery_weeks.team_id
            and team_weeks.week_start_date = recovery_weeks.week_start_date

),

rolling as (

    select
        *,
        avg(deployment_count) over (
            partition by team_id order by week_start_date rows between 3 preceding and current row
        ) as deployments_per_week_4w
    from weekly

),

banded as (

    select
        rolling.*,
        {{ dora_band('deployment_frequency', 'rolling.deployments_per_week_4w') }} as deployment_frequency_band,
        {{ dora_band('lead_time_for_changes', 'rolling.lead_time_p50_hours') }} as lead_time_band,
        {{ dora_band('change_failure_rate', 'rolling.change_failure_rate') }} as change_failure_rate_band,
        {{ dora_band('failed_deployment_recovery_time', 'rolling.recovery_time_p50_hours') }} as recovery_time_band
    from rolling

),

final as (

    select
        team_id || ':' || cast(week_start_date as text) as team_week_id,
        team_id,
        week_start_date,
        deployment_days,
        deployment_count,
        {{ metric_round('deployments_per_week_4w') }} as deployments_per_week_4w,
        deployment_frequency_band,
        {{ metric_round('lead_time_p50_hours') }} as lead_time_for_changes_p50_hours,
        {{ metric_round('lead_time_p85_hours') }} as lead_time_for_changes_p85_hours,
        lead_time_n as lead_time_for_changes_n,
        lead_time_inferred_n as lead_time_for_changes_inferred_n,
        lead_time_band as lead_time_for_changes_band,
        {{ metric_round('merge_to_production_p50_hours') }} as lead_time_merge_to_production_p50_hours,
        {{ metric_round('merge_to_production_p85_hours') }} as lead_time_merge_to_production_p85_hours,
        merge_to_production_n as lead_time_merge_to_production_n,
        failed_deployment_count,
        explicitly_failed_deployment_count,
        change_failure_n,
        {{ metric_round('change_failure_rate') }} as change_failure_rate,
        {{ metric_round('change_failure_rate_explicit') }} as change_failure_rate_explicit,
        change_failure_rate_band,
        {{ metric_round('recovery_time_p50_hours') }} as recovery_time_p50_hours,
        recovery_time_n,
        recovery_time_band
    from banded

)

select * from final
