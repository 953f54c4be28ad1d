{#- One recommended intervention per team and diagnosis rule (`<team_id>:<rule_id>`): for every diagnosis that
    fires in the current window, the playbook's action, the metric to watch, the expected effect and the ROI
    estimate with every assumption spelled out; plus every recommendation that has a decision but no longer
    fires (from the decision's snapshot), so approved interventions stay visible while they are verified.
    Status comes from app.recommendation_decisions (latest decision wins). Current recommendations carry their
    verification power from fct_weekly_recommendations (minimum detectable change over the verification window
    against the expected change, `is_success_provable`) and `is_recommendation_of_the_week` marks the team's
    recommendation of the week. -#}
with

diagnoses as (

    select * from {{ ref('fct_diagnoses') }}

),

playbook as (

    select * from {{ ref('recommendation_playbook') }}

),

latest_decisions as (

    select * from {{ ref('int_recommendation_decisions_latest') }}

),

weekly as (

    select * from {{ ref('fct_weekly_recommendations') }}

),

diagnosed as (

    select
        diagnoses.team_id || ':' || diagnoses.rule_id as recommendation_id,
        diagnoses.diagnosis_id,
        diagnoses.team_id,
        diagnoses.rule_id,
        playbook.title,
        playbook.action,
        playbook.metric_name,
        playbook.guard_metric_name,
        playbook.expected_effect,
        playbook.expected_change_pct,
        playbook.expected_recovery_share,
        diagnoses.metric_name as diagnosed_metric_name,
        diagnoses.window_aggregation,
        diagnoses.metric_value as current_value,
        diagnoses.threshold_value,
        diagnoses.org_baseline_value as baseline_value,
        diagnoses.fired_by,
        diagnoses.comparison_value,
        diagnoses.reference_start_date,
        diagnoses.reference_end_date,
        diagnoses.effect_ratio,
        diagnoses.effect_ratio_ci_low,
        diagnoses.effect_ratio_ci_high,
        diagnoses.severity,
        diagnoses.excess_units_per_week,
        diagnoses.excess_unit,
        diagnoses.hours_per_excess_unit,
        diagnoses.hours_lost_per_week,
        diagnoses.evidence_count,
        diagnoses.window_start_date,
        diagnoses.window_end_date,
        true as is_currently_diagnosed
    from diagnoses
    inner join playbook on diagnoses.rule_id = playbook.rule_id
    where diagnoses.is_current

),

decided_only as (

    select
        latest_decisions.recommendation_id,
        cast(null as text) as diagnosis_id,
        latest_decisions.team_id,
        latest_decisions.rule_id,
        coalesce(latest_decisions.title, playbook.title) as title,
        playbook.action,
        latest_decisions.metric_name,
        playbook.guard_metric_name,
        playbook.expected_effect,
        playbook.expected_change_pct,
        playbook.expected_recovery_share,
        cast(null as text) as diagnosed_metric_name,
        cast(null as text) as window_aggregation,
        cast(null as numeric) as current_value,
        cast(null as numeric) as threshold_value,
        cast(null as numeric) as baseline_value,
        cast(null as text) as fired_by,
        cast(null as numeric) as comparison_value,
        cast(null as date) as reference_start_date,
        cast(null as date) as reference_end_date,
        cast(null as numeric) as effect_ratio,
        cast(null as numeric) as effect_ratio_ci_low,
        cast(null as numeric) as effect_ratio_ci_high,
        cast(null as text) as severity,
        cast(null as numeric) as excess_units_per_week,
        cast(null as text) as excess_unit,
        cast(null as numeric) as hours_per_excess_unit,
        cast(null as numeric) as hours_lost_per_week,
        0 as evidence_count,
        cast(null as date) as window_start_date,
        cast(null as date) as window_end_date,
        false as is_currently_diagnosed
    from latest_decisions
    left join playbook on latest_decisions.rule_id = playbook.rule_id
    where latest_decisions.recommendation_id not in (select diagnosed.recommendation_id from diagnosed)

),

unioned as (

    select * from diagnosed
    union all
    select * from decided_only

),

valued as (

    select
        *,
        hours_lost_per_week * expected_recovery_share as hours_recovered_per_week,
        cast({{ var('hourly_cost') }} as numeric) as hourly_cost
    from unioned

),

final as (

    select
        valued.recommendation_id,
        valued.diagnosis_id,
        valued.team_id,
        valued.rule_id,
        cast(row_number() over (
            order by valued.is_currently_diagnosed desc, valued.hours_lost_per_week desc nulls last, valued.recommendation_id asc
        ) as integer) as rank,
        valued.title,
        valued.action,
        valued.metric_name,
        valued.guard_metric_name,
        valued.expected_effect,
        valued.severity,
        valued.current_value,
        valued.threshold_value,
        valued.baseline_value,
        valued.fired_by,
        valued.comparison_value,
        valued.effect_ratio,
        valued.effect_ratio_ci_low,
        valued.effect_ratio_ci_high,
        valued.hours_lost_per_week,
        valued.expected_change_pct,
        valued.expected_recovery_share,
        {{ metric_round('valued.hours_recovered_per_week') }} as hours_recovered_per_week,
        valued.hourly_cost,
        '{{ var("hourly_cost_currency") }}' as hourly_cost_currency,
        {{ metric_round('valued.hours_recovered_per_week * valued.hourly_cost') }} as weekly_value,
        case
            when valued.is_currently_diagnosed
                then
                    'Window ' || cast(valued.window_start_date as text) || ' to ' || cast(valued.window_end_date as text)
                    || ': ' || valued.diagnosed_metric_name || ' (' || valued.window_aggregation || ') = '
                    || cast(valued.current_value as text) || ' against '
                    || case valued.fired_by
                        when 'change_vs_own_reference'
                            then
                                'the team''s own reference (' || cast(valued.reference_start_date as text) || ' to '
                                || cast(valued.reference_end_date as text) || ')'
                        when 'outlier_vs_organisation' then 'the organisation'
                        when 'always_bad_level' then 'the always-bad level'
                        else 'the threshold'
                    end
                    || ' of ' || cast(coalesce(valued.comparison_value, valued.threshold_value) as text)
                    || coalesce(
                        ': effect x' || cast(round(valued.effect_ratio, 2) as text) || ' (95% interval x'
                        || cast(round(valued.effect_ratio_ci_low, 2) as text) || ' to x'
                        || cast(round(valued.effect_ratio_ci_high, 2) as text) || ')',
                        ''
                    )
                    || ' (organisation: ' || coalesce(cast(valued.baseline_value as text), 'n/a') || '). Excess: '
                    || cast(valued.excess_units_per_week as text) || ' per week, one unit = ' || valued.excess_unit
                    || '. Assumed cost: ' || cast(valued.hours_per_excess_unit as text)
                    || ' engineer-hours per unit (seed diagnosis_rules) => '
                    || cast(valued.hours_lost_per_week as text) || ' h/week lost. The playbook expects to recover '
                    || cast(round(100 * valued.expected_recovery_share) as text) || '% of it => '
                    || cast(round(valued.hours_recovered_per_week, 2) as text) || ' h/week x '
                    || cast(valued.hourly_cost as text) || ' {{ var("hourly_cost_currency") }}/h (var hourly_cost) = '
                    || cast(round(valued.hours_recovered_per_week * valued.hourly_cost, 2) as text)
                    || ' {{ var("hourly_cost_currency") }}/week. Estimates, not measurements: verify with '
                    || 'fct_intervention_outcomes after approval.'
            else 'No longer diagnosed in the current window; kept because it has a decision.'
        end as assumptions,
        valued.evidence_count,
        valued.is_currently_diagnosed,
        coalesce(latest_decisions.decision, 'proposed') as status,
        latest_decisions.decided_by,
        latest_decisions.decided_at,
        latest_decisions.decision_note,
        latest_decisions.intervention_start_date,
        weekly.verification_window_weeks,
        weekly.minimum_detectable_change_pct,
        weekly.is_success_provable,
        coalesce(weekly.is_recommendation_of_the_week, false) as is_recommendation_of_the_week
    from valued
    left join latest_decisions on valued.recommendation_id = latest_decisions.recommendation_id
    left join weekly on valued.diagnosis_id = weekly.diagnosis_id

)

select * from final
