{#- Sortable key for Jira's numeric-string ids (history ids, sprint ids). -#}
{% macro numeric_id(expr) -%}
    (case when {{ expr }} ~ '^[0-9]+$' then cast({{ expr }} as numeric) end)
{%- endmacro %}
