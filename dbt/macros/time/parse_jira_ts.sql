{#- Parse a Jira/GitLab timestamp string to a UTC timestamptz.
    Accepts `2024-03-05T09:12:44.000+0000`, `2015-04-11T15:22:00.000+10:00`, `...Z`, and bare
    numbers as epoch milliseconds (as Jira webhooks send them); anything else becomes null instead of failing. -#}
{% macro parse_jira_ts(expr) -%}
    {{ return(adapter.dispatch('parse_jira_ts', 'heimdall')(expr)) }}
{%- endmacro %}

{% macro default__parse_jira_ts(expr) -%}
    cast(nullif(trim({{ expr }}), '') as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro postgres__parse_jira_ts(expr) -%}
    (case
        when trim({{ expr }}) ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}'
            then cast(regexp_replace(trim({{ expr }}), '([+-][0-9]{2})([0-9]{2})$', '\1:\2') as timestamptz)
        when trim({{ expr }}) ~ '^[0-9]{1,15}$'
            then to_timestamp(cast(trim({{ expr }}) as numeric) / 1000)
    end)
{%- endmacro %}
