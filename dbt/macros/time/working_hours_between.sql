{#- Working hours between two timestamptz: the part of [start, end) that falls on Monday-Friday between
    var `working_hours_start` and `working_hours_end` (hours, local time), as numeric(14, 4). The local time is
    that of `time_zone_expr` (a SQL expression giving an IANA zone name, e.g. the team's zone from
    int_team_time_zones_resolved), else of var `working_hours_timezone`. Null when either end is null; 0 when
    end <= start. Public holidays are not modelled. -#}
{% macro working_hours_between(start_expr, end_expr, time_zone_expr=none) -%}
    {{ return(adapter.dispatch('working_hours_between', 'heimdall')(start_expr, end_expr, time_zone_expr)) }}
{%- endmacro %}

{% macro postgres__working_hours_between(start_expr, end_expr, time_zone_expr=none) -%}
    {%- set tz = time_zone_expr if time_zone_expr is not none else "'" ~ var('working_hours_timezone') ~ "'" -%}
    {%- set day_start = var('working_hours_start') | int -%}
    {%- set day_end = var('working_hours_end') | int -%}
    (case
        when ({{ start_expr }}) is not null and ({{ end_expr }}) is not null
            then (
                select cast(round(cast(coalesce(sum(
                    greatest(0, extract(epoch from
                        least(({{ end_expr }}) at time zone {{ tz }}, work_day + interval '{{ day_end }} hours')
                        - greatest(({{ start_expr }}) at time zone {{ tz }}, work_day + interval '{{ day_start }} hours')
                    ))
                ), 0) / 3600.0 as numeric), 4) as numeric(14, 4))
                from generate_series(
                    date_trunc('day', ({{ start_expr }}) at time zone {{ tz }}),
                    ({{ end_expr }}) at time zone {{ tz }},
                    interval '1 day'
                ) as work_days (work_day)
                where extract(isodow from work_days.work_day) < 6
            )
    end)
{%- endmacro %}
