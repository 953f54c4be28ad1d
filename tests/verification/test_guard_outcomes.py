"""insights.verification watches the guard metric beside the watched one (issue 11) and reports its power
(issue 12): on a small hand-written set of observations in a real database, a review SLO that halves pickup
while the team starts merging without review is "improved" on pickup and "worsened" on its guard,
merged_without_review; two placebo approvals where nothing changes are "no detectable change" when the data
could have shown the expected change and "not enough data to tell yet" (with the day it will be able to) when
it could not. Expectations computed by hand.

The relations verification reads (normally built by dbt) are created here as plain tables with just the
columns it reads: intermediate.int_recommendation_decisions_latest, seeds.metric_definitions,
seeds.recommendation_playbook, marts.fct_metric_observations and marts.dim_dates.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from insights.verification import compute_outcomes
from insights.verification.outcomes import derived_seed, effective_baseline_weeks

START = date(2026, 3, 2)  # intervention start (Monday)
AS_OF = date(2026, 3, 29)  # four whole weeks since the start
BASELINE_WEEKS = 4  # baseline window [2026-02-02, 2026-03-02)

# checkout's pickup (working hours), the same five MRs every week: median 7 before, 3 after (change -4)
PICKUP_BEFORE = [[6, 6, 7, 7, 8]] * 4
PICKUP_AFTER = [[2, 2, 3, 3, 4]] * 4
# ... while it starts merging without review: 2 of 20 before (0.1), 16 of 20 after (0.8): change +0.7
UNREVIEWED_BEFORE = [[0] * 5, [0] * 4 + [1], [0] * 4 + [1], [0] * 5]
UNREVIEWED_AFTER = [[1] * 4 + [0]] * 4
# payments (control) does not change: pickup 5 throughout, never merges without review
CONTROL_PICKUP = [[5] * 5] * 4
CONTROL_UNREVIEWED = [[0] * 5] * 4
# placebo approvals of the CI quarantine (expected -60% of the retried share), nothing changes: search runs 60
# pipelines a week (15 retried: 0.25), identity 20 (6 retried: 0.3)
SEARCH_RETRIED = [[1] * 15 + [0] * 45] * 4
IDENTITY_RETRIED = [[1] * 6 + [0] * 14] * 4


def _at(day: date, n: int) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC) + timedelta(minutes=n)


def _observations(
    team: str, metric: str, before: list[list[int]], after: list[list[int]]
) -> list[tuple[Any, ...]]:
    """One list of values per week: the baseline's weeks from 2026-02-03, the current window's from 03-03."""
    rows = []
    for first, weeks in ((date(2026, 2, 3), before), (date(2026, 3, 3), after)):
        for week, values in enumerate(weeks):
            day = first + timedelta(weeks=week)
            rows += [
                (metric, team, _at(day, n), value, f"{team}:{day}:{n}") for n, value in enumerate(values)
            ]
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
            create table seeds.recommendation_playbook (
                rule_id text, guard_metric_name text, expected_change_pct numeric);
            create table marts.fct_metric_observations (
                metric_name text, team_id text, observed_at timestamptz, value numeric, cluster_id text);
            """
        )
        conn.execute("insert into marts.dim_dates values (%s)", (AS_OF,))
        conn.execute(
            "insert into intermediate.int_recommendation_decisions_latest values "
            "('checkout:slow_review_pickup', 11, 'checkout', 'review_pickup_working_hours', %s, "
            "'slow_review_pickup', 'approved'), "
            "('platform:ci_retry_waste', 12, 'platform', 'ci_pipeline_retried', %s, 'ci_retry_waste', "
            "'approved'), "
            "('search:ci_retry_waste', 13, 'search', 'ci_pipeline_retried', %s, 'ci_retry_waste', "
            "'approved'), "
            "('identity:ci_retry_waste', 14, 'identity', 'ci_pipeline_retried', %s, 'ci_retry_waste', "
            "'approved')",
            (START, START, START, START),
        )
        conn.execute(
            "insert into seeds.metric_definitions values "
            "('review_pickup_working_hours', 'median', false, 8), "
            "('merged_without_review', 'mean', false, 10), ('ci_pipeline_retried', 'mean', false, 20)"
        )
        conn.execute(
            "insert into seeds.recommendation_playbook values "
            "('slow_review_pickup', 'merged_without_review', -0.5), ('ci_retry_waste', null, -0.6)"
        )
        rows = [
            *_observations("checkout", "review_pickup_working_hours", PICKUP_BEFORE, PICKUP_AFTER),
            *_observations("checkout", "merged_without_review", UNREVIEWED_BEFORE, UNREVIEWED_AFTER),
            *_observations("payments", "review_pickup_working_hours", CONTROL_PICKUP, CONTROL_PICKUP),
            *_observations("payments", "merged_without_review", CONTROL_UNREVIEWED, CONTROL_UNREVIEWED),
            *_observations("platform", "ci_pipeline_retried", [[0, 1]], [[0]]),
            *_observations("search", "ci_pipeline_retried", SEARCH_RETRIED, SEARCH_RETRIED),
            *_observations("identity", "ci_pipeline_retried", IDENTITY_RETRIED, IDENTITY_RETRIED),
        ]
        with conn.cursor() as cur:
            cur.executemany("insert into marts.fct_metric_observations values (%s, %s, %s, %s, %s)", rows)
        conn.commit()
        return compute_outcomes(conn, AS_OF, baseline_weeks=BASELINE_WEEKS, resamples=400)


