{#- True when a GitLab username is a bot: listed in the seed `bot_accounts` (case-insensitive) or matching
    the var `bot_username_pattern`. Null usernames are not bots. -#}
{% macro is_bot_username(username_expr) -%}
    {{ return(adapter.dispatch('is_bot_username', 'heimdall')(username_expr)) }}
{%- endmacro %}

{% macro default__is_bot_username(username_expr) -%}
    coalesce(
        lower({{ username_expr }}) in (select lower(bot_accounts.username) from {{ ref('bot_accounts') }} as bot_accounts)
        or {{ username_expr }} ~* '{{ var("bot_username_pattern") }}',
        false
    )
{%- endmacro %}

{#- Set-returning: every Jira issue key (var `jira_issue_key_pattern`) in a text, as one-element text arrays.
    A key must not be glued to letters or digits on either side (`xPAY-1` and `PAY-1a` are not keys).
    Use as `cross join lateral {{ issue_key_matches('t.text') }} as key_match (parts)` and `parts[1]`. -#}
{% macro issue_key_matches(text_expr) -%}
    {{ return(adapter.dispatch('issue_key_matches', 'heimdall')(text_expr)) }}
{%- endmacro %}

{% macro default__issue_key_matches(text_expr) -%}
    regexp_matches({{ text_expr }}, '(?<![A-Za-z0-9])({{ var("jira_issue_key_pattern") }})(?![A-Za-z0-9])', 'g')
{%- endmacro %}

{#- Monday of the ISO week of a timestamptz, in UTC, as a date (matches dim_dates.week_start_date). -#}
{% macro utc_week_start(expr) -%}
    {{ return(adapter.dispatch('utc_week_start', 'heimdall')(expr)) }}
{%- endmacro %}

{% macro default__utc_week_start(expr) -%}
    cast(date_trunc('week', ({{ expr }}) at time zone 'UTC') as date)
{%- endmacro %}

{#- Non-negative hours from a to b, rounded to 4 decimals as numeric(14, 4); null when either end is null
    (unlike greatest(0, ...), which turns a null into 0). -#}
{% macro clamped_hours(start_expr, end_expr) -%}
    (case
        when ({{ start_expr }}) is not null and ({{ end_expr }}) is not null
            then cast(round(cast(greatest(0, {{ hours_between(start_expr, end_expr) }}) as numeric), 4) as numeric(14, 4))
    end)
{%- endmacro %}

{#- Working hours between two timestamptz: the part of [start, end) that falls on Monday-Friday between
    var `working_hours_start` and `working_hours_end` (hours, local time in var `working_hours_timezone`),
    as numeric(14, 4). Null when either end is null; 0 when end <= start. Public holidays are not modelled. -#}
{% macro working_hours_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('working_hours_between', 'heimdall')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro postgres__working_hours_between(start_expr, end_expr) -%}
    {%- set tz = var('working_hours_timezone', 'UTC') -%}
    {%- set day_start = var('working_hours_start', 9) | int -%}
    {%- set day_end = var('working_hours_end', 18) | int -%}
    (case
        when ({{ start_expr }}) is not null and ({{ end_expr }}) is not null
            then (
                select cast(round(cast(coalesce(sum(
                    greatest(0, extract(epoch from
                        least(({{ end_expr }}) at time zone '{{ tz }}', work_day + interval '{{ day_end }} hours')
                        - greatest(({{ start_expr }}) at time zone '{{ tz }}', work_day + interval '{{ day_start }} hours')
                    ))
                ), 0) / 3600.0 as numeric), 4) as numeric(14, 4))
                from generate_series(
                    date_trunc('day', ({{ start_expr }}) at time zone '{{ tz }}'),
                    ({{ end_expr }}) at time zone '{{ tz }}',
                    interval '1 day'
                ) as work_days (work_day)
                where extract(isodow from work_days.work_day) < 6
            )
    end)
{%- endmacro %}
