"""Every SQL statement the app runs, in one place (pages never hold SQL). All read ``marts`` (and, for the
Data status page, the bookkeeping columns of ``app`` that migration 0014 grants); the one write, a
recommendation decision, goes through ``insights.recommendations.decide`` (see ``streamlit_apps.db``).

Each function returns a pandas DataFrame from ``conn.query`` (cached for the connection's TTL). Figures are
the marts' own columns; where a page shows a comparison (the team's median, the week-by-week watched
metric) the aggregate is computed here, in SQL, from the same mart rows and named as such on the page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
from streamlit.connections import SQLConnection

from streamlit_apps.db import cache_ttl


def _query(conn: SQLConnection, statement: str, **params: Any) -> pd.DataFrame:
    return _floats(conn.query(statement, params=params or None, ttl=cache_ttl()))


def _floats(frame: pd.DataFrame) -> pd.DataFrame:
    """numeric columns arrive as Decimal objects: make them floats (charts, formats and sorting need
    numbers)."""
    for column in frame.columns:
        values = frame[column].dropna()
        if frame[column].dtype == object and len(values) and isinstance(values.iloc[0], Decimal):
            frame[column] = pd.to_numeric(frame[column].map(lambda v: None if v is None else float(v)))
    return frame


# ---------------------------------------------------------------- shared


def last_build(conn: SQLConnection) -> pd.DataFrame:
    """The latest successful whole-project build (its as_of) and the latest run of any kind."""
    return _query(
        conn,
        """
        select build_run_id, started_at, finished_at, build_status, is_whole_project, as_of, dbt_command,
               stale_model_count, last_succeeded_at, is_latest_run, is_latest_success
        from marts.rpt_build_runs
        where is_latest_run or is_latest_success
        order by started_at desc
        """,
    )


def build_as_of(conn: SQLConnection) -> pd.Timestamp | None:
    """The as_of of the latest successful whole-project build (the marts' "now"), None before any."""
    frame = _query(conn, "select max(as_of) as as_of from marts.rpt_build_runs where is_latest_success")
    value = frame.iloc[0]["as_of"] if not frame.empty else None
    return None if value is None or pd.isna(value) else pd.Timestamp(value)


# ---------------------------------------------------------------- Issue Investigator


def search_issues(conn: SQLConnection, text: str, limit: int = 50) -> pd.DataFrame:
    """Issues whose key or summary contains ``text``, or whose linked merge request's title does."""
    pattern = f"%{text.strip()}%"
    return _query(
        conn,
        """
        select lifecycle.issue_key, lifecycle.summary, lifecycle.team_id, lifecycle.issue_type,
               lifecycle.current_status, lifecycle.created_at
        from marts.fct_issue_lifecycle as lifecycle
        where lifecycle.issue_key ilike :pattern
           or lifecycle.summary ilike :pattern
           or exists (
               select 1
               from marts.fct_issue_merge_request_links as links
               inner join marts.fct_merge_requests as mrs on links.merge_request_id = mrs.merge_request_id
               where links.issue_key = lifecycle.issue_key and mrs.title ilike :pattern
           )
        order by length(lifecycle.issue_key), lifecycle.issue_key
        limit :limit
        """,
        pattern=pattern,
        limit=limit,
    )


def issue(conn: SQLConnection, issue_key: str) -> pd.DataFrame:
    return _query(conn, "select * from marts.fct_issue_lifecycle where issue_key = :key", key=issue_key)


def team_medians(conn: SQLConnection, team_id: str) -> pd.DataFrame:
    """The team's medians over its done work (``is_done_work``) in fct_issue_lifecycle."""
    return _query(
        conn,
        """
        select
            count(*) as done_issues,
            percentile_cont(0.5) within group (order by cycle_time_hours) as cycle_time_hours,
            percentile_cont(0.5) within group (order by lead_time_hours) as lead_time_hours,
            percentile_cont(0.5) within group (order by blocked_hours) as blocked_hours,
            percentile_cont(0.5) within group (order by flow_efficiency) as flow_efficiency
        from marts.fct_issue_lifecycle
        where team_id = :team and is_done_work
        """,
        team=team_id,
    )


def status_intervals(conn: SQLConnection, issue_id: str) -> pd.DataFrame:
    return _query(
        conn,
        """
        select interval_seq, status, status_category, started_at, ended_at, hours, is_current
        from marts.fct_issue_status_intervals
        where issue_id = :issue_id
        order by interval_seq
        """,
        issue_id=issue_id,
    )


def blocked_intervals(conn: SQLConnection, issue_id: str) -> pd.DataFrame:
    return _query(
        conn,
        """
        select blocked_interval_seq, block_source, started_at, ended_at, hours, active_hours, is_current,
               is_truncated_by_history_start
        from marts.fct_blocked_intervals
        where issue_id = :issue_id
        order by blocked_interval_seq
        """,
        issue_id=issue_id,
    )


def changelog(conn: SQLConnection, issue_id: str) -> pd.DataFrame:
    """The issue's Jira changelog as recorded (fct_issue_changelog), oldest first."""
    return _query(
        conn,
        """
        select changed_at, change_kind, field_name, from_string, to_string, author_account_id, history_id,
               item_seq
        from marts.fct_issue_changelog
        where issue_id = :issue_id
        order by changed_at, history_id, item_seq
        """,
        issue_id=issue_id,
    )


def linked_merge_requests(conn: SQLConnection, issue_key: str) -> pd.DataFrame:
    return _query(
        conn,
        """
        select mrs.merge_request_id, mrs.merge_request_iid, mrs.project_id, mrs.title, mrs.web_url, mrs.state,
               mrs.author_username, links.link_sources, links.confidence,
               mrs.created_at, mrs.ready_at, mrs.first_review_at, mrs.first_reviewer_username,
               mrs.first_approval_at, mrs.merged_at, mrs.closed_at, mrs.deployed_at,
               mrs.production_deployment_id, mrs.review_pickup_working_hours,
               mrs.review_duration_working_hours,
               mrs.lead_time_for_changes_hours, mrs.is_merged_without_review, mrs.approvers, mrs.review_rounds
        from marts.fct_issue_merge_request_links as links
        inner join marts.fct_merge_requests as mrs on links.merge_request_id = mrs.merge_request_id
        where links.issue_key = :key
        order by mrs.created_at
        """,
        key=issue_key,
    )


def merge_request_pipelines(conn: SQLConnection, issue_key: str) -> pd.DataFrame:
    """The merge-request pipelines (ref ``refs/merge-requests/<iid>/head``) of the issue's merge requests."""
    return _query(
        conn,
        """
        select mrs.merge_request_iid, pipelines.pipeline_id, pipelines.status, pipelines.created_at,
               pipelines.duration_seconds, pipelines.job_count, pipelines.retried_job_count,
               pipelines.retry_waste_minutes, pipelines.is_flaky, pipelines.web_url
        from marts.fct_issue_merge_request_links as links
        inner join marts.fct_merge_requests as mrs on links.merge_request_id = mrs.merge_request_id
        inner join marts.fct_pipelines as pipelines
            on pipelines.project_id = mrs.project_id
            and pipelines.ref = 'refs/merge-requests/' || mrs.merge_request_iid || '/head'
        where links.issue_key = :key
        order by pipelines.created_at
        """,
        key=issue_key,
    )


def retried_jobs(conn: SQLConnection, pipeline_ids: list[str]) -> pd.DataFrame:
    return _query(
        conn,
        """
        select pipeline_id, job_name, attempt_number, attempt_count, status, failure_reason,
               retry_waste_minutes
        from marts.fct_jobs
        where pipeline_id = any(:ids) and is_retried_attempt
        order by pipeline_id, job_name, attempt_number
        """,
        ids=list(pipeline_ids),
    )


def deployments(conn: SQLConnection, deployment_ids: list[str]) -> pd.DataFrame:
    return _query(
        conn,
        """
        select deployment_id, project_path, environment_name, status, deployed_at, has_incident, incident_keys
        from marts.fct_deployments
        where deployment_id = any(:ids)
        order by deployed_at
        """,
        ids=list(deployment_ids),
    )


# ---------------------------------------------------------------- WIP Triage


def wip(conn: SQLConnection) -> pd.DataFrame:
    """fct_wip_current with the inputs of its risk score and what explains the rest (linked merge requests,
    the last change)."""
    return _query(
        conn,
        """
        select
            wip.issue_key, wip.team_id, wip.issue_type, wip.current_status, wip.current_status_category,
            wip.risk_score, wip.age_days, wip.age_percentile, wip.blocked_hours,
            case when wip.age_days > 0
                then least(1.0, wip.blocked_hours / (wip.age_days * 24.0)) else 0 end as blocked_share,
            wip.is_flagged, wip.has_assignee,
            coalesce(links.merge_request_count, 0) as linked_merge_requests,
            lifecycle.updated_at as last_changed_at,
            round(cast(extract(epoch from (build.as_of - lifecycle.updated_at)) / 86400.0 as numeric), 1)
                as days_since_last_change
        from marts.fct_wip_current as wip
        inner join marts.fct_issue_lifecycle as lifecycle on wip.issue_id = lifecycle.issue_id
        left join (
            select issue_key, count(*) as merge_request_count
            from marts.fct_issue_merge_request_links
            group by issue_key
        ) as links on wip.issue_key = links.issue_key
        left join (
            select max(as_of) as as_of from marts.rpt_build_runs where is_latest_success
        ) as build on true
        order by wip.risk_score desc, wip.age_days desc, wip.issue_key
        """,
    )


# ---------------------------------------------------------------- Recommendations


def recommendations(conn: SQLConnection) -> pd.DataFrame:
    """Current recommendations by rank, and any no longer diagnosed that have a decision."""
    return _query(
        conn,
        """
        select *
        from marts.fct_recommendations
        where is_currently_diagnosed or status <> 'proposed'
        order by rank
        """,
    )


def diagnosis(conn: SQLConnection, diagnosis_id: str) -> pd.DataFrame:
    """The diagnosis behind a recommendation (fct_diagnoses)."""
    return _query(
        conn,
        """
        select diagnosis_id, rule_description, window_start_date, window_end_date, metric_name,
               window_aggregation, direction, metric_value, threshold_value, org_baseline_value, sample_size,
               fired_by, comparison_value, reference_start_date, reference_end_date, effect_ratio,
               effect_ratio_ci_low, effect_ratio_ci_high,
               severity, excess_units_per_week, excess_unit, hours_lost_per_week
        from marts.fct_diagnoses
        where diagnosis_id = :diagnosis_id
        """,
        diagnosis_id=diagnosis_id,
    )


def recommendation_evidence(conn: SQLConnection, diagnosis_id: str, limit: int = 25) -> pd.DataFrame:
    return _query(
        conn,
        """
        select evidence_rank, item_type, item_id, item_label, item_url, observed_at, value
        from marts.fct_diagnosis_evidence
        where diagnosis_id = :diagnosis_id
        order by evidence_rank
        limit :limit
        """,
        diagnosis_id=diagnosis_id,
        limit=limit,
    )


def decision_history(conn: SQLConnection, recommendation_id: str) -> pd.DataFrame:
    """Every decision on the recommendation, oldest first (read live: not cached)."""
    return _floats(
        conn.query(
            """
            select decision_id, decision, decided_by, decided_at, note, intervention_start_date
            from app.recommendation_decisions
            where recommendation_id = :id
            order by decided_at, decision_id
            """,
            params={"id": recommendation_id},
            ttl=0,
        )
    )


# ---------------------------------------------------------------- Intervention tracker


def intervention_outcomes(conn: SQLConnection) -> pd.DataFrame:
    return _query(
        conn,
        """
        select *
        from marts.fct_intervention_outcomes
        order by recommendation_id, case when metric_role = 'watched' then 0 else 1 end, metric_name
        """,
    )


def weekly_metric(
    conn: SQLConnection, metric_name: str, aggregation: str, team_id: str, control_teams: list[str]
) -> pd.DataFrame:
    """The metric per week from fct_metric_observations (the items verification resamples), aggregated as the
    outcome is (median or mean), for the treated team and for its control teams together."""
    aggregate = (
        "percentile_cont(0.5) within group (order by value)" if aggregation == "median" else "avg(value)"
    )
    return _query(
        conn,
        f"""
        select
            cast(date_trunc('week', observed_at) as date) as week_start_date,
            case when team_id = :team then 'treated' else 'control' end as arm,
            {aggregate} as value,
            count(*) as n
        from marts.fct_metric_observations
        where metric_name = :metric and (team_id = :team or team_id = any(:controls))
        group by 1, 2
        order by 1, 2
        """,
        metric=metric_name,
        team=team_id,
        controls=list(control_teams),
    )


# ---------------------------------------------------------------- Data status


def load_status(conn: SQLConnection) -> pd.DataFrame:
    """Per source: the last successful load, documents loaded and batches (app.load_batches)."""
    return _query(
        conn,
        """
        select
            source,
            max(finished_at) filter (where status = 'succeeded') as last_successful_load,
            sum(rows_loaded) filter (where status = 'succeeded') as documents_loaded,
            sum(rows_rejected) as documents_rejected,
            count(*) filter (where status = 'failed') as failed_batches,
            count(*) as batches
        from app.load_batches
        group by source
        order by source
        """,
    )


def sync_state(conn: SQLConnection) -> pd.DataFrame:
    return _query(
        conn,
        """
        select source, scope, watermark, last_run_started_at, last_run_finished_at, last_status, last_error,
               documents_loaded
        from app.sync_state
        order by source, scope
        """,
    )


def dead_letters(conn: SQLConnection, days: int) -> pd.DataFrame:
    return _query(
        conn,
        """
        select source, table_name, count(*) as dead_letters, max(received_at) as last_received_at
        from app.dead_letters
        where received_at >= now() - make_interval(days => :days)
        group by source, table_name
        order by source, table_name
        """,
        days=days,
    )


def webhook_rejections(conn: SQLConnection, days: int) -> pd.DataFrame:
    return _query(
        conn,
        """
        select source, http_status, reason, count(*) as rejections, max(received_at) as last_received_at
        from app.webhook_rejections
        where received_at >= now() - make_interval(days => :days)
        group by source, http_status, reason
        order by source, http_status, reason
        """,
        days=days,
    )
