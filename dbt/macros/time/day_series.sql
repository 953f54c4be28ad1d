{#- One row per day from start_date to end_date inclusive (column `date_day`). -#}
{% macro day_series(start_date, end_date) -%}
    {{ return(adapter.dispatch('day_series', 'heimdall')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__day_series(start_date, end_date) -%}
    select cast(day_ts as date) as date_day
    from generate_series(cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval '1 day') as day_ts
{%- endmacro %}
