{#- How far one value is beyond a diagnosis rule's threshold, in the rule's direction (`above`: value - threshold,
    `below`: threshold - value), never negative. The one definition of a rule's excess, used per item and on
    window aggregates by the diagnosis (int_diagnosis_rules_evaluated) and the ROI comparison
    (fct_roi_comparison). -#}
{% macro rule_item_excess(value_expr, direction_expr, threshold_expr) -%}
    (case
        when {{ direction_expr }} = 'above' then greatest({{ value_expr }} - {{ threshold_expr }}, 0)
        else greatest({{ threshold_expr }} - {{ value_expr }}, 0)
    end)
{%- endmacro %}
