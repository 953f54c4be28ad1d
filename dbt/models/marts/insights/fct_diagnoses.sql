{#- One row per detected bottleneck: a diagnosis rule that fired for a team on the trailing window ending with
    an ISO week, with the comparison that fired it (change against the team's own reference stretch, outlier
    against the organisation, or an always-bad level), the reference and window, the effect with its 95%
    interval, severity, the estimated engineer-hours lost per week against that comparison, and its rank among
    the team's diagnoses of that week (1 = most hours lost). -#}
with

evaluations as (

    select * from {{ ref('int_diagnosis_rules_evaluated') }}

),

as_of_week as (

    select {{ utc_week_start(as_of_ts()) }} as week_start_date

),

evidence_counts as (

    select
        diagnosis_id,
        count(*) as evidence_count
    from {{ ref('fct_diagnosis_evidence') }}
    group by diagnosis_id

),

fired as (

    select
        *,
        row_number() over (
            partition by team_id, week_start_date order by hours_lost_per_week desc, effect_ratio desc, rule_id asc
        ) as rank_in_team_week,
        row_number() over (
            partition by week_start_date order by hours_lost_per_week desc, effect_ratio desc, team_id asc, rule_id asc
        ) as rank_in_week
    from evaluations
    where is_fired

),

final as (

    select
        fired.rule_evaluation_id as diagnosis_id,
        fired.team_id,
        fired.rule_id,
        fired.rule_description,
        fired.week_start_date,
        fired.window_start_date,
        fired.window_end_date,
        fired.metric_name,
        fired.window_aggregation,
        fired.direction,
        fired.metric_value,
        fired.threshold_value,
        fired.org_baseline_value,
        fired.ratio_to_threshold,
        fired.ratio_to_baseline,
        fired.sample_size,
        fired.fired_by,
        fired.comparison_value,
        fired.reference_start_date,
        fired.reference_end_date,
        fired.reference_value,
        fired.reference_sample_size,
        fired.effect_ratio,
        fired.effect_ratio_ci_low,
        fired.effect_ratio_ci_high,
        fired.change_z,
        fired.outlier_z,
        fired.level_z,
        case
            when fired.effect_ratio >= 2 then 'high'
            when fired.effect_ratio >= 1.5 then 'medium'
            else 'low'
        end as severity,
        fired.excess_units_per_week,
        fired.excess_unit,
        fired.hours_per_excess_unit,
        fired.hours_lost_per_week,
        fired.rank_in_team_week,
        fired.rank_in_week,
        coalesce(evidence_counts.evidence_count, 0) as evidence_count,
        fired.week_start_date = as_of_week.week_start_date as is_current
    from fired
    cross join as_of_week
    left join evidence_counts on fired.rule_evaluation_id = evidence_counts.diagnosis_id

)

select * from final
