"""Every query of the weekly report, in one module. They read the ``marts`` schema only (the report is a
consumer like the dashboards) and return plain dictionaries; no number is recomputed here: each value printed
is a column of a mart (``marts.rpt_weekly_report_metrics`` for the headline and team tables)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import psycopg

ORGANISATION = "organisation"

_METRICS = """
select
    scope, team_id, week_start_date, metric_name, display_order, label, unit, higher_is_better, value,
    previous_value, delta, delta_pct, median_8w, sample_size, previous_sample_size, min_sample,
    is_thin_sample, is_previous_thin_sample, dora_band
from marts.rpt_weekly_report_metrics
"""


def _rows(conn: psycopg.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    columns = [column.name for column in cursor.description or ()]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def missing_marts(conn: psycopg.Connection) -> list[str]:
    """The marts the report needs that do not exist (the warehouse was never built, or built before the
    report's mart)."""
    needed = (
        "rpt_weekly_report_metrics",
        "dim_teams",
        "dim_dates",
        "fct_wip_current",
        "fct_recommendations",
        "fct_intervention_outcomes",
        "rpt_source_freshness",
    )
    found = conn.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'"
    ).fetchall()
    present = {name for (name,) in found}
    return [name for name in needed if name not in present]


def data_window(conn: psycopg.Connection) -> dict[str, Any]:
    """First and last day of the data (dim_dates) and the as_of day of the build."""
    row = _rows(
        conn,
        "select min(date_day) as first_day, max(date_day) as last_day, "
        "max(date_day) filter (where is_as_of_day) as as_of_day, "
        "min(week_start_date) as first_week, max(week_start_date) as last_week from marts.dim_dates",
    )
    return row[0] if row else {}


