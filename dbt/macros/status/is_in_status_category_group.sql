{#- True when a flow category belongs to a group, the one place the groups are defined:
      active  in_progress, review                   (work is being done: started_at, flow efficiency)
      wip     in_progress, review, waiting, blocked  (started and not finished: WIP daily and current) -#}
{% macro is_in_status_category_group(category_expr, group_name) -%}
    {%- set groups = {
        'active': ['in_progress', 'review'],
        'wip': ['in_progress', 'review', 'waiting', 'blocked'],
    } -%}
    {%- if group_name not in groups -%}
        {{ exceptions.raise_compiler_error("unknown status category group '" ~ group_name ~ "'") }}
    {%- endif -%}
    {{ category_expr }} in ('{{ groups[group_name] | join("', '") }}')
{%- endmacro %}
