{#- Team slug: lower-case, every run of characters other than a-z0-9 -> `-`, no leading/trailing `-`. -#}
{% macro slugify(expr) -%}
    {{ return(adapter.dispatch('slugify', 'heimdall')(expr)) }}
{%- endmacro %}

{% macro default__slugify(expr) -%}
    nullif(trim(both '-' from regexp_replace(lower({{ expr }}), '[^a-z0-9]+', '-', 'g')), '')
{%- endmacro %}
