{#- Comma-separated id list (`"38, 40"`) -> text array of trimmed ids; null/empty -> empty array. -#}
{% macro split_id_list(expr) -%}
    {{ return(adapter.dispatch('split_id_list', 'heimdall')(expr)) }}
{%- endmacro %}

{% macro default__split_id_list(expr) -%}
    coalesce(
        array_remove(regexp_split_to_array(regexp_replace(coalesce({{ expr }}, ''), '\s+', '', 'g'), ','), ''),
        cast(array[] as text[])
    )
{%- endmacro %}
