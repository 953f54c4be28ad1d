{#- Per team and ISO week, every diagnosed bottleneck's playbook intervention with the power its verification
    would have: the metric to watch, the expected change, the verification window (var
    verification_window_weeks) and the minimum change the verification could detect with the team's own volume
    and week-to-week variability of that metric, so a manager knows before approving whether success will be
    provable. `is_recommendation_of_the_week` marks, per team and week, the costliest diagnosis whose
    intervention is measurable (minimum detectable change <= expected change), or the costliest one when none
    is (then `is_success_provable` is false).

    The minimum detectable change follows insights/verification (docs/metrics.md, "Verification"): the
    baseline is the var roi_baseline_weeks ISO weeks ending with the week (an approval starting next week
    compares with them); on the test scale (log(1 + value) for median metrics, the value for mean metrics;
    units as in int_metric_observations_summed_weekly) s2 = pooled within-week variance, tau2 = between-week
    variance (one-way ANOVA moments, truncated at 0), Var(baseline mean) = sum(n_w^2 tau2 + n_w s2) / N^2, and
    each week of the verification window adds (tau2 + s2 / units per week) / weeks (a metric with fewer than
    one unit a week, e.g. sprints, adds (tau2 + s2) / units instead); MDE = (t(1 - alpha / 2, df) + t(power, df))
    * SE with df = weeks with data + window weeks with data expected - 2. -#}
{%- set window_weeks = var('verification_window_weeks') -%}
{%- set baseline_weeks = var('roi_baseline_weeks') -%}
with

diagnoses as (

    select * from {{ ref('fct_diagnoses') }}

),

playbook as (

    select * from {{ ref('recommendation_playbook') }}

),

definitions as (

    select * from {{ ref('metric_definitions') }}

),

weekly_sums as (

    select * from {{ ref('int_metric_observations_summed_weekly') }}

),

settings as (

    {#- standard normal quantiles by Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4): z_0.975 = 1.9604,
        z_0.8 = 0.8415 at the defaults -#}
    select
        {{ window_weeks }} as window_weeks,
        {{ baseline_weeks }} as baseline_weeks,
        t_alpha
        - (2.515517 + 0.802853 * t_alpha + 0.010328 * t_alpha ^ 2)
        / (1 + 1.432788 * t_alpha + 0.189269 * t_alpha ^ 2 + 0.001308 * t_alpha ^ 3) as z_alpha,
        t_power
        - (2.515517 + 0.802853 * t_power + 0.010328 * t_power ^ 2)
        / (1 + 1.432788 * t_power + 0.189269 * t_power ^ 2 + 0.001308 * t_power ^ 3) as z_power
    from (
        select
            sqrt(-2 * ln(cast({{ var('verification_alpha') }} as numeric) / 2)) as t_alpha,
            sqrt(-2 * ln(1 - cast({{ var('verification_power') }} as numeric))) as t_power
    ) as tails

),

candidates as (

    select
        diagnoses.diagnosis_id,
        diagnoses.team_id || ':' || diagnoses.rule_id as recommendation_id,
        diagnoses.team_id,
        diagnoses.rule_id,
        diagnoses.week_start_date,
        diagnoses.hours_lost_per_week,
        diagnoses.rank_in_team_week,
        diagnoses.is_current,
        playbook.title,
        playbook.metric_name,
        playbook.expected_change_pct,
        playbook.expected_effect,
        definitions.aggregation,
        definitions.min_sample,
        case when definitions.aggregation = 'median' then 'log1p' else 'identity' end as test_scale
    from diagnoses
    inner join playbook on diagnoses.rule_id = playbook.rule_id
    left join definitions on playbook.metric_name = definitions.metric_name

),

baseline_weeks as (

    select
        candidates.diagnosis_id,
        weekly_sums.week_start_date,
        weekly_sums.unit_count as units,
        case
            when candidates.test_scale = 'log1p' then weekly_sums.unit_log_value_sum else weekly_sums.unit_value_sum
        end as value_sum,
        case
            when candidates.test_scale = 'log1p'
                then weekly_sums.unit_log_value_square_sum
            else weekly_sums.unit_value_square_sum
        end as square_sum
    from candidates
    cross join settings
    inner join weekly_sums
        on
            candidates.team_id = weekly_sums.team_id
            and candidates.metric_name = weekly_sums.metric_name
            and candidates.week_start_date - 7 * settings.baseline_weeks < weekly_sums.week_start_date
            and candidates.week_start_date >= weekly_sums.week_start_date
    where weekly_sums.unit_count > 0

),

baseline_totals as (

    select
        diagnosis_id,
        count(*) as weeks_with_data,
        sum(units) as units,
        sum(value_sum) as value_sum,
        sum(units * units) as units_square_sum,
        sum(square_sum - value_sum * value_sum / units) as within_square_sum
    from baseline_weeks
    group by diagnosis_id

),

baseline_between as (

    select
        baseline_weeks.diagnosis_id,
        sum(
            baseline_weeks.units
            * (baseline_weeks.value_sum / baseline_weeks.units - baseline_totals.value_sum / baseline_totals.units)
            ^ 2
        ) as between_square_sum
    from baseline_weeks
    inner join baseline_totals on baseline_weeks.diagnosis_id = baseline_totals.diagnosis_id
    group by baseline_weeks.diagnosis_id

),

components as (

    select
        baseline_totals.diagnosis_id,
        baseline_totals.weeks_with_data,
        baseline_totals.units,
        baseline_totals.units_square_sum,
        baseline_totals.value_sum / baseline_totals.units as baseline_mean,
        case
            when baseline_totals.units > baseline_totals.weeks_with_data
                then
                    greatest(baseline_totals.within_square_sum, 0)
                    / (baseline_totals.units - baseline_totals.weeks_with_data)
            else 0
        end as s2,
        baseline_between.between_square_sum,
        case
            when baseline_totals.weeks_with_data > 1
                then
                    (baseline_totals.units - baseline_totals.units_square_sum / baseline_totals.units)
                    / (baseline_totals.weeks_with_data - 1)
        end as n0
    from baseline_totals
    inner join baseline_between on baseline_totals.diagnosis_id = baseline_between.diagnosis_id

),

variances as (

    select
        components.*,
        case
            when components.n0 > 0
                then
                    greatest(
                        0,
                        (components.between_square_sum / (components.weeks_with_data - 1) - components.s2)
                        / components.n0
                    )
            else 0
        end as tau2
    from components

),

powered as (

    select
        variances.diagnosis_id,
        variances.weeks_with_data,
        variances.units,
        variances.baseline_mean,
        variances.s2,
        variances.tau2,
        1.0 * variances.units / settings.baseline_weeks as units_per_week,
        sqrt(
            (variances.units_square_sum * variances.tau2 + variances.units * variances.s2) / variances.units ^ 2
            + (variances.tau2 + variances.s2 / greatest(1.0 * variances.units / settings.baseline_weeks, 1))
            / least(1.0 * variances.units / settings.baseline_weeks, 1) / settings.window_weeks
        ) as standard_error,
        greatest(
            variances.weeks_with_data
            + settings.window_weeks * least(1.0 * variances.units / settings.baseline_weeks, 1) - 2,
            1
        ) as degrees_of_freedom,
        settings.z_alpha,
        settings.z_power
    from variances
    cross join settings

),

detectable as (

    {#- t quantiles from z by Cornish-Fisher (as macro t_critical and insights.verification.stats.t_value) #}
    select
        powered.*,
        (
            (
                powered.z_alpha + (powered.z_alpha ^ 3 + powered.z_alpha) / (4 * powered.degrees_of_freedom)
                + (5 * powered.z_alpha ^ 5 + 16 * powered.z_alpha ^ 3 + 3 * powered.z_alpha)
                / (96 * powered.degrees_of_freedom ^ 2)
            )
            + (
                powered.z_power + (powered.z_power ^ 3 + powered.z_power) / (4 * powered.degrees_of_freedom)
                + (5 * powered.z_power ^ 5 + 16 * powered.z_power ^ 3 + 3 * powered.z_power)
                / (96 * powered.degrees_of_freedom ^ 2)
            )
        ) * powered.standard_error as minimum_detectable_shift
    from powered

),

assessed as (

    select
        candidates.*,
        detectable.weeks_with_data as baseline_weeks_with_data,
        coalesce(detectable.units, 0) as baseline_units,
        detectable.units_per_week,
        detectable.baseline_mean,
        detectable.standard_error,
        detectable.minimum_detectable_shift,
        case
            when candidates.test_scale = 'log1p'
                then
                    ln(1 + greatest((exp(detectable.baseline_mean) - 1) * (1 + candidates.expected_change_pct), 0))
                    - detectable.baseline_mean
            else candidates.expected_change_pct * detectable.baseline_mean
        end as expected_shift,
        {#- a magnitude in the expected direction; a fall cannot exceed 100% (no metric is negative) #}
        case
            when candidates.test_scale = 'log1p'
                then
                    abs(
                        greatest(
                            (exp(detectable.baseline_mean + sign(candidates.expected_change_pct) * detectable.minimum_detectable_shift) - 1)
                            / nullif(exp(detectable.baseline_mean) - 1, 0)
                            - 1,
                            -1
                        )
                    )
            when candidates.expected_change_pct < 0
                then least(detectable.minimum_detectable_shift / nullif(abs(detectable.baseline_mean), 0), 1)
            else detectable.minimum_detectable_shift / nullif(abs(detectable.baseline_mean), 0)
        end as minimum_detectable_change_pct
    from candidates
    left join detectable on candidates.diagnosis_id = detectable.diagnosis_id

),

judged as (

    select
        assessed.*,
        coalesce(
            assessed.baseline_units >= assessed.min_sample
            and assessed.minimum_detectable_shift <= abs(assessed.expected_shift),
            false
        ) as is_success_provable
    from assessed

),

ranked as (

    select
        judged.*,
        row_number() over (
            partition by judged.team_id, judged.week_start_date
            order by judged.is_success_provable desc, judged.hours_lost_per_week desc, judged.rule_id asc
        ) as recommendation_rank_in_team_week
    from judged

),

final as (

    select
        ranked.diagnosis_id as weekly_recommendation_id,
        ranked.diagnosis_id,
        ranked.recommendation_id,
        ranked.team_id,
        ranked.rule_id,
        ranked.week_start_date,
        ranked.is_current,
        ranked.title,
        ranked.metric_name,
        ranked.aggregation,
        ranked.test_scale,
        ranked.expected_change_pct,
        ranked.expected_effect,
        ranked.hours_lost_per_week,
        ranked.rank_in_team_week as cost_rank_in_team_week,
        cast({{ window_weeks }} as integer) as verification_window_weeks,
        cast({{ baseline_weeks }} as integer) as baseline_weeks,
        cast(ranked.baseline_weeks_with_data as integer) as baseline_weeks_with_data,
        cast(ranked.baseline_units as integer) as baseline_units,
        {{ metric_round('ranked.units_per_week') }} as units_per_week,
        {{ metric_round('ranked.baseline_mean') }} as baseline_test_mean,
        {{ metric_round('ranked.standard_error') }} as standard_error,
        {{ metric_round('ranked.expected_shift') }} as expected_shift,
        {{ metric_round('ranked.minimum_detectable_shift') }} as minimum_detectable_shift,
        {{ metric_round('ranked.minimum_detectable_change_pct') }} as minimum_detectable_change_pct,
        ranked.is_success_provable,
        cast(ranked.recommendation_rank_in_team_week as integer) as recommendation_rank_in_team_week,
        ranked.recommendation_rank_in_team_week = 1 as is_recommendation_of_the_week,
        cast({{ var('verification_alpha') }} as numeric) as significance_alpha,
        cast({{ var('verification_power') }} as numeric) as target_power
    from ranked

)

select * from final
