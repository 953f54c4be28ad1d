{#- Monday of the ISO week of a timestamptz, in UTC, as a date (matches dim_dates.week_start_date). -#}
{% macro utc_week_start(expr) -%}
    {{ return(adapter.dispatch('utc_week_start', 'heimdall')(expr)) }}
{%- endmacro %}

{% macro default__utc_week_start(expr) -%}
    cast(date_trunc('week', ({{ expr }}) at time zone 'UTC') as date)
{%- endmacro %}