def teams(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return _rows(conn, "select team_id, team_name from marts.dim_teams order by team_name")


def week_metrics(conn: psycopg.Connection, week_start: date, team_id: str | None) -> list[dict[str, Any]]:
    """The headline rows of one scope (the organisation when ``team_id`` is None) and week, in display
    order."""
    if team_id is None:
        return _rows(
            conn,
            _METRICS + " where team_id is null and week_start_date = %s order by display_order",
            (week_start,),
        )
    return _rows(
        conn,
        _METRICS + " where team_id = %s and week_start_date = %s order by display_order",
        (team_id, week_start),
    )


def team_week_metrics(conn: psycopg.Connection, week_start: date) -> list[dict[str, Any]]:
    """Every team's rows of the week (the per-team table)."""
    return _rows(
        conn,
        _METRICS + " where scope = 'team' and week_start_date = %s order by team_id, display_order",
        (week_start,),
    )


def metric_history(
    conn: psycopg.Connection, week_start: date, team_id: str | None, weeks: int = 12
) -> list[dict[str, Any]]:
    """The scope's rows of the ``weeks`` ISO weeks ending with ``week_start`` (the trend charts)."""
    first = week_start - timedelta(weeks=weeks - 1)
    scope = "team_id is null" if team_id is None else "team_id = %s"
    params: tuple[Any, ...] = (first, week_start) if team_id is None else (team_id, first, week_start)
    return _rows(
        conn,
        _METRICS
        + f" where {scope} and week_start_date between %s and %s order by week_start_date, display_order",
        params,
    )


def wip_by_status(conn: psycopg.Connection, team_id: str | None) -> list[dict[str, Any]]:
    """Open work at as_of by status category (fct_wip_current)."""
    return _rows(
        conn,
        "select current_status_category as status_category, count(*) as items from marts.fct_wip_current "
        "where %s::text is null or team_id = %s group by 1 order by 2 desc, 1",
        (team_id, team_id),
    )


def review_pickups(conn: psycopg.Connection, week_start: date, team_id: str | None) -> list[float]:
    """Review pickup (working hours) of the reviewed human MRs ready in the week and the 3 before it
    (fct_merge_requests, the items behind review_pickup_p50): the distribution chart."""
    rows = conn.execute(
        "select review_pickup_working_hours from marts.fct_merge_requests "
        "where not is_bot_author and team_id is not null and review_pickup_working_hours is not null "
        "and cast(date_trunc('week', ready_at at time zone 'UTC') as date) between %s and %s "
        "and (%s::text is null or team_id = %s) order by 1",
        (week_start - timedelta(weeks=3), week_start, team_id, team_id),
    ).fetchall()
    return [float(value) for (value,) in rows]


def top_risk_items(conn: psycopg.Connection, team_id: str | None, limit: int = 8) -> list[dict[str, Any]]:
    """The riskiest open items at as_of (fct_wip_current.risk_score: age, blocked share, flag, assignee)."""
    return _rows(
        conn,
        "select issue_key, team_id, current_status, current_status_category, age_days, blocked_hours, "
        "is_flagged, has_assignee, age_percentile, risk_score from marts.fct_wip_current "
        "where %s::text is null or team_id = %s order by risk_score desc, age_days desc, issue_key limit %s",
        (team_id, team_id, limit),
    )


def unescalated_blockers(
    conn: psycopg.Connection, week_start: date, team_id: str | None, limit: int = 8
) -> dict[str, Any]:
    """Blocked windows observed in the week that lasted past the escalation threshold with no status or
    assignee change (fct_metric_observations, metric unescalated_blocked_hours > 0), worst first, and their
    count."""
    where = (
        "o.metric_name = 'unescalated_blocked_hours' and o.value > 0 "
        "and cast(date_trunc('week', o.observed_at at time zone 'UTC') as date) = %s "
        "and (%s::text is null or o.team_id = %s)"
    )
    params = (week_start, team_id, team_id)
    items = _rows(
        conn,
        "select o.item_label as issue_key, o.team_id, o.observed_at, o.value as unescalated_hours "
        f"from marts.fct_metric_observations as o where {where} "
        "order by o.value desc, o.item_label limit %s",
        (*params, limit),
    )
    count = conn.execute(f"select count(*) from marts.fct_metric_observations as o where {where}", params)
    total = count.fetchone()
    return {"items": items, "count": int(total[0]) if total else 0}


def unlinked_work(conn: psycopg.Connection, week_start: date, team_id: str | None) -> list[dict[str, Any]]:
    """Done issues of the week with no merge request, per team (fct_work_linkage)."""
    rows = _rows(
        conn,
        "select team_id, done_issue_count, unlinked_done_issue_count, unlinked_issue_keys "
        "from marts.fct_work_linkage where week_start_date = %s and (%s::text is null or team_id = %s) "
        "and unlinked_done_issue_count > 0 order by unlinked_done_issue_count desc, team_id",
        (week_start, team_id, team_id),
    )
    for row in rows:  # a comma-separated list in the mart
        keys = row["unlinked_issue_keys"] or ""
        row["unlinked_issue_keys"] = [key.strip() for key in keys.split(",") if key.strip()]
    return rows


def top_recommendation(conn: psycopg.Connection, team_id: str | None) -> dict[str, Any] | None:
    """The costliest currently diagnosed recommendation that was not rejected (fct_recommendations)."""
    rows = _rows(
        conn,
        "select recommendation_id, team_id, rank, title, action, metric_name, expected_effect, severity, "
        "current_value, threshold_value, baseline_value, hours_lost_per_week, expected_recovery_share, "
        "hours_recovered_per_week, hourly_cost, hourly_cost_currency, weekly_value, assumptions, "
        "evidence_count, status, intervention_start_date from marts.fct_recommendations "
        "where is_currently_diagnosed and status <> 'rejected' and (%s::text is null or team_id = %s) "
        "order by rank limit 1",
        (team_id, team_id),
    )
    return rows[0] if rows else None


def recommendations_of_the_week(conn: psycopg.Connection, team_id: str | None) -> list[dict[str, Any]]:
    """Per team, its recommendation of the week: the costliest current diagnosis whose success the
    verification could prove (fct_recommendations.is_recommendation_of_the_week)."""
    found = conn.execute(
        "select count(*) > 0 from information_schema.columns where table_schema = 'marts' "
        "and table_name = 'fct_recommendations' and column_name = 'is_recommendation_of_the_week'"
    ).fetchone()
    if not found or not found[0]:
        return []
    return _rows(
        conn,
        "select recommendation_id, team_id, title, metric_name, expected_change_pct, hours_lost_per_week, "
        "status, verification_window_weeks, minimum_detectable_change_pct, is_success_provable "
        "from marts.fct_recommendations "
        "where is_recommendation_of_the_week and (%s::text is null or team_id = %s) order by team_id",
        (team_id, team_id),
    )


def intervention_outcomes(conn: psycopg.Connection, team_id: str | None) -> list[dict[str, Any]]:
    """The verdict of every approved intervention, watched metric first (fct_intervention_outcomes), with
    its power (minimum detectable change, expected change, when "not enough data to tell yet" ends)."""
    found = conn.execute(
        "select count(*) > 0 from information_schema.columns where table_schema = 'marts' "
        "and table_name = 'fct_intervention_outcomes' and column_name = 'minimum_detectable_change_pct'"
    ).fetchone()
    power = (
        "minimum_detectable_change_pct, expected_change_pct, expected_decidable_on "
        if found and found[0]
        else "null as minimum_detectable_change_pct, null as expected_change_pct, "
        "null as expected_decidable_on "
    )
    return _rows(
        conn,
        "select recommendation_id, team_id, title, metric_name, metric_role, aggregation, "
        "intervention_start_date, current_end, treated_before, treated_after, change, change_pct, "
        "change_ci_low, change_ci_high, did_estimate, verdict, guard_verdict, "
        + power
        + "from marts.fct_intervention_outcomes where %s::text is null or team_id = %s "
        "order by recommendation_id, metric_role desc, metric_name",
        (team_id, team_id),
    )


def freshness(conn: psycopg.Connection) -> dict[str, Any]:
    """The latest build (rpt_build_runs), the last load per source with its documents (rpt_source_freshness)
    and the latest event per source in the marts (Jira: issue update; GitLab: merge request activity,
    pipeline, deployment)."""
    build: list[dict[str, Any]] = []
    found = conn.execute("select to_regclass('marts.rpt_build_runs') is not null").fetchone()
    if found and found[0]:
        build = _rows(
            conn,
            "select build_status, started_at, as_of, last_succeeded_at from marts.rpt_build_runs "
            "where is_latest_run",
        )
    events = _rows(
        conn,
        "select (select max(updated_at) from marts.fct_issue_lifecycle) as jira_latest, "
        "(select max(greatest(created_at, merged_at)) from marts.fct_merge_requests) as gitlab_mr_latest, "
        "(select max(created_at) from marts.fct_pipelines) as gitlab_pipeline_latest, "
        "(select max(deployed_at) from marts.fct_deployments) as gitlab_deployment_latest",
    )
    loads: list[dict[str, Any]] = []
    found = conn.execute("select to_regclass('marts.rpt_source_freshness') is not null").fetchone()
    if found and found[0]:
        loads = _rows(
            conn,
            "select source_system, max(last_loaded_at) as last_loaded_at, "
            "string_agg(document_kind || ' ' || to_char(document_count, 'FM999,999,999'), ', ' "
            "order by display_order) as documents "
            "from marts.rpt_source_freshness group by source_system order by min(display_order)",
        )
    return {"build": build[0] if build else None, "loads": loads, **(events[0] if events else {})}
