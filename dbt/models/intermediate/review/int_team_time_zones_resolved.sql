{#- The time zone of each team's working hours (the *_working_hours review metrics): var `team_timezones`
    ({team_id: 'Europe/Berlin', ...}) when it names the team; else the Jira time zone (`assignee.timeZone`) that
    most of the team's assignees have; else var `working_hours_timezone`. Only zone names PostgreSQL knows
    (pg_timezone_names) are taken from Jira. `time_zone_source` says which rule gave the zone. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"): one row per team, read for every working-hours metric; computed once instead of once per reader and per test. -#}
{{ config(materialized='table') }}
{%- set team_timezones = var('team_timezones') or {} -%}
{%- set default_time_zone = var('working_hours_timezone') -%}
with

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

projects as (

    select * from {{ ref('stg_gitlab__projects') }}

),

known_time_zones as (

    select pg_timezone_names.name as time_zone
    from pg_catalog.pg_timezone_names

),

configured as (

    {% for team_id, time_zone in team_timezones.items() %}
        select
            '{{ team_id }}' as team_id,
            '{{ time_zone }}' as time_zone
        {% if not loop.last %}union all{% endif %}
    {% else %}
        select
            cast(null as text) as team_id,
            cast(null as text) as time_zone
        where false
    {% endfor %}

),

teams as (

    select team_id from projects
    where team_id is not null
    union
    select team_id from issues
    where team_id is not null
    union
    select team_id from configured

),

zone_people as (

    select
        issues.team_id,
        issues.assignee_time_zone as time_zone,
        count(distinct issues.assignee_account_id) as people
    from issues
    inner join known_time_zones on issues.assignee_time_zone = known_time_zones.time_zone
    where issues.team_id is not null and issues.assignee_account_id is not null
    group by issues.team_id, issues.assignee_time_zone

),

assignee_time_zones as (

    select distinct on (team_id)
        team_id,
        time_zone
    from zone_people
    order by team_id asc, people desc, time_zone asc

),

final as (

    select
        teams.team_id,
        coalesce(configured.time_zone, assignee_time_zones.time_zone, '{{ default_time_zone }}') as time_zone,
        case
            when configured.time_zone is not null then 'team_timezones'
            when assignee_time_zones.time_zone is not null then 'jira_assignees'
            else 'working_hours_timezone'
        end as time_zone_source
    from teams
    left join configured on teams.team_id = configured.team_id
    left join assignee_time_zones on teams.team_id = assignee_time_zones.team_id

)

select * from final
