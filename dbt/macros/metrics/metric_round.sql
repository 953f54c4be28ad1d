{#- numeric(14, 4) rounding used by every metric column. -#}
{% macro metric_round(expr) -%}
    cast(round(cast({{ expr }} as numeric), 4) as numeric(14, 4))
{%- endmacro %}
