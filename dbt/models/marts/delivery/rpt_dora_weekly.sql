{#- The four DORA keys per team and ISO week, with sample sizes and the DORA performance band of each
    (seed dora_performance_bands). Every team with GitLab projects gets every week from the first day of data
    (dim_dates, or an earlier production deployment) to the as_of week, zero-deployment weeks included.
    Definitions: docs/metrics.md, "Delivery and DORA". -#}
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

mr_deployments as (

    select * from {{ ref('int_merge_request_deployments_matched') }}

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
    where is_production and is_successful and deployed_at is not null

),

spine_bounds as (

    select
        least(
            (select min(dates.date_day) from dates),
            (select min({{ utc_date('production.deployed_at') }}) from production)
        ) as first_day,
        (select max(dates.date_day) from dates) as last_day

),

spine_days as (

    {{ day_series('(select first_day from spine_bounds)', '(select last_day from spine_bounds)') }}

),

weeks as (

    select distinct cast(date_trunc('week', date_day) as date) as week_start_date
    from spine_days

),

team_weeks as (

    select
        teams.team_id,
        weeks.week_start_date
    from teams
    cross join weeks
    where teams.has_gitlab_projects

),

deployment_weeks as (

    select
        team_id,
        week_start_date,
        count(distinct {{ utc_date('deployed_at') }}) as deployment_days,
        count(distinct coalesce(pipeline_id, deployment_id)) as deployment_count,
        count(*) as production_deployments,
        count(*) filter (where has_incident) as failed_deployments
    from production
    group by team_id, week_start_date

),

lead_times as (

    select
        merge_requests.team_id,
        {{ utc_week_start('mr_deployments.deployed_at') }} as week_start_date,
        {{ hours_between('merge_requests.first_commit_at', 'mr_deployments.deployed_at') }} as lead_time_hours,
        mr_deployments.match_method
    from mr_deployments
    inner join merge_requests on mr_deployments.merge_request_id = merge_requests.merge_request_id
    where merge_requests.first_commit_at is not null and not merge_requests.is_bot_author

),

lead_time_weeks as (

    select
        team_id,
        week_start_date,
        {{ percentile_of('lead_time_hours', 0.5) }} as lead_time_p50_hours,
        {{ percentile_of('lead_time_hours', 0.85) }} as lead_time_p85_hours,
        count(*) as lead_time_n,
        count(*) filter (where match_method = 'inferred_merge_time') as lead_time_inferred_n
    from lead_times
    group by team_id, week_start_date

),

recovery_weeks as (

    select
        team_id,
        {{ utc_week_start('resolved_at') }} as week_start_date,
        {{ percentile_of('recovery_time_hours', 0.5) }} as recovery_time_p50_hours,
        count(*) as recovery_time_n
    from incidents
    where is_deployment_caused and recovery_time_hours is not null
    group by team_id, {{ utc_week_start('resolved_at') }}

),

weekly as (

    select
        team_weeks.team_id,
        team_weeks.week_start_date,
        coalesce(deployment_weeks.deployment_days, 0) as deployment_days,
        coalesce(deployment_weeks.deployment_count, 0) as deployment_count,
        coalesce(deployment_weeks.production_deployments, 0) as change_failure_n,
        coalesce(deployment_weeks.failed_deployments, 0) as failed_deployment_count,
        1.0 * deployment_weeks.failed_deployments / nullif(deployment_weeks.production_deployments, 0)
            as change_failure_rate,
        lead_time_weeks.lead_time_p50_hours,
        lead_time_weeks.lead_time_p85_hours,
        coalesce(lead_time_weeks.lead_time_n, 0) as lead_time_n,
        coalesce(lead_time_weeks.lead_time_inferred_n, 0) as lead_time_inferred_n,
        recovery_weeks.recovery_time_p50_hours,
        coalesce(recovery_weeks.recovery_time_n, 0) as recovery_time_n
    from team_weeks
    left join deployment_weeks
        on
            team_weeks.team_id = deployment_weeks.team_id
            and team_weeks.week_start_date = deployment_weeks.week_start_date
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
        failed_deployment_count,
        change_failure_n,
        {{ metric_round('change_failure_rate') }} as change_failure_rate,
        change_failure_rate_band,
        {{ metric_round('recovery_time_p50_hours') }} as recovery_time_p50_hours,
        recovery_time_n,
        recovery_time_band
    from banded

)

select * from final
