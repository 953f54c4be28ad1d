{#- Status names are compared normalised: lower-case, trimmed, `-`/`_` -> space, runs of spaces collapsed. -#}
{% macro normalize_status_name(expr) -%}
    {{ return(adapter.dispatch('normalize_status_name', 'heimdall')(expr)) }}
{%- endmacro %}

{% macro default__normalize_status_name(expr) -%}
    trim(regexp_replace(translate(lower(trim({{ expr }})), '-_', '  '), '\s+', ' ', 'g'))
{%- endmacro %}

{#- Team slug: lower-case, every run of characters other than a-z0-9 -> `-`, no leading/trailing `-`. -#}
{% macro slugify(expr) -%}
    {{ return(adapter.dispatch('slugify', 'heimdall')(expr)) }}
{%- endmacro %}

{% macro default__slugify(expr) -%}
    nullif(trim(both '-' from regexp_replace(lower({{ expr }}), '[^a-z0-9]+', '-', 'g')), '')
{%- endmacro %}

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

{#- Hours between two timestamps as a numeric (b - a). -#}
{% macro hours_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('hours_between', 'heimdall')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro default__hours_between(start_expr, end_expr) -%}
    (extract(epoch from ({{ end_expr }}) - ({{ start_expr }})) / 3600.0)
{%- endmacro %}

{#- UTC calendar day of a timestamptz. -#}
{% macro utc_date(expr) -%}
    {{ return(adapter.dispatch('utc_date', 'heimdall')(expr)) }}
{%- endmacro %}

{% macro default__utc_date(expr) -%}
    cast(({{ expr }}) at time zone 'UTC' as date)
{%- endmacro %}

{#- Sortable key for Jira's numeric-string ids (history ids, sprint ids). -#}
{% macro numeric_id(expr) -%}
    (case when {{ expr }} ~ '^[0-9]+$' then cast({{ expr }} as numeric) end)
{%- endmacro %}
