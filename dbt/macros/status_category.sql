{#- The status → category rule, in one place. A `status_category_map` row for the issue's project wins over
    the all-projects row (blank project_key). Callers import the seed as a CTE named `status_map`
    (status_name_normalized, status_category, project_key coalesced to ''), then:

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

{% macro mapped_status_category() -%}
    coalesce(project_map.status_category, global_map.status_category)
{%- endmacro %}
