"""Verify approved interventions: read the stored data, compute the statistics, write them back for dbt.

For every recommendation whose current (latest) decision is ``approved``, the watched metric of the
treated team (the decision's snapshot: team, metric, intervention start) is compared between the baseline
window ``[start - baseline_weeks, start)`` and the current window ``[start, as_of]``, using the item
observations of ``marts.fct_metric_observations`` and the metric's aggregation from
``seeds.metric_definitions``. So is the rule's **guard metric** (``seeds.recommendation_playbook``
column ``guard_metric_name``, e.g. ``merged_without_review`` for a review SLO): an intervention must not look
successful by making things worse elsewhere, so each approved recommendation gets one outcome per metric
(``metric_role`` ``watched`` or ``guard``), computed the same way. The control group is every other team,
except teams with their own approved intervention watching the same metric starting inside the compared
period. Results replace ``analysis.intervention_outcomes`` in one transaction; dbt reads them as a source
(``fct_intervention_outcomes``). The bootstrap seed of each row is derived from its recommendation and
decision ids (and, for a guard, its metric), so the same stored data always gives the same numbers.

Observations are grouped into **weekly blocks** anchored on the intervention start (the baseline window has
``baseline_weeks`` whole weeks; the current window's last week may be partial) and the bootstrap resamples
whole weeks (see :mod:`insights.verification.stats`): items of one week share its conditions, so a swing
from one week to the next is not mistaken for the intervention's effect.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from insights.verification.stats import DEFAULT_RESAMPLES, bootstrap_change, bootstrap_did, verdict
from warehouse.errors import HeimdallError

DEFAULT_BASELINE_WEEKS = 6


class VerificationError(HeimdallError):
    """The warehouse lacks what verification needs (the message says what to run)."""


@dataclass(frozen=True)
class Approved:
    recommendation_id: str
    decision_id: int
    team_id: str
    metric_name: str
    start: date
    rule_id: str = ""


@dataclass(frozen=True)
class WatchedMetric:
    """One metric an approved intervention is verified on: its watched metric or its guard."""

    metric_name: str
    role: str  # "watched" | "guard"


@dataclass(frozen=True)
class MetricDefinition:
    aggregation: str
    higher_is_better: bool
    min_sample: int


def derived_seed(recommendation_id: str, decision_id: int, guard_metric: str | None = None) -> int:
    """The bootstrap seed of an outcome row (a guard's also depends on its metric)."""
    key = f"{recommendation_id}:{decision_id}" + (f":{guard_metric}" if guard_metric else "")
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


def _require(conn: psycopg.Connection, relation: str) -> None:
    found = conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()
    if not found or not found[0]:
        raise VerificationError(f"{relation} does not exist yet: run `heimdall build` first")


def build_as_of(conn: psycopg.Connection) -> date:
    """The as_of day of the last build: the end of the marts' day spine."""
    _require(conn, "marts.dim_dates")
    row = conn.execute("select max(date_day) from marts.dim_dates").fetchone()
    if not row or row[0] is None:
        raise VerificationError("marts.dim_dates is empty: load data and run `heimdall build`")
    return row[0]


def approved_interventions(conn: psycopg.Connection) -> list[Approved]:
    """Recommendations whose current decision is "approved": the latest decision as dbt defines it
    (int_recommendation_decisions_latest, a view, so decisions recorded since the build count too)."""
    _require(conn, "intermediate.int_recommendation_decisions_latest")
    rows = conn.execute(
        """
        select recommendation_id, decision_id, team_id, metric_name, intervention_start_date, rule_id
        from intermediate.int_recommendation_decisions_latest
        where decision = 'approved'
        order by recommendation_id
        """
    ).fetchall()
    return [Approved(r[0], int(r[1]), r[2], r[3], r[4], r[5] or "") for r in rows]


def guard_metrics(conn: psycopg.Connection) -> dict[str, str]:
    """rule_id -> the guard metric its verification also watches (seeds.recommendation_playbook)."""
    _require(conn, "seeds.recommendation_playbook")
    rows = conn.execute(
        "select rule_id, guard_metric_name from seeds.recommendation_playbook "
        "where nullif(trim(guard_metric_name), '') is not null"
    ).fetchall()
    return {r[0]: r[1].strip() for r in rows}


def watched_metrics(item: Approved, guards: dict[str, str]) -> list[WatchedMetric]:
    """The metrics an approved intervention is verified on: its watched metric, then its rule's guard."""
    metrics = [WatchedMetric(item.metric_name, "watched")]
    guard = guards.get(item.rule_id)
    if guard and guard != item.metric_name:
        metrics.append(WatchedMetric(guard, "guard"))
    return metrics


def metric_definitions(conn: psycopg.Connection) -> dict[str, MetricDefinition]:
    _require(conn, "seeds.metric_definitions")
    rows = conn.execute(
        "select metric_name, aggregation, higher_is_better, min_sample from seeds.metric_definitions"
    ).fetchall()
    return {r[0]: MetricDefinition(r[1], bool(r[2]), int(r[3])) for r in rows}


def _observations(
    conn: psycopg.Connection, metric: str, start: datetime, end: datetime
) -> list[tuple[str, datetime, float]]:
    rows = conn.execute(
        "select team_id, observed_at, value from marts.fct_metric_observations "
        "where metric_name = %s and observed_at >= %s and observed_at < %s",
        (metric, start, end),
    ).fetchall()
    return [(r[0], r[1], float(r[2])) for r in rows]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def outcome_row(
    conn: psycopg.Connection,
    item: Approved,
    definition: MetricDefinition,
    as_of: date,
    excluded_controls: set[str],
    *,
    baseline_weeks: int,
    resamples: int,
    metric: WatchedMetric | None = None,
) -> dict[str, Any]:
    """The outcome of ``item`` on ``metric`` (default: its watched metric)."""
    metric = metric or WatchedMetric(item.metric_name, "watched")
    baseline_start = item.start - timedelta(weeks=baseline_weeks)
    start_at, end_at = _midnight(item.start), _midnight(as_of + timedelta(days=1))
    weeks_after = max(1, -(-(as_of + timedelta(days=1) - item.start).days // 7))
    # (treated, after) -> one list of values per week of that window
    blocks: dict[tuple[bool, bool], list[list[float]]] = {
        (t, a): [[] for _ in range(weeks_after if a else baseline_weeks)]
        for t in (True, False)
        for a in (True, False)
    }
    controls: set[str] = set()
    observations = _observations(conn, metric.metric_name, _midnight(baseline_start), end_at)
    for team, observed_at, value in observations:
        treated = team == item.team_id
        if not treated and team in excluded_controls:
            continue
        if not treated:
            controls.add(team)
        after = observed_at >= start_at
        week = (observed_at - (start_at if after else _midnight(baseline_start))).days // 7
        blocks[(treated, after)][week].append(value)
    groups = {key: [value for block in weekly for value in block] for key, weekly in blocks.items()}
    guard = metric.metric_name if metric.role == "guard" else None
    seed = derived_seed(item.recommendation_id, item.decision_id, guard)
    how = definition.aggregation
    treated_change = bootstrap_change(
        blocks[(True, False)], blocks[(True, True)], how, seed=seed, resamples=resamples
    )
    control_change = bootstrap_change(
        blocks[(False, False)], blocks[(False, True)], how, seed=seed + 1, resamples=1
    )
    did = bootstrap_did(
        blocks[(True, False)],
        blocks[(True, True)],
        blocks[(False, False)],
        blocks[(False, True)],
        how,
        seed=seed + 2,
        resamples=resamples,
    )
    judged = verdict(
        treated_change.change,
        did,
        higher_is_better=definition.higher_is_better,
        n_before=len(groups[(True, False)]),
        n_after=len(groups[(True, True)]),
        min_sample=definition.min_sample,
        has_control=bool(groups[(False, False)]) and bool(groups[(False, True)]),
    )
    return {
        "recommendation_id": item.recommendation_id,
        "decision_id": item.decision_id,
        "team_id": item.team_id,
        "metric_name": metric.metric_name,
        "metric_role": metric.role,
        "aggregation": how,
        "intervention_start_date": item.start,
        "baseline_start": baseline_start,
        "baseline_end": item.start,
        "current_start": item.start,
        "current_end": as_of,
        "treated_n_before": len(groups[(True, False)]),
        "treated_n_after": len(groups[(True, True)]),
        "treated_before": treated_change.before,
        "treated_after": treated_change.after,
        "change": treated_change.change.estimate,
        "change_pct": treated_change.change_pct.estimate,
        "change_ci_low": treated_change.change.low,
        "change_ci_high": treated_change.change.high,
        "change_pct_ci_low": treated_change.change_pct.low,
        "change_pct_ci_high": treated_change.change_pct.high,
        "control_teams": ", ".join(sorted(controls)) or None,
        "control_n_before": len(groups[(False, False)]),
        "control_n_after": len(groups[(False, True)]),
        "control_before": control_change.before,
        "control_after": control_change.after,
        "did_estimate": did.estimate,
        "did_ci_low": did.low,
        "did_ci_high": did.high,
        "verdict": judged.verdict,
        "verdict_basis": judged.basis,
        "bootstrap_resamples": resamples,
        "random_seed": seed,
        "as_of": _midnight(as_of + timedelta(days=1)) - timedelta(seconds=1),
    }


def compute_outcomes(
    conn: psycopg.Connection,
    as_of: date | None = None,
    *,
    baseline_weeks: int = DEFAULT_BASELINE_WEEKS,
    resamples: int = DEFAULT_RESAMPLES,
) -> list[dict[str, Any]]:
    """Recompute every approved intervention's outcomes (its watched metric and its rule's guard metric) and
    replace analysis.intervention_outcomes."""
    _require(conn, "marts.fct_metric_observations")
    as_of = as_of or build_as_of(conn)
    definitions = metric_definitions(conn)
    approved = approved_interventions(conn)
    guards = guard_metrics(conn)
    rows: list[dict[str, Any]] = []
    for item in approved:
        period_start = item.start - timedelta(weeks=baseline_weeks)
        for metric in watched_metrics(item, guards):
            definition = definitions.get(metric.metric_name)
            if definition is None:
                raise VerificationError(
                    f"{item.recommendation_id}: {metric.role} metric {metric.metric_name!r} is not in "
                    "seeds.metric_definitions"
                )
            excluded = {
                other.team_id
                for other in approved
                if other.metric_name == metric.metric_name
                and other.team_id != item.team_id
                and period_start <= other.start <= as_of
            }
            rows.append(
                outcome_row(
                    conn,
                    item,
                    definition,
                    as_of,
                    excluded,
                    baseline_weeks=baseline_weeks,
                    resamples=resamples,
                    metric=metric,
                )
            )
    with conn.transaction():
        conn.execute("delete from analysis.intervention_outcomes")
        if rows:
            columns = list(rows[0])
            placeholders = ", ".join(["%s"] * len(columns))
            with conn.cursor() as cur:
                cur.executemany(
                    f"insert into analysis.intervention_outcomes ({', '.join(columns)}) "
                    f"values ({placeholders})",
                    [tuple(_plain(row[c]) for c in columns) for row in rows],
                )
    return rows


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(round(value, 6)))
    return value
