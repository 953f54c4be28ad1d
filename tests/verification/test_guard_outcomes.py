"""insights.verification watches the guard metric beside the watched one (issue 11): on a small hand-written
set of observations in a real database, a review SLO that halves pickup while the team starts merging without
review is "improved" on pickup and "worsened" on its guard, merged_without_review. Expectations computed by
hand.

The relations verification reads (normally built by dbt) are created here as plain tables with just the
columns it reads: intermediate.int_recommendation_decisions_latest, seeds.metric_definitions,
seeds.recommendation_playbook, marts.fct_metric_observations and marts.dim_dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from insights.verification import compute_outcomes
from insights.verification.outcomes import derived_seed

START = date(2026, 3, 2)  # intervention start (Monday)
AS_OF = date(2026, 3, 15)
BASELINE_WEEKS = 2  # baseline window [2026-02-16, 2026-03-02)

# checkout's pickup (working hours): median 7 before, 3 after (change -4, relative 3 / 7 - 1 = -0.5714)
PICKUP_BEFORE = [6, 6, 6, 7, 7, 7, 7, 8, 8, 8]
PICKUP_AFTER = [2, 2, 2, 3, 3, 3, 3, 4, 4, 4]
# ... while it starts merging without review: 1 of 10 before (0.1), 8 of 10 after (0.8): change +0.7
UNREVIEWED_BEFORE = [0] * 9 + [1]
UNREVIEWED_AFTER = [1] * 8 + [0] * 2
# payments (control) does not change: pickup 5 throughout, never merges without review
CONTROL_PICKUP = [5] * 10
CONTROL_UNREVIEWED = [0] * 10


def _at(day: date, n: int) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC) + timedelta(hours=n)


def _observations(team: str, metric: str, before: list[int], after: list[int]) -> list[tuple[Any, ...]]:
    rows = [(metric, team, _at(date(2026, 2, 17), n), value) for n, value in enumerate(before)]
    rows += [(metric, team, _at(date(2026, 3, 3), n), value) for n, value in enumerate(after)]
    return rows


@pytest.fixture(scope="module")
def outcomes(warehouse_url: str) -> list[dict[str, Any]]:
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            """
            create schema if not exists marts;
            create schema if not exists intermediate;
            create schema if not exists seeds;
            create table marts.dim_dates (date_day date);
            create table intermediate.int_recommendation_decisions_latest (
                recommendation_id text, decision_id bigint, team_id text, metric_name text,
                intervention_start_date date, rule_id text, decision text);
            create table seeds.metric_definitions (
                metric_name text, aggregation text, higher_is_better boolean, min_sample integer);
            create table seeds.recommendation_playbook (rule_id text, guard_metric_name text);
            create table marts.fct_metric_observations (
                metric_name text, team_id text, observed_at timestamptz, value numeric);
            """
        )
        conn.execute("insert into marts.dim_dates values (%s)", (AS_OF,))
        conn.execute(
            "insert into intermediate.int_recommendation_decisions_latest values "
            "('checkout:slow_review_pickup', 11, 'checkout', 'review_pickup_working_hours', %s, "
            "'slow_review_pickup', 'approved'), "
            "('platform:ci_retry_waste', 12, 'platform', 'ci_pipeline_retried', %s, 'ci_retry_waste', "
            "'approved')",
            (START, START),
        )
        conn.execute(
            "insert into seeds.metric_definitions values "
            "('review_pickup_working_hours', 'median', false, 8), "
            "('merged_without_review', 'mean', false, 10), ('ci_pipeline_retried', 'mean', false, 20)"
        )
        conn.execute(
            "insert into seeds.recommendation_playbook values "
            "('slow_review_pickup', 'merged_without_review'), ('ci_retry_waste', null)"
        )
        rows = [
            *_observations("checkout", "review_pickup_working_hours", PICKUP_BEFORE, PICKUP_AFTER),
            *_observations("checkout", "merged_without_review", UNREVIEWED_BEFORE, UNREVIEWED_AFTER),
            *_observations("payments", "review_pickup_working_hours", CONTROL_PICKUP, CONTROL_PICKUP),
            *_observations("payments", "merged_without_review", CONTROL_UNREVIEWED, CONTROL_UNREVIEWED),
            *_observations("platform", "ci_pipeline_retried", [0, 1], [0]),
        ]
        with conn.cursor() as cur:
            cur.executemany("insert into marts.fct_metric_observations values (%s, %s, %s, %s)", rows)
        conn.commit()
        return compute_outcomes(conn, AS_OF, baseline_weeks=BASELINE_WEEKS, resamples=400)


def _row(outcomes: list[dict[str, Any]], recommendation: str, metric: str) -> dict[str, Any]:
    return next(r for r in outcomes if (r["recommendation_id"], r["metric_name"]) == (recommendation, metric))


def test_watched_metric_and_guard_each_get_an_outcome(outcomes) -> None:
    # the review SLO is verified on pickup (watched) and merged_without_review (its rule's guard); the CI
    # recommendation has no guard in the playbook: one row
    assert sorted((r["recommendation_id"], r["metric_name"], r["metric_role"]) for r in outcomes) == [
        ("checkout:slow_review_pickup", "merged_without_review", "guard"),
        ("checkout:slow_review_pickup", "review_pickup_working_hours", "watched"),
        ("platform:ci_retry_waste", "ci_pipeline_retried", "watched"),
    ]


def test_pickup_improved_while_its_guard_worsened(outcomes) -> None:
    pickup = _row(outcomes, "checkout:slow_review_pickup", "review_pickup_working_hours")
    assert (pickup["treated_before"], pickup["treated_after"], pickup["change"]) == (7, 3, -4)
    assert pickup["change_pct"] == pytest.approx(3 / 7 - 1)
    assert (pickup["treated_n_before"], pickup["treated_n_after"]) == (10, 10)
    assert pickup["verdict"] == "improved"
    guard = _row(outcomes, "checkout:slow_review_pickup", "merged_without_review")
    # mean 0.1 -> 0.8: +0.7; the control (payments) stays at 0, so the DiD is +0.7 as well
    assert (guard["treated_before"], guard["treated_after"]) == (pytest.approx(0.1), pytest.approx(0.8))
    assert (guard["change"], guard["did_estimate"]) == (pytest.approx(0.7), pytest.approx(0.7))
    assert (guard["aggregation"], guard["control_teams"]) == ("mean", "payments")
    assert guard["verdict"] == "worsened"  # higher is worse: the team got "faster" by not reviewing
    # the watched row keeps the seed it always had; the guard's own seed depends on its metric
    assert pickup["random_seed"] == derived_seed("checkout:slow_review_pickup", 11)
    assert guard["random_seed"] == derived_seed("checkout:slow_review_pickup", 11, "merged_without_review")
    assert guard["random_seed"] != pickup["random_seed"]


def test_outcomes_are_stored_one_row_per_recommendation_and_metric(outcomes, warehouse_url) -> None:
    with psycopg.connect(warehouse_url) as conn:
        stored = conn.execute(
            "select recommendation_id, metric_name, metric_role, verdict from analysis.intervention_outcomes "
            "order by 1, 2"
        ).fetchall()
    assert stored == [
        ("checkout:slow_review_pickup", "merged_without_review", "guard", "worsened"),
        ("checkout:slow_review_pickup", "review_pickup_working_hours", "watched", "improved"),
        ("platform:ci_retry_waste", "ci_pipeline_retried", "watched", "too little data"),
    ]
