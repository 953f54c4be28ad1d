{#- Open work right now (as_of): work items (incidents excluded, as in fct_wip_daily.wip_total; open incidents
    are in fct_wip_daily.incident_wip and fct_incidents) whose current status category is in_progress, review,
    waiting or blocked, with age (from started_at, else the life start) and a 0-100 risk score:
      50 x age percentile (share of the team's done issues whose cycle time is <= this item's age;
           all teams' history when the team has fewer than 5 done issues; 0.5 when there is none)
    + 20 x blocked share of the item's active age (capped at 1)
    + 20 if currently flagged
    + 10 if nobody is assigned. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"), indexed for what the
    dashboards, apps and report ask (one team's days or weeks, one issue, one merge request). -#}
{{
    config(
        indexes=[
            {'columns': ['team_id', 'risk_score']},
            {'columns': ['risk_score']}
        ]
    )
}}
with

lifecycle as (

    select * from {{ ref('fct_issue_lifecycle') }}

),

open_items as (

    select
        *,
        coalesce(started_at, life_started_at) as aged_from,
        greatest(0, {{ hours_between('coalesce(started_at, life_started_at)', as_of_ts()) }}) as age_hours
    from lifecycle
    where {{ is_in_status_category_group('current_status_category', 'wip') }} and not is_incident

),

history as (

    select
        team_id,
        cycle_time_hours
    from lifecycle
    where is_done_work and cycle_time_hours is not null

),

team_history_sizes as (

    select
        team_id,
        count(*) as done_count
    from history
    group by team_id

),

age_percentiles as (

    select
        open_items.issue_id,
        case
            when coalesce(team_history_sizes.done_count, 0) >= 5
                then (
                    select avg(case when history.cycle_time_hours <= open_items.age_hours then 1.0 else 0.0 end)
                    from history
                    where history.team_id = open_items.team_id
                )
            else coalesce(
                (
                    select avg(case when history.cycle_time_hours <= open_items.age_hours then 1.0 else 0.0 end)
                    from history
                ),
                0.5
            )
        end as age_percentile
    from open_items
    left join team_history_sizes on open_items.team_id = team_history_sizes.team_id

),

scored as (

    select
        open_items.*,
        age_percentiles.age_percentile,
        case
            when open_items.age_hours > 0 then least(1.0, open_items.blocked_hours / open_items.age_hours)
            else 0
        end as blocked_share
    from open_items
    inner join age_percentiles on open_items.issue_id = age_percentiles.issue_id

),

final as (

    select
        issue_id,
        issue_key,
        team_id,
        project_key,
        issue_type,
        current_status,
        current_status_category,
        created_at,
        started_at,
        cast(round(cast(age_hours / 24.0 as numeric), 2) as numeric(10, 2)) as age_days,
        blocked_hours,
        is_flagged,
        has_assignee,
        cast(round(cast(age_percentile as numeric), 4) as numeric(6, 4)) as age_percentile,
        cast(round(
            50 * age_percentile
            + 20 * blocked_share
            + case when is_flagged then 20 else 0 end
            + case when has_assignee then 0 else 10 end
        ) as integer) as risk_score
    from scored

)

select * from final
