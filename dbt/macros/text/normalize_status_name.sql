{#- Status names are compared normalised: lower-case, trimmed, `-`/`_` -> space, runs of spaces collapsed. -#}
{% macro normalize_status_name(expr) -%}
    {{ return(adapter.dispatch('normalize_status_name', 'heimdall')(expr)) }}
{%- endmacro %}

{% macro default__normalize_status_name(expr) -%}
    trim(regexp_replace(translate(lower(trim({{ expr }})), '-_', '  '), '\s+', ' ', 'g'))
{%- endmacro %}
