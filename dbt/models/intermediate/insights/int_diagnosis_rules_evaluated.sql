{#- Every diagnosis rule (seed diagnosis_rules) evaluated for every team and ISO week on the trailing window of
    var `diagnosis_window_weeks` weeks ending with that week, fired or not, so a reader can see why a rule did
    or did not fire. The organisation baseline is the same aggregate over every team's items in the window.
    The excess and hours lost come from the macros rule_item_excess, rule_window_value and
    rule_excess_units_per_week (shared with fct_roi_comparison). -#}
{%- set window_weeks = var('diagnosis_window_weeks') | int -%}
with

observations as (

    select * from {{ ref('fct_metric_observations') }}

),

rules as (

    select * from {{ ref('diagnosis_rules') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

data_starts as (

    select
        metric_name,
        min({{ utc_date('observed_at') }}) as first_observed_date
    from observations
    group by metric_name

),

weeks as (

    select distinct
        week_start_date,
        week_start_date - {{ (window_weeks - 1) * 7 }} as window_start_date
    from dates

),

windowed as (

    select
        observations.team_id,
        weeks.week_start_date,
        weeks.window_start_date,
        rules.rule_id,
        observations.value,
        {{ rule_item_excess('observations.value', 'rules.direction', 'rules.threshold') }} as item_excess
    from observations
    inner join rules on observations.metric_name = rules.metric_name
    inner join weeks
        on
            observations.observed_at >= cast(weeks.window_start_date as timestamp) at time zone 'UTC'
            and observations.observed_at < cast(weeks.week_start_date + 7 as timestamp) at time zone 'UTC'

),

team_stats as (

    select
        team_id,
        week_start_date,
        window_start_date,
        rule_id,
        count(*) as sample_size,
        {{ percentile_of('value', 0.5) }} as median_value,
        avg(value) as mean_value,
        sum(value) as sum_value,
        sum(item_excess) as item_excess_sum
    from windowed
    group by team_id, week_start_date, window_start_date, rule_id

),

org_stats as (

    select
        week_start_date,
        rule_id,
        count(*) as org_sample_size,
        count(distinct team_id) as org_team_count,
        {{ percentile_of('value', 0.5) }} as org_median_value,
        avg(value) as org_mean_value,
        sum(value) as org_sum_value
    from windowed
    group by week_start_date, rule_id

),

valued as (

    select
        team_stats.*,
        rules.metric_name,
        rules.window_aggregation,
        rules.direction,
        rules.threshold,
        rules.min_sample,
        rules.min_ratio_to_baseline,
        data_starts.first_observed_date,
        rules.evidence_threshold,
        rules.excess_basis,
        rules.hours_per_excess_unit,
        rules.excess_unit,
        rules.description as rule_description,
        {{ rule_window_value(
            'rules.window_aggregation',
            'team_stats.median_value',
            'team_stats.mean_value',
            'team_stats.sum_value',
            window_weeks ~ '.0'
        ) }} as metric_value,
        case rules.window_aggregation
            when 'median' then org_stats.org_median_value
            when 'mean' then org_stats.org_mean_value
            when 'sum_per_week' then org_stats.org_sum_value / {{ window_weeks }}.0 / org_stats.org_team_count
        end as org_baseline_value
    from team_stats
    inner join rules on team_stats.rule_id = rules.rule_id
    inner join org_stats
        on team_stats.week_start_date = org_stats.week_start_date and team_stats.rule_id = org_stats.rule_id
    inner join data_starts on rules.metric_name = data_starts.metric_name

),

judged as (

    select
        *,
        window_start_date >= first_observed_date as is_window_complete,
        sample_size >= min_sample
        and window_start_date >= first_observed_date
        and (
            (direction = 'above' and metric_value >= threshold and metric_value >= org_baseline_value * min_ratio_to_baseline)
            or (
                direction = 'below' and metric_value <= threshold
                and metric_value * min_ratio_to_baseline <= org_baseline_value
            )
        ) as is_fired,
        {{ rule_excess_units_per_week(
            'excess_basis',
            'direction',
            'threshold',
            'metric_value',
            'item_excess_sum',
            'sample_size',
            window_weeks ~ '.0'
        ) }} as excess_units_per_week
    from valued

),

final as (

    select
        team_id || ':' || rule_id || ':' || cast(week_start_date as text) as rule_evaluation_id,
        team_id,
        week_start_date,
        window_start_date,
        week_start_date + 6 as window_end_date,
        rule_id,
        rule_description,
        metric_name,
        window_aggregation,
        direction,
        {{ metric_round('threshold') }} as threshold_value,
        {{ metric_round('metric_value') }} as metric_value,
        {{ metric_round('org_baseline_value') }} as org_baseline_value,
        sample_size,
        min_sample,
        min_ratio_to_baseline,
        is_window_complete,
        evidence_threshold,
        is_fired,
        excess_unit,
        hours_per_excess_unit,
        {{ metric_round('case when is_fired then excess_units_per_week else 0 end') }} as excess_units_per_week,
        {{ metric_round('case when is_fired then excess_units_per_week * hours_per_excess_unit else 0 end') }}
            as hours_lost_per_week,
        case
            when direction = 'above' then {{ metric_round('metric_value / nullif(threshold, 0)') }}
            else {{ metric_round('threshold / nullif(metric_value, 0)') }}
        end as ratio_to_threshold,
        case
            when direction = 'above' then {{ metric_round('metric_value / nullif(org_baseline_value, 0)') }}
            else {{ metric_round('org_baseline_value / nullif(metric_value, 0)') }}
        end as ratio_to_baseline
    from judged

)

select * from final
