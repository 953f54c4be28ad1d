"""The review and CI marts recover what the generator planted (tests/scenarios/review_ci_planted.yml):
Checkout's review pickup triples from week 12, Platform's CI flaky rate rises from ~0.04 to 0.35 from week 12,
Payments is the control. Thresholds are loose ratios, far from what noise produces at this size; the
planted dates come from ground_truth.json, never from the test."""

from __future__ import annotations

from datetime import date
from statistics import median

import pytest

from tests.support import GeneratedOrg, Preparation
from warehouse.settings import PROJECT_ROOT

AS_OF = date(2026, 11, 20)


# the marts these tests read: only they and their upstream are built (with their data tests)
MARTS = ("fct_merge_requests", "fct_pipelines", "fct_ci_daily")


def prepare_in_background(prep: Preparation) -> GeneratedOrg:
    """Generate, load and build the organisation (starts with the session, see tests/conftest.py)."""
    return prep.generated_org(
        PROJECT_ROOT / "tests" / "scenarios" / "review_ci_planted.yml", seed=7, as_of=AS_OF, models=MARTS
    )


@pytest.fixture(scope="module")
def org(prepared) -> GeneratedOrg:
    return prepared


@pytest.fixture(scope="module")
def truth(org) -> dict:
    return org.truth


@pytest.fixture(scope="module")
def query(org):
    return org.query


def _effect(truth: dict, effect_id: str) -> dict:
    return next(effect for effect in truth["effects"] if effect["id"] == effect_id)


def _pickups(
    query, team: str, start: str, end: str, column: str = "review_pickup_working_hours"
) -> list[float]:
    rows = query(
        f"""
        select {column} as pickup
        from marts.fct_merge_requests
        where team_id = %s and not is_bot_author and {column} is not null
          and ready_at >= %s::date and ready_at < %s::date + 1
        """,
        (team, start, end),
    )
    assert len(rows) >= 30, f"too few reviewed MRs for {team} {start}..{end}: {len(rows)}"
    return [float(row["pickup"]) for row in rows]


def test_planted_review_bottleneck_shows_in_pickup(truth, query) -> None:
    effect = _effect(truth, "checkout-slow-reviews")
    assert (effect["team"], effect["knob"], effect["value"]) == ("checkout", "review_pickup_multiplier", 3.0)
    during = median(_pickups(query, "checkout", effect["start_date"], truth["window_end"]))
    before = median(_pickups(query, "checkout", truth["window_start"], effect["start_date"]))
    control = median(_pickups(query, "payments", effect["start_date"], truth["window_end"]))
    # the generator plants x3 in working hours, so the working-hours median moves by ~3 (2..4 allows noise)
    assert 2.0 <= during / before <= 4.0, (during, before)
    assert during >= 2.0 * control, (during, control)
    # in wall-clock hours nights and weekends inflate the same change; it must at least show
    wall = "review_pickup_hours"
    wall_during = median(_pickups(query, "checkout", effect["start_date"], truth["window_end"], wall))
    wall_before = median(_pickups(query, "checkout", truth["window_start"], effect["start_date"], wall))
    assert wall_during >= 2.0 * wall_before, (wall_during, wall_before)


def test_planted_review_bottleneck_is_not_in_other_review_metrics(truth, query) -> None:
    """Only pickup was planted: Checkout's review duration (first review -> merge) stays near its level."""
    effect = _effect(truth, "checkout-slow-reviews")
    rows = query(
        """
        select ready_at >= %s::date as is_after,
               percentile_cont(0.5) within group (order by review_duration_working_hours) as p50
        from marts.fct_merge_requests
        where team_id = 'checkout' and not is_bot_author and review_duration_working_hours is not null
        group by 1
        """,
        (effect["start_date"],),
    )
    by_period = {row["is_after"]: float(row["p50"]) for row in rows}
    assert by_period[True] < 1.5 * by_period[False], by_period


def _flaky_share(query, team: str, start: str, end: str) -> float:
    row = query(
        """
        select avg(case when is_flaky then 1.0 else 0.0 end) as share, count(*) as n
        from marts.fct_pipelines
        where team_id = %s and is_merge_request_pipeline
          and created_at >= %s::date and created_at < %s::date + 1
        """,
        (team, start, end),
    )[0]
    assert row["n"] >= 50, f"too few MR pipelines for {team} {start}..{end}: {row['n']}"
    return float(row["share"])


def test_planted_ci_flakiness_shows_in_pipelines(truth, query) -> None:
    effect = _effect(truth, "platform-flaky-ci")
    assert (effect["team"], effect["knob"], effect["value"]) == ("platform", "ci_flaky_rate", 0.35)
    during = _flaky_share(query, "platform", effect["start_date"], truth["window_end"])
    before = _flaky_share(query, "platform", truth["window_start"], effect["start_date"])
    control = _flaky_share(query, "payments", effect["start_date"], truth["window_end"])
    # planted 0.35 vs a baseline of ~0.04 (jittered +-25%)
    assert 0.25 <= during <= 0.45, during
    assert during >= 3 * before, (during, before)
    assert during >= 3 * control, (during, control)


def test_planted_ci_flakiness_shows_as_retry_waste(truth, query) -> None:
    effect = _effect(truth, "platform-flaky-ci")
    rows = query(
        """
        select date_day >= %s::date as is_after,
               sum(retry_waste_minutes) / count(distinct date_day) as per_day
        from marts.fct_ci_daily
        where team_id = 'platform' and date_day >= %s::date
        group by 1
        """,
        (effect["start_date"], truth["window_start"]),
    )
    by_period = {row["is_after"]: float(row["per_day"]) for row in rows}
    assert by_period[True] >= 3 * by_period[False], by_period
