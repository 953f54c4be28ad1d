{#- The status -> category lookup, in one place. A `status_category_map` row for the issue's project wins over
    the all-projects row. Callers import the model `int_status_category_map_keyed` (the seed with project_key ''
    for all projects) as a CTE named `status_map`, then:

        from x
        {{ join_status_category('x.status_name_normalized', 'x.project_key') }}

    and select `{{ mapped_status_category() }}` (null when the name is unmapped). -#}
{% macro join_status_category(status_name_normalized, project_key) -%}
    left join status_map as project_map
        on
            {{ status_name_normalized }} = project_map.status_name_normalized
            and coalesce({{ project_key }}, '') = project_map.project_key
    left join status_map as global_map
        on
            {{ status_name_normalized }} = global_map.status_name_normalized
            and global_map.project_key = ''
{%- endmacro %}
