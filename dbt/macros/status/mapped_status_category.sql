{#- The category picked by `join_status_category`: the project's row, else the all-projects row, else null. -#}
{% macro mapped_status_category() -%}
    coalesce(project_map.status_category, global_map.status_category)
{%- endmacro %}
