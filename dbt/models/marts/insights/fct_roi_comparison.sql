{#- For each approved intervention and every diagnosable metric of its team: the baseline window (var
    `roi_baseline_weeks` weeks before the intervention start) against the current window (start to as_of),
    the delta, the engineer-hours per week recovered by the rule's cost model, their value at var
    `hourly_cost`, and the caveats that limit attribution. Hours lost use the diagnosis rule's cost model, the
    same macros as the diagnosis (rule_item_excess, rule_window_value, rule_excess_units_per_week), in exact
    numeric arithmetic. The statistics (confidence intervals and the control-team comparison) are in
    fct_intervention_outcomes. -#}
{%- set baseline_weeks = var('roi_baseline_weeks') | int -%}
with

latest_decisions as (

    select * from {{ ref('int_recommendation_decisions_latest') }}

),

observations as (

    select * from {{ ref('fct_metric_observations') }}

),

metric_definitions as (

    select * from {{ ref('metric_definitions') }}

),

rules as (

    select * from {{ ref('diagnosis_rules') }}

),

interventions as (

    select
        recommendation_id,
        team_id,
        metric_name as watched_metric_name,
        intervention_start_date,
        intervention_start_date - {{ baseline_weeks * 7 }} as baseline_start_date,
        {{ utc_date(as_of_ts()) }} as current_end_date,
        greatest(
            1.0, ({{ utc_date(as_of_ts()) }} - intervention_start_date + 1) / 7.0
        ) as current_weeks
    from latest_decisions
    where decision = 'approved' and intervention_start_date is not null

),

windowed as (

    select
        interventions.recommendation_id,
        observations.metric_name,
        case
            when observations.observed_at < cast(interventions.intervention_start_date as timestamp) at time zone 'UTC'
                then 'baseline'
            else 'current'
        end as period,
        observations.value,
        {{ rule_item_excess('observations.value', 'rules.direction', 'rules.threshold') }}
        * case when rules.excess_basis = 'per_engineer' then coalesce(observations.engineer_count, 1) else 1 end
            as item_excess
    from interventions
    inner join observations
        on
            interventions.team_id = observations.team_id
            and observations.observed_at >= cast(interventions.baseline_start_date as timestamp) at time zone 'UTC'
            and observations.observed_at < cast(interventions.current_end_date + 1 as timestamp) at time zone 'UTC'
    left join rules on observations.metric_name = rules.metric_name

),

period_stats as (

    select
        recommendation_id,
        metric_name,
        period,
        count(*) as sample_size,
        {{ percentile_of('value', 0.5) }} as median_value,
        avg(value) as mean_value,
        sum(value) as sum_value,
        sum(item_excess) as item_excess_sum
    from windowed
    group by recommendation_id, metric_name, period

),

compared as (

    select
        interventions.recommendation_id,
        interventions.team_id,
        interventions.watched_metric_name,
        interventions.intervention_start_date,
        interventions.baseline_start_date,
        interventions.current_end_date,
        interventions.current_weeks,
        metric_definitions.metric_name,
        metric_definitions.aggregation,
        metric_definitions.higher_is_better,
        metric_definitions.unit,
        metric_definitions.min_sample,
        rules.rule_id,
        rules.window_aggregation,
        rules.direction,
        rules.threshold,
        rules.excess_basis,
        rules.hours_per_excess_unit,
        coalesce(baseline.sample_size, 0) as baseline_n,
        coalesce(current_period.sample_size, 0) as current_n,
        case metric_definitions.aggregation
            when 'median' then baseline.median_value else baseline.mean_value
        end as baseline_value,
        case metric_definitions.aggregation
            when 'median' then current_period.median_value else current_period.mean_value
        end as current_value,
        baseline.item_excess_sum as baseline_item_excess,
        current_period.item_excess_sum as current_item_excess,
        baseline.sum_value as baseline_sum,
        current_period.sum_value as current_sum,
        baseline.mean_value as baseline_mean,
        current_period.mean_value as current_mean,
        baseline.median_value as baseline_median,
        current_period.median_value as current_median
    from interventions
    cross join metric_definitions
    left join rules on metric_definitions.metric_name = rules.metric_name
    left join period_stats as baseline
        on
            interventions.recommendation_id = baseline.recommendation_id
            and metric_definitions.metric_name = baseline.metric_name
            and baseline.period = 'baseline'
    left join period_stats as current_period
        on
            interventions.recommendation_id = current_period.recommendation_id
            and metric_definitions.metric_name = current_period.metric_name
            and current_period.period = 'current'

),

