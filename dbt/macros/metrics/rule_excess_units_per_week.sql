{#- Excess units per week of a window of observations under a diagnosis rule's cost model (seed
    diagnosis_rules.excess_basis); times hours_per_excess_unit it is the hours lost per week. The one definition,
    used by the diagnosis (int_diagnosis_rules_evaluated) and the ROI comparison (fct_roi_comparison):
      per_item   the sum over the window's items of how far each is beyond the threshold, per week;
      rate       how far the window's aggregate is beyond the threshold x the items, per week
                 (e.g. failed pipelines beyond the threshold failure rate);
      aggregate  how far the window's aggregate (a weekly total) is beyond the threshold;
      per_engineer  as per_item, each item's excess counted for every engineer of the team (the caller weighs
                 rule_item_excess by the observation's engineer_count: WIP per engineer costs each engineer).
    `window_value_expr` is the rule's window aggregate (rule_window_value), `item_excess_sum_expr` the sum of
    rule_item_excess over the items, `weeks_expr` the window's length in weeks. -#}
{% macro rule_excess_units_per_week(
    excess_basis_expr,
    direction_expr,
    threshold_expr,
    window_value_expr,
    item_excess_sum_expr,
    sample_size_expr,
    weeks_expr
) -%}
    (case {{ excess_basis_expr }}
        when 'per_item' then coalesce({{ item_excess_sum_expr }}, 0) / {{ weeks_expr }}
        when 'per_engineer' then coalesce({{ item_excess_sum_expr }}, 0) / {{ weeks_expr }}
        when 'rate'
            then {{ rule_item_excess(window_value_expr, direction_expr, threshold_expr) }}
            * {{ sample_size_expr }} / {{ weeks_expr }}
        when 'aggregate' then {{ rule_item_excess(window_value_expr, direction_expr, threshold_expr) }}
    end)
{%- endmacro %}
