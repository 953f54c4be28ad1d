"""Diagnose, recommend, approve, verify — against what the generator planted (tests/scenarios/
intervention_planted.yml, seed 7, small scale), through the real CLI on a real database:

* from week 5 Checkout's review pickup triples, Platform's CI turns flaky, Payments' work gets blocked;
* from week 15 Checkout runs a review SLO that halves pickup (the planted effect: x0.5, i.e. -50%).

The top-ranked diagnosis of each team must name its planted bottleneck, its evidence must be the items that
drive it, and after approving the matching recommendation with the planted start date, verification must
bracket the planted effect and exclude zero. Approving where nothing changed must give "no detectable change".
Planted dates come from ground_truth.json, never from the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from generator import GeneratorOptions, generate, load_scenario
from heimdall.planted import RULE_OF_KNOB, SIDE_EFFECTS_OF_KNOB
from tests.support import Preparation
from warehouse.dbt_vars import effective_vars, vars_args
from warehouse.settings import PROJECT_ROOT

HEIMDALL = str(Path(sys.executable).parent / "heimdall")
AS_OF = date(2026, 11, 20)
BUILD_VARS = vars_args(as_of=AS_OF)


def cli_environment(url: str, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HEIMDALL_DATABASE_URL": url,
        "HEIMDALL_HOME": str(home),
        "DBT_TARGET_PATH": str(home / "target"),
        "DBT_LOG_PATH": str(home / "logs"),
        "COLUMNS": "250",
    }


def heimdall(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([HEIMDALL, *args], env=env, capture_output=True, text=True, check=False)
    output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"heimdall {' '.join(args)} failed:\n{output}"
    return done


def prepare_in_background(prep: Preparation) -> tuple[dict, dict[str, str]]:
    """Generate and load the organisation, `heimdall build` (starts with the session: see conftest.py)."""
    warehouse = prep.warehouse()
    cli_env = cli_environment(warehouse.url, prep.home)
    scenario = load_scenario(PROJECT_ROOT / "tests" / "scenarios" / "intervention_planted.yml")
    run = generate(GeneratorOptions(seed=7, scale="small", scenario=scenario, as_of=AS_OF))
    ground_truth = run.ground_truth()
    warehouse.load(run.records)
    heimdall(cli_env, "build", *BUILD_VARS)
    return ground_truth, cli_env


@pytest.fixture(scope="module")
def truth(prepared) -> dict:
    return prepared[0]


@pytest.fixture(scope="module")
def cli_env(prepared) -> dict[str, str]:
    return prepared[1]


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _planted_weeks(truth: dict, effect: dict) -> list[date]:
    """ISO weeks whose whole 4-week diagnosis window lies inside the planted effect (before any intervention
    on the same team and knob)."""
    start = date.fromisoformat(effect["start_date"])
    end = date.fromisoformat(effect["end_date"] or truth["window_end"])
    for intervention in truth["interventions"]:
        if (intervention["team"], intervention["knob"]) == (effect["team"], effect["knob"]):
            end = min(end, date.fromisoformat(intervention["start_date"]) - timedelta(days=1))
    weeks, week = [], _week_start(start) + timedelta(weeks=4)  # first window starting after the start
    while week + timedelta(days=6) <= end:
        weeks.append(week)
        week += timedelta(weeks=1)
    return weeks


def test_top_diagnosis_names_each_planted_bottleneck(truth, query) -> None:
    planted = [effect for effect in truth["effects"] if effect["knob"] in RULE_OF_KNOB]
    assert {effect["team"] for effect in planted} == {"checkout", "platform", "payments"}
    for effect in planted:
        weeks = _planted_weeks(truth, effect)
        assert len(weeks) >= 4, (effect["id"], weeks)
        top = {
            row["week_start_date"]: row["rule_id"]
            for row in query(
                "select week_start_date, rule_id from marts.fct_diagnoses "
                "where team_id = %s and rank_in_team_week = 1",
                (effect["team"],),
            )
        }
        named = sum(top.get(week) == RULE_OF_KNOB[effect["knob"]] for week in weeks)
        # the tests are statistical (recall ~0.9 over the scenario suite, bench/diagnosis_accuracy.py): at
        # least four planted weeks in five, and no other rule (but the cause's side effects) ranked first
        assert named >= 0.8 * len(weeks), (effect["id"], {week: top.get(week) for week in weeks})
        rule = RULE_OF_KNOB[effect["knob"]]
        side_effects = set(SIDE_EFFECTS_OF_KNOB.get(effect["knob"], ()))
        others = {top[week] for week in weeks if week in top} - {rule} - side_effects
        assert not others, (effect["id"], others)


def test_no_diagnosis_without_a_planted_cause(truth, query) -> None:
    """After a warm-up of four weeks, every diagnosis is one of the planted (team, rule) pairs or a side
    effect of one; the tests are statistical (one-sided 0.5 % per comparison, many comparisons a week), so
    the product's promise is at most one false diagnosis per team and quarter, and that is what is checked."""
    planted = {(e["team"], RULE_OF_KNOB[e["knob"]]) for e in truth["effects"] if e["knob"] in RULE_OF_KNOB}
    allowed = planted | {
        (e["team"], side) for e in truth["effects"] for side in SIDE_EFFECTS_OF_KNOB.get(e["knob"], ())
    }
    warm = date.fromisoformat(truth["window_start"]) + timedelta(weeks=4)
    fired = query(
        "select team_id, rule_id, week_start_date from marts.fct_diagnoses where week_start_date >= %s",
        (warm,),
    )
    unexpected: dict[str, list[tuple[str, date]]] = {}
    for row in fired:
        if (row["team_id"], row["rule_id"]) not in allowed:
            unexpected.setdefault(row["team_id"], []).append((row["rule_id"], row["week_start_date"]))
    quarters = (date.fromisoformat(truth["window_end"]) - warm).days / 91
    for team, items in unexpected.items():
        assert len(items) <= max(1, int(quarters)), (team, items)