hours as (

    select
        *,
        {{ rule_excess_units_per_week(
            'excess_basis',
            'direction',
            'threshold',
            rule_window_value(
                'window_aggregation',
                'cast(baseline_median as numeric)',
                'baseline_mean',
                'coalesce(baseline_sum, 0)',
                baseline_weeks ~ '.0'
            ),
            'baseline_item_excess',
            'baseline_n',
            baseline_weeks ~ '.0'
        ) }} * hours_per_excess_unit as baseline_hours_lost_per_week,
        {{ rule_excess_units_per_week(
            'excess_basis',
            'direction',
            'threshold',
            rule_window_value(
                'window_aggregation',
                'cast(current_median as numeric)',
                'current_mean',
                'coalesce(current_sum, 0)',
                'current_weeks'
            ),
            'current_item_excess',
            'current_n',
            'current_weeks'
        ) }} * hours_per_excess_unit as current_hours_lost_per_week
    from compared

),

final as (

    select
        recommendation_id || ':' || metric_name as roi_comparison_id,
        recommendation_id,
        team_id,
        metric_name,
        metric_name = watched_metric_name as is_watched_metric,
        aggregation,
        unit,
        higher_is_better,
        intervention_start_date,
        baseline_start_date,
        intervention_start_date - 1 as baseline_end_date,
        intervention_start_date as current_start_date,
        current_end_date,
        baseline_n,
        current_n,
        {{ metric_round('baseline_value') }} as baseline_value,
        {{ metric_round('current_value') }} as current_value,
        {{ metric_round('current_value - baseline_value') }} as delta,
        {{ metric_round('current_value / nullif(baseline_value, 0) - 1') }} as delta_pct,
        case
            when baseline_value is null or current_value is null then null
            when current_value = baseline_value then 'unchanged'
            when (current_value > baseline_value) = higher_is_better then 'better'
            else 'worse'
        end as direction_of_change,
        {{ metric_round('baseline_hours_lost_per_week') }} as baseline_hours_lost_per_week,
        {{ metric_round('current_hours_lost_per_week') }} as current_hours_lost_per_week,
        {{ metric_round('baseline_hours_lost_per_week - current_hours_lost_per_week') }} as hours_recovered_per_week,
        {{ metric_round('(baseline_hours_lost_per_week - current_hours_lost_per_week) * ' ~ var('hourly_cost')) }}
            as value_recovered_per_week,
        '{{ var("hourly_cost_currency") }}' as value_currency,
        concat_ws(
            ' ',
            'Before/after comparison of one team: other changes in the same weeks (staffing, holidays, releases,'
            || ' other initiatives) are not controlled here; fct_intervention_outcomes compares with the other'
            || ' teams and gives confidence intervals.',
            case
                when baseline_n < min_sample or current_n < min_sample
                    then
                        'Too few observations in a window (' || baseline_n || ' before, ' || current_n
                        || ' after; at least ' || min_sample || ' needed): treat as anecdotal.'
            end,
            case
                when current_weeks < 4
                    then 'Only ' || round(current_weeks, 1) || ' weeks since the start: early effects are noisy.'
            end,
            case
                when rule_id is null then 'No cost model for this metric: hours recovered are not estimated.'
                else 'Hours use the diagnosis rule ' || rule_id || ' cost model (seed diagnosis_rules).'
            end
        ) as attribution_caveats
    from hours

)

select * from final
