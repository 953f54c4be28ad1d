{#- Per team, metric and ISO week: the sufficient statistics of the week's observations, which the diagnosis
    tests add up over any run of weeks (its window, a reference stretch, the rest of the organisation).
    Observations that share a cause (fct_metric_observations.cluster_id: the MRs one deployment shipped) are one
    test unit whose value is their mean, so a batch of MRs that waited together is not counted as many
    independent waits. Statistics: items, units and units with a value above zero (the events of a total);
    sum and sum of squares of the values (items) and of the
    units' test values, log(1 + value) for the median rules' skewed durations and the value otherwise. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"): read by every comparison of the diagnosis and by the recommendation of the week; computed once. -#}
{{ config(materialized='table') }}
with

observations as (

    select * from {{ ref('fct_metric_observations') }}

),

units as (

    select
        team_id,
        metric_name,
        {{ utc_week_start('observed_at') }} as week_start_date,
        cluster_id,
        count(*) as item_count,
        sum(value) as item_value_sum,
        sum(engineer_count) as engineer_count_sum,
        avg(value) as unit_value,
        avg(ln(1 + greatest(value, 0))) as unit_log_value
    from observations
    group by team_id, metric_name, {{ utc_week_start('observed_at') }}, cluster_id

),

final as (

    select
        team_id || ':' || metric_name || ':' || cast(week_start_date as text) as metric_week_id,
        team_id,
        metric_name,
        week_start_date,
        sum(item_count) as observation_count,
        count(*) as unit_count,
        count(*) filter (where unit_value > 0) as positive_unit_count,
        sum(item_value_sum) as value_sum,
        coalesce(sum(engineer_count_sum), 0) as engineer_count_sum,
        sum(unit_value) as unit_value_sum,
        sum(unit_value * unit_value) as unit_value_square_sum,
        sum(unit_log_value) as unit_log_value_sum,
        sum(unit_log_value * unit_log_value) as unit_log_value_square_sum
    from units
    group by team_id, metric_name, week_start_date

)

select * from final