def test_evidence_is_the_slow_merge_requests(truth, query) -> None:
    effect = next(e for e in truth["effects"] if e["id"] == "checkout-slow-reviews")
    week = _planted_weeks(truth, effect)[2]
    diagnosis = query(
        "select * from marts.fct_diagnoses where team_id = 'checkout' and rule_id = 'slow_review_pickup' "
        "and week_start_date = %s",
        (week,),
    )[0]
    evidence = query(
        "select * from marts.fct_diagnosis_evidence where diagnosis_id = %s order by evidence_rank",
        (diagnosis["diagnosis_id"],),
    )
    # exactly the team's human MRs that became ready in the window and waited longer than the comparison
    # that fired the diagnosis (the team's reference, or the organisation)
    slow = query(
        """
        select merge_request_id from marts.fct_merge_requests
        where team_id = 'checkout' and not is_bot_author and review_pickup_working_hours > %s
          and ready_at >= %s::date and ready_at < %s::date + 1
        """,
        (diagnosis["comparison_value"], diagnosis["window_start_date"], diagnosis["window_end_date"]),
    )
    assert {row["item_id"] for row in evidence} == {row["merge_request_id"] for row in slow}
    assert len(evidence) == diagnosis["evidence_count"] >= 5
    assert all(row["item_type"] == "merge_request" and row["item_url"] for row in evidence)
    values = [row["value"] for row in evidence]
    assert values == sorted(values, reverse=True)  # worst first