def _row(outcomes: list[dict[str, Any]], recommendation: str, metric: str) -> dict[str, Any]:
    return next(r for r in outcomes if (r["recommendation_id"], r["metric_name"]) == (recommendation, metric))


def test_watched_metric_and_guard_each_get_an_outcome(outcomes) -> None:
    # the review SLO is verified on pickup (watched) and merged_without_review (its rule's guard); the CI
    # recommendations have no guard in the playbook: one row each
    assert sorted((r["recommendation_id"], r["metric_name"], r["metric_role"]) for r in outcomes) == [
        ("checkout:slow_review_pickup", "merged_without_review", "guard"),
        ("checkout:slow_review_pickup", "review_pickup_working_hours", "watched"),
        ("identity:ci_retry_waste", "ci_pipeline_retried", "watched"),
        ("platform:ci_retry_waste", "ci_pipeline_retried", "watched"),
        ("search:ci_retry_waste", "ci_pipeline_retried", "watched"),
    ]


def test_pickup_improved_while_its_guard_worsened(outcomes) -> None:
    pickup = _row(outcomes, "checkout:slow_review_pickup", "review_pickup_working_hours")
    assert (pickup["treated_before"], pickup["treated_after"], pickup["change"]) == (7, 3, -4)
    assert (pickup["treated_n_before"], pickup["treated_n_after"]) == (20, 20)
    # tested on log(1 + hours): week means (2 log 7 + 2 log 8 + log 9) / 5 = 2.049563 before and
    # (2 log 3 + 2 log 4 + log 5) / 5 = 1.315845 after, the same every week (tau2 = 0): shift -0.733718; as a
    # change of the typical value exp(mean) - 1: 2.727783 / 6.764678 - 1 = -59.7%
    before = (2 * math.log(7) + 2 * math.log(8) + math.log(9)) / 5
    after = (2 * math.log(3) + 2 * math.log(4) + math.log(5)) / 5
    assert pickup["test_scale"] == "log1p"
    assert pickup["effect_estimate"] == pytest.approx(after - before)
    assert pickup["change_pct"] == pytest.approx(math.expm1(after) / math.expm1(before) - 1)
    assert pickup["change_pct"] == pytest.approx(-0.5968, abs=1e-4)
    assert pickup["verdict"] == "improved"
    assert pickup["expected_change_pct"] == -0.5 and pickup["is_powered"] is True
    guard = _row(outcomes, "checkout:slow_review_pickup", "merged_without_review")
    # mean 0.1 -> 0.8: +0.7; the control (payments) stays at 0, so the DiD is +0.7 as well. Within-week SS:
    # 2 x (1 - 1/5) before + 4 x (4 - 16/5) after = 4.8 over 40 - 8 units: s2 = 0.15; between-week SS 0.2 over
    # 6 df, n0 = 5: tau2 = max(0, (0.2 / 6 - 0.15) / 5) = 0; SE = sqrt(0.15 / 20 + 0.15 / 20) = 0.122474; 8
    # weeks: df 6, t = 2.433745: interval 0.7 -/+ 0.298071 = [0.401929, 0.998071], above zero
    assert (guard["treated_before"], guard["treated_after"]) == (pytest.approx(0.1), pytest.approx(0.8))
    assert (guard["change"], guard["did_estimate"]) == (pytest.approx(0.7), pytest.approx(0.7))
    assert guard["effect_se"] == pytest.approx(0.015**0.5)
    assert guard["change_ci_low"] == pytest.approx(0.401929, abs=1e-5)  # 0.1 x (0.401929 / 0.1)
    assert (guard["aggregation"], guard["control_teams"]) == ("mean", "payments")
    assert guard["verdict"] == "worsened"  # higher is worse: the team got "faster" by not reviewing
    assert guard["expected_change_pct"] is None and guard["is_powered"] is None
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
        ("identity:ci_retry_waste", "ci_pipeline_retried", "watched", "not enough data to tell yet"),
        ("platform:ci_retry_waste", "ci_pipeline_retried", "watched", "too little data"),
        ("search:ci_retry_waste", "ci_pipeline_retried", "watched", "no detectable change"),
    ]


