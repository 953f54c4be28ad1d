{#- A diagnosis rule's aggregate of a window of observations (seed diagnosis_rules.window_aggregation): the
    median, the mean, or the sum per week (`sum_per_week`: the window's total / its weeks). -#}
{% macro rule_window_value(window_aggregation_expr, median_expr, mean_expr, sum_expr, weeks_expr) -%}
    (case {{ window_aggregation_expr }}
        when 'median' then {{ median_expr }}
        when 'mean' then {{ mean_expr }}
        when 'sum_per_week' then {{ sum_expr }} / {{ weeks_expr }}
    end)
{%- endmacro %}
