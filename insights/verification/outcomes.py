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
(``fct_intervention_outcomes``). The statistics are deterministic, so the same stored data always gives the
same numbers (each row still records a ``random_seed`` derived from its recommendation and decision ids and,
for a guard, its metric).

Observations are grouped into **weekly blocks** anchored on the intervention start (the baseline window has
``baseline_weeks`` whole weeks; the current window's last week may be partial), items that share a cause
(``cluster_id``: the MRs one deployment shipped) are one unit at their mean, and the change is tested on the
diagnosis test scale with week-level random effects (see :mod:`insights.verification.stats`): items of one
week share its conditions, so a swing from one week to the next is not mistaken for the intervention's effect.
Each outcome also reports its power: the minimum detectable change at the current samples against the
playbook's expected change, and the day the verification can tell at the team's weekly volume.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from insights.verification.stats import (
    DEFAULT_ALPHA,
    DEFAULT_POWER,
    DEFAULT_RESAMPLES,
    GroupWindows,
    WeekStats,
    aggregate,
    degrees_of_freedom,
    did_test,
    expected_shift,
    minimum_detectable_shift,
    relative_change,
    shift_test,
    test_scale,
    to_test_scale,
    verdict,
    week_stats,
    week_variance,
    weeks_needed,
    window_mean,
    window_variance,
)
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


def expected_changes(conn: psycopg.Connection) -> dict[str, float]:
    """rule_id -> the relative change of its watched metric the playbook expects (expected_change_pct)."""
    _require(conn, "seeds.recommendation_playbook")
    rows = conn.execute(
        "select rule_id, expected_change_pct from seeds.recommendation_playbook "
        "where expected_change_pct is not null"
    ).fetchall()
    return {r[0]: float(r[1]) for r in rows}


def watched_metrics(item: Approved, guards: dict[str, str]) -> list[WatchedMetric]:
    """The metrics an approved intervention is verified on: its watched metric, then its rule's guard."""
    metrics = [WatchedMetric(item.metric_name, "watched")]
    guard = guards.get(item.rule_id)
    if guard and guard != item.metric_name:
        metrics.append(WatchedMetric(guard, "guard"))
    return metrics


MIN_BASELINE_WEEKS = 2


def regime_start(conn: psycopg.Connection, item: Approved) -> date | None:
    """Where the bottleneck the intervention answers began, as far as the diagnoses know: the first day of the
    diagnosis window of the first week of the team's last run of weekly diagnoses of the rule before the start
    (a gap of more than two weeks ends a run). None without such diagnoses (or without fct_diagnoses)."""
    found = conn.execute("select to_regclass('marts.fct_diagnoses') is not null").fetchone()
    if not found or not found[0] or not item.rule_id:
        return None
    rows = conn.execute(
        "select week_start_date, window_start_date from marts.fct_diagnoses "
        "where team_id = %s and rule_id = %s and week_start_date < %s order by week_start_date desc",
        (item.team_id, item.rule_id, item.start),
    ).fetchall()
    if not rows:
        return None
    first = rows[0]
    for row in rows[1:]:
        if (first[0] - row[0]).days > 21:
            break
        first = row
    return first[1]


def effective_baseline_weeks(start: date, baseline_weeks: int, regime: date | None) -> int:
    """The baseline is the ``baseline_weeks`` weeks just before the start, cut at the regime change that made
    the bottleneck (weeks before it are another regime: including them would dilute the change the
    intervention undoes), but never shorter than MIN_BASELINE_WEEKS."""
    if regime is None or regime <= start - timedelta(weeks=baseline_weeks):
        return baseline_weeks
    return max(MIN_BASELINE_WEEKS, min(baseline_weeks, (start - regime).days // 7))


def metric_definitions(conn: psycopg.Connection) -> dict[str, MetricDefinition]:
    _require(conn, "seeds.metric_definitions")
    rows = conn.execute(
        "select metric_name, aggregation, higher_is_better, min_sample from seeds.metric_definitions"
    ).fetchall()
    return {r[0]: MetricDefinition(r[1], bool(r[2]), int(r[3])) for r in rows}


def _observations(
    conn: psycopg.Connection, metric: str, start: datetime, end: datetime
) -> list[tuple[str, datetime, float, str | None]]:
    has_cluster = conn.execute(
        "select count(*) > 0 from information_schema.columns where table_schema = 'marts' "
        "and table_name = 'fct_metric_observations' and column_name = 'cluster_id'"
    ).fetchone()
    cluster = "cluster_id" if has_cluster and has_cluster[0] else "null"
    rows = conn.execute(
        f"select team_id, observed_at, value, {cluster} from marts.fct_metric_observations "
        "where metric_name = %s and observed_at >= %s and observed_at < %s",
        (metric, start, end),
    ).fetchall()
    return [(r[0], r[1], float(r[2]), r[3]) for r in rows]


@dataclass(frozen=True)
class VerificationSettings:
    """Significance and power of the verification (dbt vars verification_alpha, verification_power)."""

    alpha: float = DEFAULT_ALPHA
    power: float = DEFAULT_POWER

    @classmethod
    def from_vars(cls, values: dict[str, Any] | None = None) -> VerificationSettings:
        """From build vars (``values``; default: the ``vars:`` of dbt_project.yml), so the verification and
        fct_weekly_recommendations use the same significance and power."""
        if values is None:
            from warehouse.dbt_vars import project_vars
            from warehouse.settings import get_settings

            try:
                values = project_vars(get_settings().dbt_project_dir)
            except HeimdallError:
                values = {}
        return cls(
            alpha=float(values.get("verification_alpha") or DEFAULT_ALPHA),
            power=float(values.get("verification_power") or DEFAULT_POWER),
        )


def _units(items: list[tuple[float, str | None]], scale: str) -> WeekStats:
    """One week's units on the test scale: items sharing a cluster are one unit at their mean."""
    clusters: dict[str, list[float]] = {}
    singles: list[float] = []
    for value, cluster in items:
        converted = to_test_scale(value, scale)
        if cluster is None:
            singles.append(converted)
        else:
            clusters.setdefault(cluster, []).append(converted)
    return week_stats(singles + [sum(values) / len(values) for values in clusters.values()])


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
    resamples: int = 0,
    metric: WatchedMetric | None = None,
    expected_change_pct: float | None = None,
    settings: VerificationSettings | None = None,
    configured_baseline_weeks: int | None = None,
    regime: date | None = None,
) -> dict[str, Any]:
    """The outcome of ``item`` on ``metric`` (default: its watched metric). ``expected_change_pct`` (the
    playbook's, for the watched metric) decides whether the data was powered to see the expected change."""
    metric = metric or WatchedMetric(item.metric_name, "watched")
    settings = settings or VerificationSettings()
    baseline_start = item.start - timedelta(weeks=baseline_weeks)
    start_at, end_at = _midnight(item.start), _midnight(as_of + timedelta(days=1))
    weeks_after = max(1, -(-(as_of + timedelta(days=1) - item.start).days // 7))
    # (treated, after) -> one list of (value, cluster) per week of that window
    blocks: dict[tuple[bool, bool], list[list[tuple[float, str | None]]]] = {
        (t, a): [[] for _ in range(weeks_after if a else baseline_weeks)]
        for t in (True, False)
        for a in (True, False)
    }
    controls: set[str] = set()
    observations = _observations(conn, metric.metric_name, _midnight(baseline_start), end_at)
    for team, observed_at, value, cluster in observations:
        treated = team == item.team_id
        if not treated and team in excluded_controls:
            continue
        if not treated:
            controls.add(team)
        after = observed_at >= start_at
        week = (observed_at - (start_at if after else _midnight(baseline_start))).days // 7
        blocks[(treated, after)][week].append((value, cluster))
    groups = {key: [value for block in weekly for value, _ in block] for key, weekly in blocks.items()}
    how = definition.aggregation
    agg = aggregate(how)

    def described(key: tuple[bool, bool]) -> float | None:
        return agg(groups[key]) if groups[key] else None

    scale = test_scale(how)
    weeks = {key: [_units(block, scale) for block in weekly] for key, weekly in blocks.items()}
    treated_windows = GroupWindows(weeks[(True, False)], weeks[(True, True)])
    control_windows = GroupWindows(weeks[(False, False)], weeks[(False, True)])
    shift = shift_test(treated_windows, alpha=settings.alpha)
    did = did_test(treated_windows, control_windows, alpha=settings.alpha)
    power = _power(
        treated_windows,
        shift.se,
        definition,
        metric,
        expected_change_pct,
        scale,
        item.start,
        weeks_after,
        settings,
    )
    judged = verdict(
        shift.interval,
        did.interval,
        higher_is_better=definition.higher_is_better,
        n_before=len(groups[(True, False)]),
        n_after=len(groups[(True, True)]),
        min_sample=definition.min_sample,
        has_control=bool(groups[(False, False)]) and bool(groups[(False, True)]),
        powered=power["is_powered"],
        power_note=power["note"],
        level=1 - settings.alpha,
    )
    basis = judged.basis
    if configured_baseline_weeks is not None and baseline_weeks < configured_baseline_weeks:
        basis += (
            f" Baseline {baseline_weeks} weeks, not {configured_baseline_weeks}: the bottleneck was first "
            f"diagnosed in the window from {regime}, and earlier weeks belong to another regime."
        )
    treated_before, treated_after = described((True, False)), described((True, True))
    base_mean = window_mean(treated_windows.before)
    change_pct = relative_change(base_mean, shift.estimate, scale)
    pct_low = relative_change(base_mean, shift.interval.low, scale)
    pct_high = relative_change(base_mean, shift.interval.high, scale)

    def in_units(pct: float | None) -> float | None:
        return None if pct is None or treated_before is None else treated_before * pct

    guard = metric.metric_name if metric.role == "guard" else None
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
        "treated_before": treated_before,
        "treated_after": treated_after,
        "change": None if treated_before is None or treated_after is None else treated_after - treated_before,
        "change_pct": change_pct,
        "change_ci_low": in_units(pct_low),
        "change_ci_high": in_units(pct_high),
        "change_pct_ci_low": pct_low,
        "change_pct_ci_high": pct_high,
        "control_teams": ", ".join(sorted(controls)) or None,
        "control_n_before": len(groups[(False, False)]),
        "control_n_after": len(groups[(False, True)]),
        "control_before": described((False, False)),
        "control_after": described((False, True)),
        "did_estimate": did.estimate,
        "did_ci_low": did.interval.low,
        "did_ci_high": did.interval.high,
        "verdict": judged.verdict,
        "verdict_basis": basis,
        "bootstrap_resamples": resamples,
        "random_seed": derived_seed(item.recommendation_id, item.decision_id, guard),
        "as_of": _midnight(as_of + timedelta(days=1)) - timedelta(seconds=1),
        "test_scale": scale,
        "effect_estimate": shift.estimate,
        "effect_se": shift.se,
        "treated_units_before": sum(week[0] for week in treated_windows.before),
        "treated_units_after": sum(week[0] for week in treated_windows.after),
        "treated_units_per_week": power["units_per_week"],
        "expected_change_pct": expected_change_pct,
        "expected_effect_shift": power["expected_shift"],
        "minimum_detectable_shift": power["mde_shift"],
        "minimum_detectable_change_pct": power["mde_pct"],
        "is_powered": power["is_powered"],
        "weeks_observed": weeks_after,
        "weeks_needed": power["weeks_needed"],
        "expected_decidable_on": power["decidable_on"],
        "significance_alpha": settings.alpha,
        "target_power": settings.power,
    }


def _power(
    treated: GroupWindows,
    se: float | None,
    definition: MetricDefinition,
    metric: WatchedMetric,
    expected_change_pct: float | None,
    scale: str,
    start: date,
    weeks_after: int,
    settings: VerificationSettings,
) -> dict[str, Any]:
    """The outcome's power: minimum detectable change now (test scale and relative, in the expected direction
    or, for a guard, the worsening one), whether it reaches the expected change, and the number of current
    weeks (and the day) at which it will at the team's weekly volume and week-to-week variability."""
    result: dict[str, Any] = {
        "units_per_week": None,
        "expected_shift": None,
        "mde_shift": None,
        "mde_pct": None,
        "is_powered": None,
        "weeks_needed": None,
        "decidable_on": None,
        "note": "",
    }
    base_mean = window_mean(treated.before)
    if base_mean is None:
        return result
    s2, tau2 = treated.components()
    baseline_weeks_with_data = [week for week in treated.before if week[0] > 0]
    observed_weeks = baseline_weeks_with_data + [week for week in treated.after if week[0] > 0]
    units = sum(week[0] for week in observed_weeks)
    per_week = units / (len(treated.before) + weeks_after)
    result["units_per_week"] = per_week
    baseline_variance = window_variance(treated.before, s2, tau2) or 0.0
    if se is None:  # nothing since the start yet: the baseline and one week
        se = math.sqrt(baseline_variance + (week_variance(s2, tau2, per_week) if per_week else 0.0))
    baseline_weeks = len(baseline_weeks_with_data)
    df = (
        degrees_of_freedom(len(observed_weeks))
        if len(observed_weeks) > baseline_weeks
        else (degrees_of_freedom(baseline_weeks + 1))
    )
    mde = minimum_detectable_shift(se, df, alpha=settings.alpha, power=settings.power)
    result["mde_shift"] = mde
    if expected_change_pct is not None and expected_change_pct != 0:
        direction = 1 if expected_change_pct > 0 else -1
    else:
        direction = 1 if not definition.higher_is_better else -1  # a guard: the worsening direction
    pct = relative_change(base_mean, direction * mde, scale)
    result["mde_pct"] = None if pct is None else abs(pct)
    if expected_change_pct is None or expected_change_pct == 0 or metric.role != "watched":
        return result
    target = expected_shift(base_mean, expected_change_pct, scale)
    result["expected_shift"] = target
    result["is_powered"] = mde <= abs(target)
    needed = weeks_needed(
        baseline_variance,
        week_variance(s2, tau2, per_week),
        target,
        baseline_weeks,
        alpha=settings.alpha,
        power=settings.power,
        weeks_with_data_share=min(per_week, 1.0),
    )
    mde_text = "n/a" if pct is None else f"{abs(pct):.0%}"
    expected_text = f"{abs(expected_change_pct):.0%}"
    if needed is None:
        result["note"] = (
            f"The minimum detectable change is {mde_text} against the expected {expected_text}, and the "
            f"baseline ({len(baseline_weeks_with_data)} weeks with data) is too noisy for more weeks since "
            "the start ever to reach it."
        )
        return result
    result["weeks_needed"] = needed
    result["decidable_on"] = start + timedelta(weeks=needed) - timedelta(days=1)
    result["note"] = f"The minimum detectable change is {mde_text} against the expected {expected_text}: " + (
        "the data could have shown the expected change."
        if result["is_powered"]
        else f"not enough data to tell yet, expected decidable on {result['decidable_on']:%Y-%m-%d} "
        f"(after {needed} weeks at about {per_week:.1f} observations a week)."
    )
    return result


def compute_outcomes(
    conn: psycopg.Connection,
    as_of: date | None = None,
    *,
    baseline_weeks: int = DEFAULT_BASELINE_WEEKS,
    resamples: int = DEFAULT_RESAMPLES,
    settings: VerificationSettings | None = None,
) -> list[dict[str, Any]]:
    """Recompute every approved intervention's outcomes (its watched metric and its rule's guard metric) and
    replace analysis.intervention_outcomes. ``resamples`` is kept for callers; the intervals are analytic
    since issue 12 (``bootstrap_resamples`` is stored as 0)."""
    del resamples
    _require(conn, "marts.fct_metric_observations")
    as_of = as_of or build_as_of(conn)
    settings = settings or VerificationSettings.from_vars()
    definitions = metric_definitions(conn)
    approved = approved_interventions(conn)
    guards = guard_metrics(conn)
    expected = expected_changes(conn)
    rows: list[dict[str, Any]] = []
    for item in approved:
        regime = regime_start(conn, item)
        weeks = effective_baseline_weeks(item.start, baseline_weeks, regime)
        period_start = item.start - timedelta(weeks=weeks)
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
                    baseline_weeks=weeks,
                    metric=metric,
                    configured_baseline_weeks=baseline_weeks,
                    regime=regime,
                    expected_change_pct=expected.get(item.rule_id) if metric.role == "watched" else None,
                    settings=settings,
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