def test_a_powered_placebo_is_no_detectable_change(outcomes) -> None:
    """search: 60 pipelines a week, 15 retried, before and after. Within-week SS 8 x (15 - 15^2 / 60) = 90
    over 480 - 8 units: s2 = 0.190678, tau2 = 0; SE = sqrt(2 x 0.190678 / 240) = 0.039862; 8 weeks: df 6,
    MDE = (2.433745 + 0.905629) x 0.039862 = 0.133114 on the share, i.e. 0.133114 / 0.25 = 53% against the
    expected 60% (a shift of -0.6 x 0.25 = -0.15): powered, so the interval around 0 means no detectable
    change."""
    search = _row(outcomes, "search:ci_retry_waste", "ci_pipeline_retried")
    assert search["effect_estimate"] == pytest.approx(0.0, abs=1e-12)
    assert search["effect_se"] == pytest.approx(0.039862, abs=1e-6)
    assert search["minimum_detectable_shift"] == pytest.approx(0.133114, abs=1e-5)
    assert search["minimum_detectable_change_pct"] == pytest.approx(0.532458, abs=1e-5)
    assert search["expected_effect_shift"] == pytest.approx(-0.15)
    assert search["is_powered"] is True
    assert search["verdict"] == "no detectable change"
    assert "could have shown the expected change" in search["verdict_basis"]


def test_an_unpowered_placebo_is_not_enough_data_to_tell_yet(outcomes) -> None:
    """identity: 20 pipelines a week, 6 retried. s2 = 8 x (6 - 36 / 20) / (160 - 8) = 0.221053, tau2 = 0;
    SE = sqrt(2 x 0.221053 / 80) = 0.074339; MDE = 3.339374 x 0.074339 = 0.248246, 83% of the share 0.3,
    against the expected 60% (-0.18): not powered. Projected: the baseline's variance 0.221053 / 80 = 0.002763
    plus 0.221053 / 20 units a week per week of the current window: after 13 weeks (df 15) the MDE is
    (2.130660 + 0.866240) x sqrt(0.002763 + 0.011053 / 13) = 0.180150 > 0.18, after 14 weeks (df 16)
    (2.119256 + 0.864663) x sqrt(0.002763 + 0.011053 / 14) = 0.177847 <= 0.18: decidable on the last day of
    the 14th week, 2026-03-02 + 14 weeks - 1 day = 2026-06-07."""
    identity = _row(outcomes, "identity:ci_retry_waste", "ci_pipeline_retried")
    assert identity["minimum_detectable_shift"] == pytest.approx(0.248246, abs=1e-5)
    assert identity["minimum_detectable_change_pct"] == pytest.approx(0.248246 / 0.3, abs=1e-4)
    assert identity["is_powered"] is False
    assert (identity["weeks_observed"], identity["weeks_needed"]) == (4, 14)
    assert identity["expected_decidable_on"] == date(2026, 6, 7)
    assert identity["verdict"] == "not enough data to tell yet"
    assert "expected decidable on 2026-06-07" in identity["verdict_basis"]


def test_the_baseline_stops_at_the_bottleneck_it_answers() -> None:
    """Six baseline weeks before a start on 2026-03-02 reach back to 2026-01-19. A bottleneck first diagnosed
    in the window from 2026-02-09 (three weeks before the start) cuts the baseline to those 3 weeks: earlier
    weeks belong to the regime before it. One that began before 2026-01-19 changes nothing; the baseline never
    gets shorter than two weeks."""
    assert effective_baseline_weeks(START, 6, None) == 6
    assert effective_baseline_weeks(START, 6, date(2026, 1, 5)) == 6
    assert effective_baseline_weeks(START, 6, date(2026, 2, 9)) == 3
    assert effective_baseline_weeks(START, 6, date(2026, 2, 25)) == 2
