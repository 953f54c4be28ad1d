{#- The build's "now": var `as_of` (an ISO timestamp) or, when null, the database now(). -#}
{% macro as_of_ts() -%}
    {{ return(adapter.dispatch('as_of_ts', 'heimdall')()) }}
{%- endmacro %}

{% macro default__as_of_ts() -%}
    {%- set as_of = var('as_of') -%}
    {%- if as_of is none or (as_of | string | trim) in ('', 'None', 'null') -%}
        {{ dbt.current_timestamp() }}
    {%- else -%}
        cast('{{ as_of }}' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}

{% macro postgres__as_of_ts() -%}
    {%- set as_of = var('as_of') -%}
    {%- if as_of is none or (as_of | string | trim) in ('', 'None', 'null') -%}
        now()
    {%- else -%}
        cast('{{ as_of }}' as timestamptz)
    {%- endif -%}
{%- endmacro %}
