"""Recommendations and their decisions: the only code that writes ``app.recommendation_decisions``.

Decisions are append-only (a trigger refuses UPDATE and DELETE): approving or rejecting again adds a row, and
the latest row is the recommendation's status. Each row keeps a snapshot of the recommendation (team, rule,
metric to watch, title) so an approved intervention can still be verified after its diagnosis stops firing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from warehouse.errors import HeimdallError

DECISIONS = ("approved", "rejected")


class RecommendationError(HeimdallError, ValueError):
    """A recommendation command that cannot be carried out (the message says why)."""


def _require_mart(conn: psycopg.Connection) -> None:
    found = conn.execute("select to_regclass('marts.fct_recommendations') is not null").fetchone()
    if not found or not found[0]:
        raise RecommendationError("marts.fct_recommendations does not exist yet: run `heimdall build` first")


def list_recommendations(conn: psycopg.Connection, *, include_all: bool = False) -> list[dict[str, Any]]:
    """Current recommendations by rank (with ``include_all``, also those only kept for their decision)."""
    _require_mart(conn)
    where = "" if include_all else "where is_currently_diagnosed"
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"select * from marts.fct_recommendations {where} order by rank").fetchall()


def get_recommendation(conn: psycopg.Connection, recommendation_id: str) -> dict[str, Any]:
    _require_mart(conn)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "select * from marts.fct_recommendations where recommendation_id = %s", (recommendation_id,)
        ).fetchone()
        if row is None:
            row = _from_latest_diagnosis(cur, recommendation_id)
    if row is None:
        raise RecommendationError(
            f"no recommendation {recommendation_id!r}: it is not in marts.fct_recommendations and its team "
            "never had that diagnosis (`heimdall recommendations list --all` shows the ids)"
        )
    return row


def _from_latest_diagnosis(
    cur: psycopg.Cursor[dict[str, Any]], recommendation_id: str
) -> dict[str, Any] | None:
    """A recommendation whose diagnosis no longer fires in the current window, rebuilt from the team's latest
    diagnosis of that rule and the playbook, so a manager can still approve what they saw last week."""
    team_id, _, rule_id = recommendation_id.rpartition(":")
    if not team_id:
        return None
    return cur.execute(
        """
        select
            diagnoses.team_id || ':' || diagnoses.rule_id as recommendation_id,
            diagnoses.diagnosis_id, diagnoses.team_id, diagnoses.rule_id, playbook.title, playbook.action,
            playbook.metric_name, playbook.expected_effect, diagnoses.severity,
            diagnoses.metric_value as current_value, diagnoses.threshold_value,
            diagnoses.org_baseline_value as baseline_value, diagnoses.hours_lost_per_week,
            null::numeric as hours_recovered_per_week, null::numeric as weekly_value,
            '' as hourly_cost_currency, diagnoses.evidence_count, false as is_currently_diagnosed,
            'proposed' as status, null::date as intervention_start_date,
            'Last diagnosed in the window ending ' || diagnoses.window_end_date
            || '; it does not fire in the current window.' as assumptions
        from marts.fct_diagnoses as diagnoses
        inner join seeds.recommendation_playbook as playbook on diagnoses.rule_id = playbook.rule_id
        where diagnoses.team_id = %s and diagnoses.rule_id = %s
        order by diagnoses.week_start_date desc
        limit 1
        """,
        (team_id, rule_id),
    ).fetchone()


def evidence(conn: psycopg.Connection, diagnosis_id: str | None, limit: int = 10) -> list[dict[str, Any]]:
    if not diagnosis_id:
        return []
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select item_type, item_label, item_url, observed_at, value from marts.fct_diagnosis_evidence "
            "where diagnosis_id = %s order by evidence_rank limit %s",
            (diagnosis_id, limit),
        ).fetchall()


def decision_history(conn: psycopg.Connection, recommendation_id: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select decision_id, decision, decided_by, decided_at, note, intervention_start_date "
            "from app.recommendation_decisions where recommendation_id = %s order by decided_at, decision_id",
            (recommendation_id,),
        ).fetchall()


@dataclass(frozen=True)
class Decision:
    decision_id: int
    recommendation_id: str
    decision: str


def decide(
    conn: psycopg.Connection,
    recommendation_id: str,
    decision: str,
    *,
    decided_by: str,
    note: str | None = None,
    start: date | None = None,
) -> Decision:
    """Record a decision (a new row, never an update). Approvals need an intervention start date."""
    if decision not in DECISIONS:
        raise RecommendationError(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
    if not decided_by or not decided_by.strip():
        raise RecommendationError("say who decides (--by NAME)")
    if decision == "approved" and start is None:
        raise RecommendationError("an approval needs the intervention's start date (--start YYYY-MM-DD)")
    if decision == "rejected" and not (note and note.strip()):
        raise RecommendationError("a rejection needs a reason (--note ...)")
    recommendation = get_recommendation(conn, recommendation_id)
    with conn.transaction():
        row = conn.execute(
            """
            insert into app.recommendation_decisions
                (recommendation_id, decision, decided_by, note, intervention_start_date,
                 team_id, rule_id, metric_name, title)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
            returning decision_id
            """,
            (
                recommendation_id,
                decision,
                decided_by.strip(),
                note,
                start if decision == "approved" else None,
                recommendation["team_id"],
                recommendation["rule_id"],
                recommendation["metric_name"],
                recommendation["title"],
            ),
        ).fetchone()
    assert row is not None
    return Decision(int(row[0]), recommendation_id, decision)
