{#- Ordered-set percentile (continuous) of expr, e.g. percentile_of('x', 0.85); an aggregate. -#}
{% macro percentile_of(expr, fraction) -%}
    {{ return(adapter.dispatch('percentile_of', 'heimdall')(expr, fraction)) }}
{%- endmacro %}

{% macro default__percentile_of(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}
