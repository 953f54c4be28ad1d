{#- One row per team and ISO week with every headline metric, and the sample size beside every median/rate so
    thin weeks are visible. Each metric counts its items in the week of one event (documented per column). -#}
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

lifecycle as (

    select * from {{ ref('fct_issue_lifecycle') }}

),

wip_daily as (

    select * from {{ ref('fct_wip_daily') }}

),

merge_requests as (

    select * from {{ ref('fct_merge_requests') }}

),

pipelines as (

    select * from {{ ref('fct_pipelines') }}

),

work_linkage as (

    select * from {{ ref('fct_work_linkage') }}

),

sprints as (

    select * from {{ ref('fct_sprint_performance') }}

),

dora as (

    select * from {{ ref('rpt_dora_weekly') }}

),

engineers_rolling as (

    select * from {{ ref('int_team_active_engineers_counted') }}

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

),

done_issues as (

    select
        team_id,
        {{ utc_week_start('done_at') }} as week_start_date,
        count(*) as throughput,
        {{ percentile_of('cycle_time_hours', 0.5) }} as cycle_time_p50_hours,
        {{ percentile_of('cycle_time_hours', 0.85) }} as cycle_time_p85_hours,
        count(cycle_time_hours) as cycle_time_n,
        {{ percentile_of('lead_time_hours', 0.5) }} as lead_time_p50_hours,
        count(lead_time_hours) as lead_time_n,
        sum(blocked_hours) as blocked_hours,
        sum(blocked_hours) / nullif(sum(cycle_time_hours), 0) as blocked_share,
        {{ percentile_of('flow_efficiency', 0.5) }} as flow_efficiency_p50,
        count(flow_efficiency) as flow_efficiency_n,
        avg(case when is_reworked then 1.0 else 0.0 end) as rework_rate
    from lifecycle
    where is_done_work
    group by 1, 2

),

incident_completions as (

    select
        team_id,
        {{ utc_week_start('done_at') }} as week_start_date,
        count(*) as incidents_completed
    from lifecycle
    where is_incident and done_at is not null
    group by 1, 2

),

wip as (

    select
        team_id,
        {{ utc_week_start('date_day') }} as week_start_date,
        avg(wip_total) as wip_avg,
        avg(incident_wip) as incident_wip_avg
    from wip_daily
    group by 1, 2

),

review_pickup as (

    select
        team_id,
        {{ utc_week_start('ready_at') }} as week_start_date,
        {{ percentile_of('review_pickup_working_hours', 0.5) }} as review_pickup_p50_working_hours,
        {{ percentile_of('review_pickup_working_hours', 0.85) }} as review_pickup_p85_working_hours,
        {{ percentile_of('review_pickup_hours', 0.5) }} as review_pickup_p50_hours,
        count(review_pickup_working_hours) as review_pickup_n
    from merge_requests
    where not is_bot_author and team_id is not null and review_pickup_working_hours is not null
    group by 1, 2

),

merged as (

    select
        team_id,
        {{ utc_week_start('merged_at') }} as week_start_date,
        {{ percentile_of('review_duration_working_hours', 0.5) }} as review_duration_p50_working_hours,
        count(review_duration_working_hours) as review_duration_n,
        avg(case when is_merged_without_review then 1.0 else 0.0 end) as merged_without_review_rate,
        {{ percentile_of('merge_to_deploy_hours', 0.5) }} as merge_to_deploy_p50_hours,
        count(merge_to_deploy_hours) as merge_to_deploy_n,
        count(*) as merged_merge_requests
    from merge_requests
    where is_merged and not is_bot_author and team_id is not null
    group by 1, 2

),

ci as (

    select
        team_id,
        {{ utc_week_start('created_at') }} as week_start_date,
        count(*) filter (where is_succeeded_or_failed) as ci_finished_pipelines,
        count(*) filter (where is_failed) as ci_failed_pipelines,
        sum(retry_waste_minutes) as ci_retry_waste_minutes,
        count(*) filter (where is_flaky) as ci_flaky_pipelines
    from pipelines
    where team_id is not null
    group by 1, 2

),

sprint_weeks as (

    select
        team_id,
        {{ utc_week_start('evaluated_at') }} as week_start_date,
        avg(planning_accuracy) as planning_accuracy,
        count(planning_accuracy) as planning_accuracy_n
    from sprints
    where sprint_state = 'closed' and planning_accuracy is not null
    group by 1, 2

),

final as (

    select
        team_weeks.team_id || ':' || cast(team_weeks.week_start_date as text) as team_week_id,
        team_weeks.team_id,
        team_weeks.week_start_date,
        coalesce(done_issues.throughput, 0) as throughput,
        {{ metric_round('done_issues.cycle_time_p50_hours') }} as cycle_time_p50_hours,
        {{ metric_round('done_issues.cycle_time_p85_hours') }} as cycle_time_p85_hours,
        coalesce(done_issues.cycle_time_n, 0) as cycle_time_n,
        {{ metric_round('done_issues.lead_time_p50_hours') }} as lead_time_p50_hours,
        coalesce(done_issues.lead_time_n, 0) as lead_time_n,
        {{ metric_round('coalesce(done_issues.blocked_hours, 0)') }} as blocked_hours,
        {{ metric_round('done_issues.blocked_share') }} as blocked_share,
        {{ metric_round('done_issues.flow_efficiency_p50') }} as flow_efficiency_p50,
        coalesce(done_issues.flow_efficiency_n, 0) as flow_efficiency_n,
        {{ metric_round('done_issues.rework_rate') }} as rework_rate,
        coalesce(incident_completions.incidents_completed, 0) as incidents_completed,
        {{ metric_round('wip.wip_avg') }} as wip_avg,
        {{ metric_round('wip.incident_wip_avg') }} as incident_wip_avg,
        engineers_rolling.active_engineers,
        {{ metric_round('wip.wip_avg / nullif(engineers_rolling.active_engineers, 0)') }} as wip_per_engineer,
        {{ metric_round('review_pickup.review_pickup_p50_working_hours') }} as review_pickup_p50_working_hours,
        {{ metric_round('review_pickup.review_pickup_p85_working_hours') }} as review_pickup_p85_working_hours,
        {{ metric_round('review_pickup.review_pickup_p50_hours') }} as review_pickup_p50_hours,
        coalesce(review_pickup.review_pickup_n, 0) as review_pickup_n,
        {{ metric_round('merged.review_duration_p50_working_hours') }} as review_duration_p50_working_hours,
        coalesce(merged.review_duration_n, 0) as review_duration_n,
        {{ metric_round('merged.merged_without_review_rate') }} as merged_without_review_rate,
        coalesce(merged.merged_merge_requests, 0) as merged_merge_requests,
        {{ metric_round('merged.merge_to_deploy_p50_hours') }} as merge_to_deploy_p50_hours,
        coalesce(merged.merge_to_deploy_n, 0) as merge_to_deploy_n,
        coalesce(ci.ci_finished_pipelines, 0) as ci_finished_pipelines,
        coalesce(ci.ci_failed_pipelines, 0) as ci_failed_pipelines,
        {{ metric_round('1.0 * ci.ci_failed_pipelines / nullif(ci.ci_finished_pipelines, 0)') }} as ci_failure_rate,
        {{ metric_round('coalesce(ci.ci_retry_waste_minutes, 0)') }} as ci_retry_waste_minutes,
        coalesce(ci.ci_flaky_pipelines, 0) as ci_flaky_pipelines,
        work_linkage.unlinked_work_share,
        coalesce(work_linkage.done_issue_count, 0) as unlinked_work_n,
        work_linkage.unlinked_merge_request_share,
        coalesce(work_linkage.merged_merge_request_count, 0) as unlinked_merge_request_n,
        {{ metric_round('sprint_weeks.planning_accuracy') }} as planning_accuracy,
        coalesce(sprint_weeks.planning_accuracy_n, 0) as planning_accuracy_n,
        dora.deployment_days,
        dora.deployment_count,
        dora.lead_time_for_changes_p50_hours,
        dora.lead_time_for_changes_p85_hours,
        dora.lead_time_for_changes_n,
        dora.lead_time_merge_to_production_p50_hours,
        dora.lead_time_merge_to_production_n,
        dora.change_failure_rate,
        dora.change_failure_rate_explicit,
        dora.change_failure_n,
        dora.recovery_time_p50_hours,
        dora.recovery_time_n
    from team_weeks
    left join done_issues
        on team_weeks.team_id = done_issues.team_id and team_weeks.week_start_date = done_issues.week_start_date
    left join incident_completions
        on
            team_weeks.team_id = incident_completions.team_id
            and team_weeks.week_start_date = incident_completions.week_start_date
    left join wip
        on team_weeks.team_id = wip.team_id and team_weeks.week_start_date = wip.week_start_date
    left join engineers_rolling
        on
            team_weeks.team_id = engineers_rolling.team_id
            and team_weeks.week_start_date = engineers_rolling.week_start_date
    left join review_pickup
        on
            team_weeks.team_id = review_pickup.team_id
            and team_weeks.week_start_date = review_pickup.week_start_date
    left join merged
        on team_weeks.team_id = merged.team_id and team_weeks.week_start_date = merged.week_start_date
    left join ci
        on team_weeks.team_id = ci.team_id and team_weeks.week_start_date = ci.week_start_date
    left join work_linkage
        on
            team_weeks.team_id = work_linkage.team_id
            and team_weeks.week_start_date = work_linkage.week_start_date
    left join sprint_weeks
        on
            team_weeks.team_id = sprint_weeks.team_id
            and team_weeks.week_start_date = sprint_weeks.week_start_date
    left join dora
        on team_weeks.team_id = dora.team_id and team_weeks.week_start_date = dora.week_start_date

)

select * from final
