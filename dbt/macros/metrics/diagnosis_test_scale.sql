{#- The diagnosis tests' scale (int_diagnosis_rules_evaluated, docs/metrics.md "Diagnosis"), one definition for
    every group of observations compared (the team's window, its reference stretch, the other teams over
    either). Arguments are SQL expressions over sums from int_metric_observations_summed_weekly.

    diagnosis_test_mean: sum_per_week rules -> log of the weekly total per team, with half an average item as
    continuity correction; other rules -> the mean of the units' test values (log(1 + value) for median rules,
    the value for mean rules).
    diagnosis_test_se2: its squared standard error -> compound Poisson (sum of squares / total^2, the delta
    method for a log total) or the sample variance of the units / units. -#}
{% macro diagnosis_test_mean(aggregation, value_sum, scaled_sum, units, weeks, half_item, teams='1') -%}
    case
        when {{ aggregation }} = 'sum_per_week'
            then ln(({{ value_sum }} + {{ half_item }}) / {{ weeks }} / nullif({{ teams }}, 0))
        else ({{ scaled_sum }}) / nullif({{ units }}, 0)
    end
{%- endmacro %}

{% macro diagnosis_test_se2(aggregation, value_sum, value_square_sum, scaled_sum, scaled_square_sum, units, half_item) -%}
    case
        when {{ aggregation }} = 'sum_per_week'
            then ({{ value_square_sum }} + {{ half_item }} ^ 2 * 2) / ({{ value_sum }} + {{ half_item }}) ^ 2
        when {{ units }} > 1
            then
                ({{ scaled_square_sum }} - ({{ scaled_sum }}) ^ 2 / ({{ units }}))
                / ({{ units }} - 1) / ({{ units }})
        else 0
    end
{%- endmacro %}
