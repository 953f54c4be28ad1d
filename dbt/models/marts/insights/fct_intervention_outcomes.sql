{#- Verified outcomes of each approved intervention, one row per metric it is verified on: its watched metric
    (`metric_role` watched) and its rule's guard metric (guard, seed recommendation_playbook.guard_metric_name,
    e.g. merged_without_review for a review SLO). The statistics are computed in Python by insights/verification
    (bootstrap 95% CI of the change, difference-in-differences against the untreated teams, verdict) and joined
    to the recommendation they verify; the watched row also carries its guard's verdict. Each row reports its
    power (issue 12): the minimum detectable change at the observed samples against the playbook's expected
    change (`is_powered`) and, while the verdict is "not enough data to tell yet", the day it is expected to be
    decidable at the team's weekly volume. Reproducible: the same stored data and decisions give the same rows
    (deterministic statistics). -#}
with

outcomes as (

    select * from {{ ref('stg_analysis__intervention_outcomes') }}

),

recommendations as (

    select * from {{ ref('fct_recommendations') }}

),

guards as (

    select
        recommendation_id,
        metric_name as guard_metric_name,
        verdict as guard_verdict
    from outcomes
    where metric_role = 'guard'

),

final as (

    select
        outcomes.recommendation_id || ':' || outcomes.metric_name as intervention_outcome_id,
        outcomes.recommendation_id,
        cast(outcomes.decision_id as text) as decision_id,
        outcomes.team_id,
        recommendations.rule_id,
        recommendations.title,
        outcomes.metric_name,
        outcomes.metric_role,
        outcomes.aggregation,
        outcomes.intervention_start_date,
        outcomes.baseline_start,
        outcomes.baseline_end,
        outcomes.current_start,
        outcomes.current_end,
        outcomes.treated_n_before,
        outcomes.treated_n_after,
        outcomes.treated_before,
        outcomes.treated_after,
        outcomes.change,
        outcomes.change_pct,
        outcomes.change_ci_low,
        outcomes.change_ci_high,
        outcomes.change_pct_ci_low,
        outcomes.change_pct_ci_high,
        outcomes.control_teams,
        outcomes.control_n_before,
        outcomes.control_n_after,
        outcomes.control_before,
        outcomes.control_after,
        outcomes.did_estimate,
        outcomes.did_ci_low,
        outcomes.did_ci_high,
        outcomes.verdict,
        outcomes.verdict_basis,
        outcomes.test_scale,
        outcomes.effect_estimate,
        outcomes.effect_se,
        outcomes.treated_units_per_week,
        outcomes.expected_change_pct,
        outcomes.expected_effect_shift,
        outcomes.minimum_detectable_shift,
        outcomes.minimum_detectable_change_pct,
        outcomes.is_powered,
        outcomes.weeks_observed,
        outcomes.weeks_needed,
        outcomes.expected_decidable_on,
        outcomes.significance_alpha,
        outcomes.target_power,
        case when outcomes.metric_role = 'watched' then guards.guard_metric_name end as guard_metric_name,
        case when outcomes.metric_role = 'watched' then guards.guard_verdict end as guard_verdict,
        outcomes.bootstrap_resamples,
        outcomes.random_seed,
        outcomes.as_of,
        outcomes.computed_at
    from outcomes
    left join recommendations on outcomes.recommendation_id = recommendations.recommendation_id
    left join guards on outcomes.recommendation_id = guards.recommendation_id

)

select * from final
