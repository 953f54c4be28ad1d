{#- Per team and UTC day over the dim_dates spine: done work reaching done that day (fct_issue_lifecycle
    .is_done_work: currently done, incidents excluded, counted on done_at), how many of those were reworked, and
    cycle-time stats; incidents reaching done that day are counted apart (incidents_completed), never in
    issues_completed. Days without completions are present with 0. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"), indexed for what the
    dashboards, apps and report ask (one team's days or weeks, one issue, one merge request). -#}
{{
    config(
        indexes=[
            {'columns': ['team_id', 'date_day']}
        ]
    )
}}
with

lifecycle as (

    select * from {{ ref('fct_issue_lifecycle') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

teams as (

    select distinct team_id from lifecycle

),

completions as (

    select
        team_id,
        {{ utc_date('done_at') }} as date_day,
        count(*) filter (where is_done_work) as issues_completed,
        count(*) filter (where is_done_work and is_reworked) as reworked_completed,
        count(*) filter (where is_incident) as incidents_completed,
        avg(cycle_time_hours) filter (where is_done_work) as avg_cycle_time_hours,
        avg(lead_time_hours) filter (where is_done_work) as avg_lead_time_hours
    from lifecycle
    where done_at is not null
    group by team_id, {{ utc_date('done_at') }}

),

final as (

    select
        teams.team_id || ':' || cast(dates.date_day as text) as throughput_daily_id,
        teams.team_id,
        dates.date_day,
        cast(coalesce(completions.issues_completed, 0) as integer) as issues_completed,
        cast(coalesce(completions.reworked_completed, 0) as integer) as reworked_completed,
        cast(coalesce(completions.incidents_completed, 0) as integer) as incidents_completed,
        case
            when completions.issues_completed > 0
                then cast(round(cast(completions.reworked_completed as numeric) / completions.issues_completed, 4) as numeric(8, 4))
        end as rework_rate,
        cast(round(cast(completions.avg_cycle_time_hours as numeric), 4) as numeric(14, 4)) as avg_cycle_time_hours,
        cast(round(cast(completions.avg_lead_time_hours as numeric), 4) as numeric(14, 4)) as avg_lead_time_hours
    from dates
    cross join teams
    left join completions
        on teams.team_id = completions.team_id and dates.date_day = completions.date_day

)

select * from final
