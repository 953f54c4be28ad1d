{#- Verified outcome of each approved intervention: the statistics computed in Python by insights/verification
    (bootstrap 95% CI of the change in the watched metric, difference-in-differences against the untreated
    teams, verdict) joined to the recommendation it verifies. Reproducible: the same stored data and
    decisions give the same rows (seeded resampling). -#}
with

outcomes as (

    select * from {{ ref('stg_analysis__intervention_outcomes') }}

),

recommendations as (

    select * from {{ ref('fct_recommendations') }}

),

final as (

    select
        outcomes.recommendation_id,
        cast(outcomes.decision_id as text) as decision_id,
        outcomes.team_id,
        recommendations.rule_id,
        recommendations.title,
        outcomes.metric_name,
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
        outcomes.bootstrap_resamples,
        outcomes.random_seed,
        outcomes.as_of,
        outcomes.computed_at
    from outcomes
    left join recommendations on outcomes.recommendation_id = recommendations.recommendation_id

)

select * from final
