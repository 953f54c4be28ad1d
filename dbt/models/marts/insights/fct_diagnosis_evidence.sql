{#- The items behind each fired diagnosis: the team's observations in the diagnosis window whose value is worse
    than the comparison that fired it (the team's reference, the organisation, or the always-bad level: see
    int_diagnosis_rules_evaluated) — issue keys, merge requests, pipelines, sprints, team-weeks — worst first. -#}
with

evaluations as (

    select * from {{ ref('int_diagnosis_rules_evaluated') }}
    where is_fired

),

observations as (

    select * from {{ ref('fct_metric_observations') }}

),

matched as (

    select
        evaluations.rule_evaluation_id as diagnosis_id,
        evaluations.rule_id,
        evaluations.team_id,
        evaluations.direction,
        observations.metric_observation_id,
        observations.metric_name,
        observations.item_type,
        observations.item_id,
        observations.item_label,
        observations.item_url,
        observations.observed_at,
        observations.value
    from evaluations
    inner join observations
        on
            evaluations.team_id = observations.team_id
            and evaluations.metric_name = observations.metric_name
            and observations.observed_at >= cast(evaluations.window_start_date as timestamp) at time zone 'UTC'
            and observations.observed_at < cast(evaluations.window_end_date + 1 as timestamp) at time zone 'UTC'
    where
        (evaluations.direction = 'above' and observations.value > evaluations.comparison_value)
        or (evaluations.direction = 'below' and observations.value < evaluations.comparison_value)

),

final as (

    select
        diagnosis_id || '|' || metric_observation_id as diagnosis_evidence_id,
        diagnosis_id,
        rule_id,
        team_id,
        metric_name,
        item_type,
        item_id,
        item_label,
        item_url,
        observed_at,
        value,
        row_number() over (
            partition by diagnosis_id
            order by case when direction = 'above' then value else -value end desc, observed_at, item_id asc
        ) as evidence_rank
    from matched

)

select * from final
