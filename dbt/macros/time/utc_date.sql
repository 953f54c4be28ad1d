{#- UTC calendar day of a timestamptz. -#}
{% macro utc_date(expr) -%}
    {{ return(adapter.dispatch('utc_date', 'heimdall')(expr)) }}
{%- endmacro %}

{% macro default__utc_date(expr) -%}
    cast(({{ expr }}) at time zone 'UTC' as date)
{%- endmacro %}