def test_approve_and_verify_the_planted_intervention(truth, cli_env, warehouse_url, query) -> None:
    slo = next(i for i in truth["interventions"] if i["id"] == "checkout-review-slo")
    listed = heimdall(cli_env, "recommendations", "list").stdout
    assert "platform:ci_retry_waste" in listed and "payments:blocked_not_escalated" in listed
    shown = heimdall(cli_env, "recommendations", "show", "platform:ci_retry_waste").stdout
    assert "Assumptions" in shown and "evidence" in shown
    # Checkout's diagnosis stopped firing after the SLO; it can still be approved from its last diagnosis
    heimdall(
        cli_env,
        "recommendations",
        "approve",
        "checkout:slow_review_pickup",
        "--start",
        slo["start_date"],
        "--by",
        "Dana Lead",
        "--note",
        "Review SLO: first review within 4 working hours",
    )
    # A placebo: Platform's CI is flaky from the planted start on and stays so. Approve at the first date
    # whose whole verification baseline lies inside the flaky period (planted start + baseline weeks): nothing
    # changes there, and the current window is as long as possible. A 95% interval still calls about 1 placebo
    # in 20 a change by chance: over seeds 1-20 at this date and at week 16, 2 of 40 placebo approvals were
    # (seed 15 here, seed 7 at week 16, whose baseline weeks happen to sit 2.7 sd below the long-run share).
    flaky = next(e for e in truth["effects"] if e["id"] == "platform-flaky-ci")
    baseline_weeks = effective_vars([], PROJECT_ROOT / "dbt")["roi_baseline_weeks"]
    no_effect_start = (date.fromisoformat(flaky["start_date"]) + timedelta(weeks=baseline_weeks)).isoformat()
    platform = "platform:ci_retry_waste"
    heimdall(cli_env, "recommendations", "reject", platform, "--by", "Ola", "--note", "Later")
    heimdall(cli_env, "recommendations", "approve", platform, "--start", no_effect_start, "--by", "Ola")
    built = heimdall(cli_env, "build", *BUILD_VARS)
    assert "verified 2 approved intervention(s)" in built.stdout
    verified = heimdall(cli_env, "verify").stdout
    assert "checkout:slow_review_pickup" in verified and "improved" in verified

    rows = query("select * from marts.fct_intervention_outcomes")
    outcomes = {row["recommendation_id"]: row for row in rows if row["metric_role"] == "watched"}
    # issue 11: the review SLO is also verified on its guard, merged_without_review (one row per metric)
    guards = {(row["recommendation_id"], row["metric_name"]) for row in rows if row["metric_role"] == "guard"}
    assert guards == {("checkout:slow_review_pickup", "merged_without_review")}
    checkout = outcomes["checkout:slow_review_pickup"]
    planted_change = slo["value"] - 1  # the SLO multiplies pickup by 0.5: -50%
    assert checkout["change_pct_ci_low"] <= planted_change <= checkout["change_pct_ci_high"], checkout
    assert checkout["change_pct_ci_high"] < 0 and checkout["change_ci_high"] < 0
    assert checkout["did_ci_high"] < 0
    assert checkout["verdict"] == "improved"
    assert outcomes["platform:ci_retry_waste"]["verdict"] == "no detectable change", str(
        outcomes["platform:ci_retry_waste"]
    )

    recommendations = {
        row["recommendation_id"]: row for row in query("select * from marts.fct_recommendations")
    }
    assert recommendations["checkout:slow_review_pickup"]["status"] == "approved"
    assert str(recommendations["checkout:slow_review_pickup"]["intervention_start_date"]) == slo["start_date"]
    assert recommendations["platform:ci_retry_waste"]["status"] == "approved"
    roi = query(
        "select * from marts.fct_roi_comparison where recommendation_id = 'checkout:slow_review_pickup' "
        "and is_watched_metric"
    )[0]
    assert roi["direction_of_change"] == "better" and roi["hours_recovered_per_week"] > 0
    assert "Before/after comparison of one team" in roi["attribution_caveats"]

    # decisions are append-only, and the platform history keeps both rows
    with psycopg.connect(warehouse_url) as conn:
        history = conn.execute(
            "select decision from app.recommendation_decisions where recommendation_id = %s "
            "order by decided_at",
            ("platform:ci_retry_waste",),
        ).fetchall()
        assert [row[0] for row in history] == ["rejected", "approved"]
        with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
            conn.execute("update app.recommendation_decisions set decided_by = 'someone else'")


def test_reproducible_outcomes(truth, cli_env, query) -> None:
    before = query("select * from analysis.intervention_outcomes order by recommendation_id")
    heimdall(cli_env, "verify")
    after = query("select * from analysis.intervention_outcomes order by recommendation_id")
    strip = [{k: v for k, v in row.items() if k != "computed_at"} for row in before]
    assert strip == [{k: v for k, v in row.items() if k != "computed_at"} for row in after]
    assert len(after) == 3  # 2 interventions; the review SLO's guard has its own row (issue 11)


def test_build_vars_reach_dbt_and_the_verification_alike(truth, cli_env, query) -> None:
    """`heimdall build --vars '{"roi_baseline_weeks": 8}'`: the ROI mart and the verification both compare
    an 8-week baseline (one set of build variables, not a dbt value and a Python value)."""
    slo = next(i for i in truth["interventions"] if i["id"] == "checkout-review-slo")
    start = date.fromisoformat(slo["start_date"])
    heimdall(cli_env, "build", *vars_args(as_of=AS_OF, roi_baseline_weeks=8))
    roi = query(
        "select distinct baseline_start_date from marts.fct_roi_comparison "
        "where recommendation_id = 'checkout:slow_review_pickup'"
    )
    verified = query(
        "select baseline_start, baseline_end from analysis.intervention_outcomes "
        "where recommendation_id = 'checkout:slow_review_pickup' and metric_role = 'watched'"
    )
    assert [row["baseline_start_date"] for row in roi] == [start - timedelta(weeks=8)]
    assert [(row["baseline_start"], row["baseline_end"]) for row in verified] == [
        (start - timedelta(weeks=8), start)
    ]
    # and the environment setting reaches both the same way
    heimdall({**cli_env, "HEIMDALL_ROI_BASELINE_WEEKS": "5"}, "build", *BUILD_VARS)
    roi = query(
        "select distinct baseline_start_date from marts.fct_roi_comparison "
        "where recommendation_id = 'checkout:slow_review_pickup'"
    )
    verified = query(
        "select baseline_start from analysis.intervention_outcomes "
        "where recommendation_id = 'checkout:slow_review_pickup' and metric_role = 'watched'"
    )
    assert [row["baseline_start_date"] for row in roi] == [start - timedelta(weeks=5)]
    assert [row["baseline_start"] for row in verified] == [start - timedelta(weeks=5)]
