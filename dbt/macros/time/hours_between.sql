{#- Hours between two timestamps as a numeric (b - a). -#}
{% macro hours_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('hours_between', 'heimdall')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro default__hours_between(start_expr, end_expr) -%}
    (extract(epoch from ({{ end_expr }}) - ({{ start_expr }})) / 3600.0)
{%- endmacro %}
