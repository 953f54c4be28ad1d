{#- The weekly report's numbers (issue 14), one row per scope (the organisation, each team), ISO week and
    headline metric, in the unit the report prints (rounded to one decimal): this week, the week before, the
    change, the trailing 8-week median and the sample size with the metric's minimum. Team rows read
    fct_team_weekly_metrics and rpt_dora_weekly unchanged; organisation rows aggregate the same fact columns with
    the same filters over all teams (percentiles over all items, never averages of team percentiles).
    Definitions: docs/metrics.md; the report: docs/report.md. -#}
{#- key, label, unit, wide column, sample column, min_sample (a metric_definitions name or a number), higher is
    better, scale (percent: x 100, days: / 24), the DORA band column. -#}
{%- set metrics = [
    {'key': 'throughput', 'label': 'Throughput', 'unit': 'issues', 'col': 'throughput', 'n': 'throughput',
     'min': 5, 'better': 'true', 'scale': 'none'},
    {'key': 'cycle_time_p50', 'label': 'Cycle time p50', 'unit': 'days', 'col': 'cycle_time_p50_hours',
     'n': 'cycle_time_n', 'min': 'cycle_time_hours', 'better': 'false', 'scale': 'days'},
    {'key': 'cycle_time_p85', 'label': 'Cycle time p85', 'unit': 'days', 'col': 'cycle_time_p85_hours',
     'n': 'cycle_time_n', 'min': 'cycle_time_hours', 'better': 'false', 'scale': 'days'},
    {'key': 'wip', 'label': 'Average daily WIP', 'unit': 'issues', 'col': 'wip_avg', 'n': 'null',
     'min': 'null', 'better': 'false', 'scale': 'none'},
    {'key': 'blocked_share', 'label': 'Blocked share', 'unit': '%', 'col': 'blocked_share', 'n': 'cycle_time_n',
     'min': 'cycle_time_hours', 'better': 'false', 'scale': 'percent'},
    {'key': 'rework_rate', 'label': 'Rework rate', 'unit': '%', 'col': 'rework_rate', 'n': 'throughput',
     'min': 'issue_reworked', 'better': 'false', 'scale': 'percent'},
    {'key': 'review_pickup_p50', 'label': 'Review pickup p50', 'unit': 'working hours',
     'col': 'review_pickup_p50_working_hours', 'n': 'review_pickup_n', 'min': 'review_pickup_working_hours',
     'better': 'false', 'scale': 'none'},
    {'key': 'ci_failure_rate', 'label': 'CI failure rate', 'unit': '%', 'col': 'ci_failure_rate',
     'n': 'ci_finished_pipelines', 'min': 'ci_pipeline_failed', 'better': 'false', 'scale': 'percent'},
    {'key': 'ci_retry_waste', 'label': 'CI retry waste', 'unit': 'minutes', 'col': 'ci_retry_waste_minutes',
     'n': 'ci_finished_pipelines', 'min': 'ci_retry_waste_minutes', 'better': 'false', 'scale': 'none'},
    {'key': 'unlinked_work', 'label': 'Unlinked work', 'unit': '%', 'col': 'unlinked_work_share',
     'n': 'unlinked_work_n', 'min': 10, 'better': 'false', 'scale': 'percent'},
    {'key': 'deployment_frequency', 'label': 'Deployments', 'unit': 'per week', 'col': 'deployment_count',
     'n': 'deployment_count', 'min': 'null', 'better': 'true', 'scale': 'none',
     'band': 'deployment_frequency_band'},
    {'key': 'lead_time_for_changes', 'label': 'Lead time for changes p50', 'unit': 'hours',
     'col': 'lead_time_for_changes_p50_hours', 'n': 'lead_time_for_changes_n',
     'min': 'merge_to_deploy_working_hours', 'better': 'false', 'scale': 'none', 'band': 'lead_time_for_changes_band'},
    {'key': 'change_failure_rate', 'label': 'Change failure rate', 'unit': '%', 'col': 'change_failure_rate',
     'n': 'change_failure_n', 'min': 10, 'better': 'false', 'scale': 'percent', 'band': 'change_failure_rate_band'},
    {'key': 'recovery_time', 'label': 'Failed deployment recovery p50', 'unit': 'hours',
     'col': 'recovery_time_p50_hours', 'n': 'recovery_time_n', 'min': 3, 'better': 'false', 'scale': 'none',
     'band': 'recovery_time_band'},
] -%}
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

production_changes as (

    select * from {{ ref('fct_production_changes') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}

),

team_weekly as (

    select * from {{ ref('fct_team_weekly_metrics') }}

),

dora as (

    select * from {{ ref('rpt_dora_weekly') }}

),

metric_definitions as (

    select * from {{ ref('metric_definitions') }}

),

bands as (

    select * from {{ ref('dora_performance_bands') }}

),

weeks as (

    select distinct week_start_date
    from dates

),

team_ids as (

    select team_id from teams

),

org_done as (

    select
        {{ utc_week_start('done_at') }} as week_start_date,
        count(*) as throughput,
        {{ percentile_of('cycle_time_hours', 0.5) }} as cycle_time_p50_hours,
        {{ percentile_of('cycle_time_hours', 0.85) }} as cycle_time_p85_hours,
        count(cycle_time_hours) as cycle_time_n,
        sum(blocked_hours) / nullif(sum(cycle_time_hours), 0) as blocked_share,
        avg(case when is_reworked then 1.0 else 0.0 end) as rework_rate
    from lifecycle
    where is_done_work and team_id in (select team_ids.team_id from team_ids)
    group by 1

),

org_wip as (

    select
        {{ utc_week_start('date_day') }} as week_start_date,
        avg(wip_total) as wip_avg
    from (
        select
            date_day,
            sum(wip_total) as wip_total
        from wip_daily
        where team_id in (select team_ids.team_id from team_ids)
        group by 1
    ) as daily
    group by 1

),

org_pickup as (

    select
        {{ utc_week_start('ready_at') }} as week_start_date,
        {{ percentile_of('review_pickup_working_hours', 0.5) }} as review_pickup_p50_working_hours,
        count(review_pickup_working_hours) as review_pickup_n
    from merge_requests
    where
        not is_bot_author
        and team_id in (select team_ids.team_id from team_ids)
        and review_pickup_working_hours is not null
    group by 1

),

org_ci as (

    select
        {{ utc_week_start('created_at') }} as week_start_date,
        count(*) filter (where is_succeeded_or_failed) as ci_finished_pipelines,
        1.0 * count(*) filter (where is_failed) / nullif(count(*) filter (where is_succeeded_or_failed), 0)
            as ci_failure_rate,
        coalesce(sum(retry_waste_minutes), 0) as ci_retry_waste_minutes
    from pipelines
    where team_id in (select team_ids.team_id from team_ids)
    group by 1

),

org_linkage as (

    select
        week_start_date,
        1.0 * sum(unlinked_done_issue_count) / nullif(sum(done_issue_count), 0) as unlinked_work_share,
        sum(done_issue_count) as unlinked_work_n
    from work_linkage
    where team_id in (select team_ids.team_id from team_ids)
    group by 1

),

org_changes as (

    select
        week_start_date,
        count(*) as deployment_count,
        1.0 * count(*) filter (where is_failed_change) / nullif(count(*), 0) as change_failure_rate
    from production_changes
    where team_id in (select team_ids.team_id from team_ids)
    group by 1

),

org_lead_time as (

    select
        {{ utc_week_start('deployed_at') }} as week_start_date,
        {{ percentile_of('lead_time_for_changes_hours', 0.5) }} as lead_time_for_changes_p50_hours,
        count(*) as lead_time_for_changes_n
    from merge_requests
    where
        lead_time_for_changes_hours is not null
        and not is_bot_author
        and team_id in (select team_ids.team_id from team_ids)
    group by 1

),

org_recovery as (

    select
        {{ utc_week_start('restored_at') }} as week_start_date,
        {{ percentile_of('recovery_time_hours', 0.5) }} as recovery_time_p50_hours,
        count(*) as recovery_time_n
    from incidents
    where
        is_deployment_caused
        and recovery_time_hours is not null
        and team_id in (select team_ids.team_id from team_ids)
    group by 1

),

org_weekly as (

    select
        weeks.week_start_date,
        coalesce(org_done.throughput, 0) as throughput,
        org_done.cycle_time_p50_hours,
        org_done.cycle_time_p85_hours,
        coalesce(org_done.cycle_time_n, 0) as cycle_time_n,
        org_done.blocked_share,
        org_done.rework_rate,
        org_wip.wip_avg,
        org_pickup.review_pickup_p50_working_hours,
        coalesce(org_pickup.review_pickup_n, 0) as review_pickup_n,
        coalesce(org_ci.ci_finished_pipelines, 0) as ci_finished_pipelines,
        org_ci.ci_failure_rate,
        coalesce(org_ci.ci_retry_waste_minutes, 0) as ci_retry_waste_minutes,
        org_linkage.unlinked_work_share,
        coalesce(org_linkage.unlinked_work_n, 0) as unlinked_work_n,
        coalesce(org_changes.deployment_count, 0) as deployment_count,
        coalesce(org_changes.deployment_count, 0) as change_failure_n,
        org_changes.change_failure_rate,
        org_lead_time.lead_time_for_changes_p50_hours,
        coalesce(org_lead_time.lead_time_for_changes_n, 0) as lead_time_for_changes_n,
        org_recovery.recovery_time_p50_hours,
        coalesce(org_recovery.recovery_time_n, 0) as recovery_time_n
    from weeks
    left join org_done on weeks.week_start_date = org_done.week_start_date
    left join org_wip on weeks.week_start_date = org_wip.week_start_date
    left join org_pickup on weeks.week_start_date = org_pickup.week_start_date
    left join org_ci on weeks.week_start_date = org_ci.week_start_date
    left join org_linkage on weeks.week_start_date = org_linkage.week_start_date
    left join org_changes on weeks.week_start_date = org_changes.week_start_date
    left join org_lead_time on weeks.week_start_date = org_lead_time.week_start_date
    left join org_recovery on weeks.week_start_date = org_recovery.week_start_date

),

org_rolling as (

    select
        *,
        avg(deployment_count) over (
            order by week_start_date rows between 3 preceding and current row
        ) as deployments_per_week_4w
    from org_weekly

),

org_banded as (

    select
        cast(null as text) as team_id,
        org_rolling.*,
        {{ dora_band('deployment_frequency', 'org_rolling.deployments_per_week_4w') }} as deployment_frequency_band,
        {{ dora_band('lead_time_for_changes', 'org_rolling.lead_time_for_changes_p50_hours') }}
            as lead_time_for_changes_band,
        {{ dora_band('change_failure_rate', 'org_rolling.change_failure_rate') }} as change_failure_rate_band,
        {{ dora_band('failed_deployment_recovery_time', 'org_rolling.recovery_time_p50_hours') }}
            as recovery_time_band
    from org_rolling

),

team_banded as (

    select
        team_weekly.team_id,
        team_weekly.week_start_date,
        team_weekly.throughput,
        team_weekly.cycle_time_p50_hours,
        team_weekly.cycle_time_p85_hours,
        team_weekly.cycle_time_n,
        team_weekly.blocked_share,
        team_weekly.rework_rate,
        team_weekly.wip_avg,
        team_weekly.review_pickup_p50_working_hours,
        team_weekly.review_pickup_n,
        team_weekly.ci_finished_pipelines,
        team_weekly.ci_failure_rate,
        team_weekly.ci_retry_waste_minutes,
        team_weekly.unlinked_work_share,
        team_weekly.unlinked_work_n,
        team_weekly.deployment_count,
        team_weekly.change_failure_n,
        team_weekly.change_failure_rate,
        team_weekly.lead_time_for_changes_p50_hours,
        team_weekly.lead_time_for_changes_n,
        team_weekly.recovery_time_p50_hours,
        team_weekly.recovery_time_n,
        dora.deployments_per_week_4w,
        dora.deployment_frequency_band,
        dora.lead_time_for_changes_band,
        dora.change_failure_rate_band,
        dora.recovery_time_band
    from team_weekly
    left join dora
        on team_weekly.team_id = dora.team_id and team_weekly.week_start_date = dora.week_start_date

),

wide as (

    select
        team_id,
        week_start_date,
        throughput,
        cycle_time_p50_hours,
        cycle_time_p85_hours,
        cycle_time_n,
        blocked_share,
        rework_rate,
        wip_avg,
        review_pickup_p50_working_hours,
        review_pickup_n,
        ci_finished_pipelines,
        ci_failure_rate,
        ci_retry_waste_minutes,
        unlinked_work_share,
        unlinked_work_n,
        deployment_count,
        change_failure_n,
        change_failure_rate,
        lead_time_for_changes_p50_hours,
        lead_time_for_changes_n,
        recovery_time_p50_hours,
        recovery_time_n,
        deployments_per_week_4w,
        deployment_frequency_band,
        lead_time_for_changes_band,
        change_failure_rate_band,
        recovery_time_band
    from org_banded
    union all
    select * from team_banded

),

long as (

    {% for metric in metrics %}
        {%- if metric.scale == 'percent' -%}
            {%- set value = '100 * wide.' ~ metric.col -%}
        {%- elif metric.scale == 'days' -%}
            {%- set value = 'wide.' ~ metric.col ~ ' / 24' -%}
        {%- else -%}
            {%- set value = 'wide.' ~ metric.col -%}
        {%- endif %}
        select
            wide.team_id,
            wide.week_start_date,
            '{{ metric.key }}' as metric_name,
            {{ loop.index }} as display_order,
            '{{ metric.label }}' as label,
            '{{ metric.unit }}' as unit,
            {{ metric.better }} as higher_is_better,
            cast(round(cast({{ value }} as numeric), 1) as numeric(14, 1)) as value,
            cast({{ 'wide.' ~ metric.n if metric.n != 'null' else 'null' }} as integer) as sample_size,
            {%- if metric.min is string and metric.min != 'null' %}
                (
                    select metric_definitions.min_sample from metric_definitions
                    where metric_definitions.metric_name = '{{ metric.min }}'
                )
            {%- else %}
                cast({{ metric.min }} as integer)
            {%- endif %} as min_sample,
            {{ 'wide.' ~ metric.band if metric.band else 'cast(null as text)' }} as dora_band
        from wide
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

trailing_medians as (

    {#- the median of the 8 weekly values ending with each week: an equi-join per scope and metric, then the
        week range (a correlated subquery grows with the square of the rows) -#}
    select
        long.team_id,
        long.metric_name,
        long.week_start_date,
        {{ percentile_of('history.value', 0.5) }} as median_8w
    from long
    inner join long as history
        on
            long.metric_name = history.metric_name
            and coalesce(long.team_id, '') = coalesce(history.team_id, '')
            and history.week_start_date between long.week_start_date - 49 and long.week_start_date
    group by 1, 2, 3

),

compared as (

    select
        long.*,
        trailing_medians.median_8w,
        lag(long.value) over (
            partition by long.team_id, long.metric_name order by long.week_start_date
        ) as previous_value,
        lag(long.sample_size) over (
            partition by long.team_id, long.metric_name order by long.week_start_date
        ) as previous_sample_size
    from long
    left join trailing_medians
        on
            long.metric_name = trailing_medians.metric_name
            and coalesce(long.team_id, '') = coalesce(trailing_medians.team_id, '')
            and long.week_start_date = trailing_medians.week_start_date

),

final as (

    select
        coalesce(team_id, 'organisation') || ':' || cast(week_start_date as text) || ':' || metric_name
            as report_metric_id,
        case when team_id is null then 'organisation' else 'team' end as scope,
        team_id,
        week_start_date,
        metric_name,
        display_order,
        label,
        unit,
        higher_is_better,
        value,
        previous_value,
        cast(value - previous_value as numeric(14, 1)) as delta,
        cast(round((value - previous_value) / nullif(abs(previous_value), 0), 4) as numeric(14, 4)) as delta_pct,
        cast(round(cast(median_8w as numeric), 1) as numeric(14, 1)) as median_8w,
        sample_size,
        previous_sample_size,
        min_sample,
        coalesce(sample_size < min_sample, false) as is_thin_sample,
        coalesce(previous_sample_size < min_sample, false) as is_previous_thin_sample,
        dora_band
    from compared

)

select * from final
