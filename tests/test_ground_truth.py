"""The warehouse recovers what the generator planted: compare marts with ground_truth.json.

Scenario tests/scenarios/flow_planted.yml: Platform's blocked probability rises from ~0.13 to 0.6 in weeks
10-18; Payments over-commits sprints (planned / started 1.8 instead of 1.1) from week 12; Checkout is the
control. The thresholds are deliberately loose ratios, far from what noise produces at this size.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.support import GeneratedOrg, Preparation
from warehouse.settings import PROJECT_ROOT

AS_OF = date(2026, 11, 20)


# the marts these tests read: only they and their upstream are built (with their data tests)
MARTS = ("fct_issue_lifecycle", "fct_blocked_intervals", "fct_sprint_performance")


def prepare_in_background(prep: Preparation) -> GeneratedOrg:
    """Generate, load and build the organisation (starts with the session, see tests/conftest.py)."""
    return prep.generated_org(
        PROJECT_ROOT / "tests" / "scenarios" / "flow_planted.yml", seed=11, as_of=AS_OF, models=MARTS
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


def _blocked_share(query, team: str, start: str, end: str) -> float:
    row = query(
        """
        select avg(case when blocked_hours > 0 then 1.0 else 0.0 end) as share, count(*) as n
        from marts.fct_issue_lifecycle
        where team_id = %s and started_at >= %s::date and started_at < %s::date + 1
          and issue_type <> 'Incident'
        """,
        (team, start, end),
    )[0]
    assert row["n"] >= 20, f"too few started issues for {team} {start}..{end}: {row['n']}"
    return float(row["share"])


def test_planted_blocked_work_shows_in_the_planted_window(truth, query) -> None:
    effect = _effect(truth, "platform-blocked-work")
    assert (effect["team"], effect["value"]) == ("platform", 0.6)
    window = (effect["start_date"], effect["end_date"])
    before = (truth["window_start"], effect["start_date"])
    during = _blocked_share(query, "platform", *window)
    earlier = _blocked_share(query, "platform", *before)
    control = _blocked_share(query, "checkout", *window)
    assert during >= 2.5 * earlier, (during, earlier)
    assert during >= 2.5 * control, (during, control)
    # and the blocked time itself lands in the window: blocked intervals overlapping it dominate
    rows = query(
        """
        select count(*) filter (where started_at < %s::date + 1 and ended_at > %s::date) as inside,
               count(*) as total
        from marts.fct_blocked_intervals
        where team_id = 'platform'
        """,
        (effect["end_date"], effect["start_date"]),
    )[0]
    assert rows["inside"] > rows["total"] / 2, rows


def test_planted_overcommit_lowers_planning_accuracy(truth, query) -> None:
    effect = _effect(truth, "payments-overcommit")
    rows = query(
        """
        select started_at >= %s::date as is_after, avg(planning_accuracy) as accuracy, count(*) as n
        from marts.fct_sprint_performance
        where team_id = 'payments' and sprint_state = 'closed' and committed_count > 0
        group by 1
        """,
        (effect["start_date"],),
    )
    by_period = {row["is_after"]: row for row in rows}
    assert by_period[False]["n"] >= 3 and by_period[True]["n"] >= 3, rows
    before, after = float(by_period[False]["accuracy"]), float(by_period[True]["accuracy"])
    assert after < 0.8 * before, (before, after)
