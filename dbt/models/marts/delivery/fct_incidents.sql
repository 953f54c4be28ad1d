{#- One row per incident (Jira issue of a type in var `incident_issue_types`, or GitLab incident): when it started,
    when the service was restored and when the ticket was resolved, the production deployment it is attributed
    to and how (`attribution_method`), and the recovery times.
    Restored (the end of time to restore and of the DORA failed-deployment recovery time):
    * Jira: the start of the incident's final stretch of statuses that mean restored -- a status in var
      `incident_restored_statuses` (default Mitigated, Restored, Recovered, Service Restored; compared
      normalised) or a done category -- provided the incident is in that stretch now (a regression back to
      Investigating re-opens the outage). `restored_from` = restored_status (the stretch starts in e.g.
      Mitigated) or done_status (it starts in a done status: restored when resolved). When no changelog entry
      shows that stretch begin (missing history), the resolved time is used (resolved).
    * GitLab: the REST issue document has no mitigation time, so a GitLab incident is restored when closed
      (gitlab_closed), like GitLab's own DORA time to restore.
    Resolved (kept as its own column, time_to_resolve_hours): Jira -- the issue's done time
    (fct_issue_lifecycle.done_at); GitLab -- closed_at while closed. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"), indexed for what the
    dashboards, apps and report ask (one team's days or weeks, one issue, one merge request). -#}
{{
    config(
        indexes=[
            {'columns': ['team_id']}
        ]
    )
}}
{%- set restored_statuses = var('incident_restored_statuses') -%}
with

attributed as (

    select * from {{ ref('int_incidents_attributed') }}

),

lifecycle as (

    select * from {{ ref('fct_issue_lifecycle') }}

),

status_intervals as (

    select * from {{ ref('fct_issue_status_intervals') }}

),

incident_intervals as (

    select
        status_intervals.issue_id,
        status_intervals.interval_seq,
        status_intervals.started_at,
        status_intervals.is_current,
        status_intervals.status_category = 'done' as is_done_status,
        status_intervals.status_category = 'done'
        or {{ normalize_status_name('status_intervals.status') }} in (
            {%- for status in restored_statuses %}
                {{ normalize_status_name("'" ~ status ~ "'") }}{{ ',' if not loop.last }}
            {%- endfor %}
        ) as is_restored_status
    from status_intervals
    where status_intervals.issue_id in (select attributed.issue_id from attributed)

),

outage_ends as (

    {#- per incident: the last interval that is not a restored status, and whether it is restored now -#}
    select
        issue_id,
        max(interval_seq) filter (where not is_restored_status) as last_outage_seq,
        coalesce(bool_or(is_current and is_restored_status), false) as is_restored_now
    from incident_intervals
    group by issue_id

),

restorations as (

    select distinct on (incident_intervals.issue_id)
        incident_intervals.issue_id,
        incident_intervals.interval_seq as restored_seq,
        incident_intervals.started_at as restored_stretch_started_at,
        incident_intervals.is_done_status as is_restored_by_done_status
    from incident_intervals
    inner join outage_ends on incident_intervals.issue_id = outage_ends.issue_id
    where
        outage_ends.is_restored_now
        and incident_intervals.interval_seq > coalesce(outage_ends.last_outage_seq, -1)
    order by incident_intervals.issue_id asc, incident_intervals.interval_seq asc

),

resolved as (

    select
        attributed.*,
        coalesce(lifecycle.done_at, attributed.closed_at) as resolved_at,
        case
            when attributed.incident_source = 'gitlab' then attributed.closed_at
            when restorations.restored_seq > 0 then restorations.restored_stretch_started_at
            when restorations.restored_seq = 0 then lifecycle.done_at
        end as restored_at,
        case
            when attributed.incident_source = 'gitlab' and attributed.closed_at is not null then 'gitlab_closed'
            when restorations.restored_seq > 0 and restorations.is_restored_by_done_status then 'done_status'
            when restorations.restored_seq > 0 then 'restored_status'
            when restorations.restored_seq = 0 and lifecycle.done_at is not null then 'resolved'
        end as restored_from
    from attributed
    left join lifecycle on attributed.issue_id = lifecycle.issue_id
    left join restorations on attributed.issue_id = restorations.issue_id

),

final as (

    select
        resolved.incident_id,
        resolved.incident_source,
        resolved.issue_key,
        resolved.team_id,
        resolved.created_at,
        resolved.restored_at,
        resolved.restored_from,
        resolved.restored_at is not null as is_restored,
        resolved.resolved_at,
        resolved.resolved_at is not null as is_resolved,
        resolved.deployment_id,
        resolved.deployed_at,
        resolved.attribution_method,
        resolved.is_explicitly_attributed,
        resolved.deployment_id is not null as is_deployment_caused,
        {{ clamped_hours('resolved.created_at', 'resolved.restored_at') }} as time_to_restore_hours,
        {{ clamped_hours('resolved.created_at', 'resolved.resolved_at') }} as time_to_resolve_hours,
        case
            when resolved.deployment_id is not null
                then {{ clamped_hours('resolved.deployed_at', 'resolved.restored_at') }}
        end as recovery_time_hours
    from resolved

)

select * from final
