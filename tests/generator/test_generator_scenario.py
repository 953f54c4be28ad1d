"""Scenario parsing/validation, ground truth, and planted effects visible in the raw documents."""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from generator import GeneratorOptions, ScenarioError, generate, load_scenario, parse_scenario
from generator.calendar import parse_ts, working_hours_between
from generator.ground_truth import write_ground_truth

DEMO = Path(__file__).resolve().parents[2] / "generator" / "scenarios" / "demo.yml"


def _effect(**over: Any) -> dict[str, Any]:
    return {
        "effects": [
            {
                "id": "e",
                "team": "checkout",
                "knob": "review_pickup_multiplier",
                "value": 2.0,
                "from_week": 3,
                **over,
            }
        ]
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_effect(knob="coffee_rate"), "unknown knob"),
        (_effect(from_week=0), "from_week"),
        (_effect(from_week=5, to_week=4), "before"),
        (_effect(value="lots"), "value"),
        (_effect(colour="red"), "unknown keys"),
        ({"effects": [{"id": "e", "knob": "ci_flaky_rate", "value": 0.2}]}, "missing 'team'"),
        ({"weeks": 10, **_effect(from_week=12)}, "outside"),
        ({"nonsense": 1}, "unknown top-level"),
        ([1, 2], "mapping"),
    ],
)
def test_invalid_scenarios_raise_clear_errors(data: Any, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(data)


def test_unknown_team_and_window_checked_at_generate() -> None:
    bad_team = parse_scenario(_effect(team="marketing"))
    with pytest.raises(ScenarioError, match="unknown team 'marketing'"):
        generate(GeneratorOptions(scale="small", scenario=bad_team, as_of=dt.date(2026, 11, 20)))
    late = parse_scenario(_effect(from_week=40))
    with pytest.raises(ScenarioError, match="outside"):
        generate(GeneratorOptions(scale="small", scenario=late, as_of=dt.date(2026, 11, 20)))


def test_invalid_yaml_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.yml"
    p.write_text("effects: [unclosed\n")
    with pytest.raises(ScenarioError, match="invalid YAML"):
        load_scenario(p)


def test_demo_scenario_ground_truth(tmp_path: Path) -> None:
    sc = load_scenario(DEMO)
    run = generate(GeneratorOptions(seed=3, scale="medium", scenario=sc, as_of=dt.date(2026, 11, 20)))
    gt = run.ground_truth()
    assert gt["weeks"] == 30 and len(gt["teams"]) == 10
    assert gt["window_start"] == "2026-04-25" and gt["window_end"] == "2026-11-20"
    teams = {t["slug"]: t for t in gt["teams"]}
    assert teams["checkout"]["workflow"] == "W2" and teams["payments"]["jira_project_key"] == "PAY"
    assert teams["notifications"]["jira_project_key"] == "NOTI"
    effects = {e["id"]: e for e in gt["effects"]}
    assert effects["checkout-review-bottleneck"]["start_date"] == "2026-06-13"
    assert effects["checkout-review-bottleneck"]["effective_multiplier"] == 3.0
    slo = gt["interventions"][0]
    assert slo["team"] == "checkout" and slo["effective_multiplier"] == pytest.approx(1.5)
    assert effects["identity-blocked-work"]["end_date"] == "2026-09-11"
    touched = {e["team"] for e in gt["effects"] + gt["interventions"]}
    assert "payments" not in touched  # the control team
    path = write_ground_truth(gt, tmp_path / "ground_truth.json")
    assert json.loads(path.read_text()) == json.loads(json.dumps(gt))


def _pickup_by_week(run: dict[str, Any], project_path: str) -> dict[int, list[float]]:
    """Working hours from MR ready to the first human non-author note, by window week of readiness."""
    start = dt.datetime.fromisoformat(run["truth"]["window_start"]).replace(tzinfo=dt.UTC)
    mrs: dict[int, dict[str, Any]] = {}
    for r in run["rows"]["gitlab_merge_requests"]:  # the newest version of each MR
        p = r["payload"]
        if f"/{project_path}/" in p["web_url"] and p["updated_at"] >= mrs.get(p["id"], {}).get(
            "updated_at", ""
        ):
            mrs[p["id"]] = p
    notes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for n in (r["payload"] for r in run["rows"]["gitlab_mr_notes"]):
        notes[n["noteable_id"]].append(n)
    out: dict[int, list[float]] = defaultdict(list)
    for mr_id, mr in mrs.items():
        ns = sorted(notes.get(mr_id, []), key=lambda n: n["created_at"])
        ready_notes = [n for n in ns if n["body"] == "marked this merge request as **ready**"]
        ready = parse_ts(ready_notes[0]["created_at"] if ready_notes else mr["created_at"])
        merged = parse_ts(mr["merged_at"]) if mr["merged_at"] else None
        first = next(
            (
                n
                for n in ns
                if not n["system"]
                and n["author"]["id"] != mr["author"]["id"]
                and not n["author"]["username"].endswith("-bot")
                and parse_ts(n["created_at"]) >= ready
                and (merged is None or parse_ts(n["created_at"]) < merged)  # after the merge is not review
            ),
            None,
        )
        if first is None or mr["author"]["username"].endswith("-bot"):
            continue
        week = (ready - start).days // 7 + 1
        out[week].append(working_hours_between(ready, parse_ts(first["created_at"])))
    return out


def test_planted_review_bottleneck_is_visible(small_run: dict[str, Any]) -> None:
    by_week = _pickup_by_week(small_run, "acme/checkout")
    before = [h for w, hs in by_week.items() if 1 <= w <= 9 for h in hs]
    during = [h for w, hs in by_week.items() if 10 <= w <= 19 for h in hs]
    after = [h for w, hs in by_week.items() if w >= 20 for h in hs]
    assert len(before) >= 30 and len(during) >= 30 and len(after) >= 20
    ratio = statistics.mean(during) / statistics.mean(before)
    assert 2.0 <= ratio <= 4.5, ratio
    assert 0.3 <= statistics.mean(after) / statistics.mean(during) <= 0.75
    # the control team (payments) does not move
    control = _pickup_by_week(small_run, "acme/payments")
    c_before = [h for w, hs in control.items() if 1 <= w <= 9 for h in hs]
    c_during = [h for w, hs in control.items() if 10 <= w <= 19 for h in hs]
    assert 0.6 <= statistics.mean(c_during) / statistics.mean(c_before) <= 1.6


def test_planted_ci_flakiness_is_visible(small_run: dict[str, Any]) -> None:
    start = dt.date.fromisoformat(small_run["truth"]["window_start"])
    week10 = (start + dt.timedelta(days=63)).isoformat()
    rates: dict[str, dict[bool, list[int]]] = defaultdict(lambda: {False: [0, 0], True: [0, 0]})
    attempts = Counter(
        (j["pipeline"]["id"], j["name"]) for j in (r["payload"] for r in small_run["rows"]["gitlab_jobs"])
    )
    retried_pipes = {pipeline for (pipeline, _), n in attempts.items() if n > 1}  # no `retried` key
    for p in (r["payload"] for r in small_run["rows"]["gitlab_pipelines"]):
        team = p["web_url"].split("/")[4]
        late = p["created_at"][:10] >= week10
        rates[team][late][0] += p["id"] in retried_pipes
        rates[team][late][1] += 1
    plat = rates["platform"]
    assert plat[True][0] / plat[True][1] > 0.2
    assert plat[False][0] / plat[False][1] < 0.1
    pay = rates["payments"]
    assert pay[True][0] / pay[True][1] < 0.1
