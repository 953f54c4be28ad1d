"""Effects that act on causes, and the confounders a diagnosis must not blame on one team, seen in the emitted
documents only (as a consumer sees them): tests/scenarios/causes_planted.yml and org_confounders_planted.yml.

The scenarios say what should move; each test measures it from the JSON documents with the planted windows
from the ground truth, and checks the teams or weeks that should not move as the control."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from generator import GeneratorOptions, ScenarioError, generate, load_scenario, parse_scenario, write_jsonl
from generator.calendar import parse_ts, working_hours_between
from tests.generator.test_generator_scenario import _pickup_by_week

AS_OF = dt.date(2026, 11, 20)
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _run(tmp: Path, name: str, seed: int = 42) -> dict[str, Any]:
    run = generate(
        GeneratorOptions(seed=seed, scale="small", scenario=load_scenario(SCENARIOS / name), as_of=AS_OF)
    )
    write_jsonl(run.records, tmp)
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(tmp.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            rows[path.stem] = [json.loads(line) for line in fh]
    return {"rows": rows, "truth": run.ground_truth()}


@pytest.fixture(scope="module")
def causes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _run(tmp_path_factory.mktemp("causes"), "causes_planted.yml")


@pytest.fixture(scope="module")
def confounders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _run(tmp_path_factory.mktemp("confounders"), "org_confounders_planted.yml")


def _week(run: dict[str, Any], t: dt.datetime) -> int:
    start = dt.date.fromisoformat(run["truth"]["window_start"])
    return (t.date() - start).days // 7 + 1


def _latest(rows: list[dict[str, Any]], key: str = "id") -> dict[Any, dict[str, Any]]:
    """The newest version of each document (the generator emits older versions after newer ones)."""
    out: dict[Any, dict[str, Any]] = {}
    for row in rows:
        payload = row["payload"]
        updated = payload.get("updated_at") or payload.get("fields", {}).get("updated", "")
        if payload[key] not in out or updated >= out[payload[key]]["_updated"]:
            out[payload[key]] = {**payload, "_updated": updated}
    return out


def _issues(run: dict[str, Any], project: str) -> list[dict[str, Any]]:
    return [i for i in _latest(run["rows"]["jira_issues"]).values() if i["key"].startswith(f"{project}-")]


def _status_changes(run: dict[str, Any], project: str) -> dict[str, list[tuple[dt.datetime, str]]]:
    """Issue key -> its status changes (time, to-status), from the changelog histories."""
    keys = {i["id"]: i["key"] for i in _issues(run, project)}
    out: dict[str, set[tuple[dt.datetime, str]]] = defaultdict(set)
    for row in run["rows"]["jira_changelogs"]:
        key = keys.get(row["parent_id"])
        if key is None:
            continue
        for item in row["payload"]["items"]:
            if item["field"] == "status":
                out[key].add((parse_ts(row["payload"]["created"]), item["toString"]))
    return {key: sorted(changes) for key, changes in out.items()}


# ----------------------------------------------------------------------------------------- scenario format


def test_team_all_and_calendar_are_parsed_and_reported(confounders: dict[str, Any]) -> None:
    truth = confounders["truth"]
    org_wide = {e["id"] for e in truth["effects"] if e["org_wide"]}
    assert org_wide == {"org-ci-outage", "org-review-tool", "org-demand"}
    assert [e["id"] for e in truth["calendar"]] == ["winter-break", "bank-holiday"]
    # two whole weeks (Monday..Friday) and one Monday
    assert len(truth["days_off"]) == 11
    assert all(dt.date.fromisoformat(day).weekday() < 5 for day in truth["days_off"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"calendar": [{"kind": "strike", "from_week": 2}]}, "unknown calendar kind"),
        ({"calendar": [{"from_week": 3, "to_week": 2}]}, "before from_week"),
        ({"calendar": [{"from_week": 3, "weekdays": [5]}]}, "weekdays must be 0 (Monday)"),
        ({"calendar": [{"to_week": 3}]}, "missing 'from_week'"),
        ({"calendar": {"from_week": 3}}, "calendar must be a list"),
        (
            {"interventions": [{"team": "all", "knob": "review_pickup_multiplier", "value": 0.5}]},
            "belongs to one team",
        ),
    ],
)
def test_invalid_calendar_and_org_wide_changes_raise(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_scenario({"name": "x", **data})


# ----------------------------------------------------------------------------------------- confounders


def test_nobody_works_on_a_holiday(confounders: dict[str, Any]) -> None:
    """No issue is filed, no status moves and no MR is merged by a person on a day off; incidents (a 24/7
    clock) may still happen. Work in flight resumes after the break."""
    days_off = {dt.date.fromisoformat(day) for day in confounders["truth"]["days_off"]}
    for project in ("PAY", "CHK", "PLAT"):
        assert not [
            i["key"]
            for i in _issues(confounders, project)
            if parse_ts(i["fields"]["created"]).astimezone(dt.UTC).date() in days_off
        ]
        moved = [
            (key, t)
            for key, changes in _status_changes(confounders, project).items()
            for t, _ in changes
            if t.astimezone(dt.UTC).date() in days_off
        ]
        assert not moved, moved[:5]
    merged_on_holiday = [
        mr["id"]
        for mr in _latest(confounders["rows"]["gitlab_merge_requests"]).values()
        if mr["merged_at"] and parse_ts(mr["merged_at"]).date() in days_off
    ]
    assert not merged_on_holiday


def test_a_holiday_break_pauses_every_team(confounders: dict[str, Any]) -> None:
    """Weeks 12-13 are a winter break: no MR of any team is made ready in them (the review queue and the
    deliveries pause for everybody), while the weeks around them are ordinary."""
    for project in ("payments", "checkout", "platform"):
        counts = {w: len(hs) for w, hs in _pickup_by_week(confounders, f"acme/{project}").items()}
        assert counts.get(12, 0) + counts.get(13, 0) == 0, (project, counts)
        around = sum(counts.get(w, 0) for w in (10, 11, 14, 15))
        assert around >= 8, (project, counts)


def test_org_wide_ci_outage_hits_every_team(confounders: dict[str, Any]) -> None:
    """ci_failure_rate 0.45 for `team: all` in weeks 16-17: every team's MR pipelines fail far more often
    than in the other weeks."""
    rates: dict[str, dict[bool, list[int]]] = defaultdict(lambda: {False: [0, 0], True: [0, 0]})
    for p in (r["payload"] for r in confounders["rows"]["gitlab_pipelines"]):
        if p["source"] != "merge_request_event" or p["status"] not in ("success", "failed"):
            continue
        week = _week(confounders, parse_ts(p["created_at"]))
        outage = 16 <= week <= 17
        rates[p["web_url"].split("/")[4]][outage][0] += p["status"] == "failed"
        rates[p["web_url"].split("/")[4]][outage][1] += 1
    assert set(rates) == {"payments", "checkout", "platform"}
    for team, by in rates.items():
        during, other = by[True][0] / by[True][1], by[False][0] / by[False][1]
        assert during > 0.3 and other < 0.15, (team, during, other)


def test_headcount_changes_move_who_works_not_the_load(confounders: dict[str, Any]) -> None:
    """Checkout halves from week 9: fewer people are assigned new work and less work arrives; Platform is
    half its size until week 10 and grows in week 11."""

    def people_and_arrivals(project: str, weeks: range) -> tuple[int, float]:
        """Distinct assignees of the issues started in ``weeks`` (assigned at the start), and the issues
        created per week."""
        changes = _status_changes(confounders, project)
        started, created = set(), 0
        for issue in _issues(confounders, project):
            if issue["fields"]["issuetype"]["name"] == "Incident":
                continue
            created += _week(confounders, parse_ts(issue["fields"]["created"])) in weeks
            starts = [
                t for t, to in changes.get(issue["key"], []) if to in ("In Progress", "Doing", "in-progress")
            ]
            if starts and _week(confounders, starts[0]) in weeks and issue["fields"]["assignee"]:
                started.add(issue["fields"]["assignee"]["accountId"])
        return len(started), created / len(weeks)

    chk_before, chk_after = people_and_arrivals("CHK", range(2, 9)), people_and_arrivals("CHK", range(14, 21))
    assert chk_before[0] >= 7 and chk_after[0] <= 4, (chk_before, chk_after)
    assert 0.3 <= chk_after[1] / chk_before[1] <= 0.75, (chk_before, chk_after)
    plat_small, plat_full = (
        people_and_arrivals("PLAT", range(2, 10)),
        people_and_arrivals("PLAT", range(14, 21)),
    )
    assert plat_small[0] <= 4 and plat_full[0] >= 7, (plat_small, plat_full)


# ----------------------------------------------------------------------------------------- causes


def test_reviewers_leaving_queue_reviews_on_the_rest(causes: dict[str, Any]) -> None:
    """reviewer_capacity 0.4 from week 10: 3 of 8 Checkout engineers still review; first reviews wait
    ~0.4^-1.5 = 3.95x longer (exponential draws: a mean ratio well above 2.5); Payments does not move."""
    by_week = _pickup_by_week(causes, "acme/checkout")
    before = [h for w, hs in by_week.items() if 1 <= w <= 9 for h in hs]
    during = [h for w, hs in by_week.items() if w >= 12 for h in hs]
    assert len(before) >= 30 and len(during) >= 30
    assert statistics.mean(during) / statistics.mean(before) >= 2.5
    control = _pickup_by_week(causes, "acme/payments")
    c_before = [h for w, hs in control.items() if 1 <= w <= 9 for h in hs]
    c_during = [h for w, hs in control.items() if w >= 12 for h in hs]
    assert 0.6 <= statistics.mean(c_during) / statistics.mean(c_before) <= 1.6

    approvers: dict[bool, set[str]] = {False: set(), True: set()}
    mrs = _latest(causes["rows"]["gitlab_merge_requests"])
    for note in (r["payload"] for r in causes["rows"]["gitlab_mr_notes"]):
        mr = mrs.get(note["noteable_id"])
        if (
            mr is None
            or "/acme/checkout/" not in mr["web_url"]
            or note["body"] != "approved this merge request"
        ):
            continue
        if note["author"]["id"] == mr["author"]["id"]:
            continue  # self-approval
        week = _week(causes, parse_ts(note["created_at"]))
        if week >= 12 or week <= 9:
            approvers[week >= 12].add(note["author"]["username"])
    assert len(approvers[False]) >= 7 and len(approvers[True]) <= 3, approvers


def test_vendor_dependency_blocks_for_days(causes: dict[str, Any]) -> None:
    """vendor_block_rate 0.5 in weeks 8-20 on Platform: much more of its work sits in `Blocked`, and the
    blocked windows last days; the weeks after the dependency ends go back to normal."""

    def blocked_hours_per_started(weeks: range) -> float:
        hours, started = 0.0, 0
        for changes in _status_changes(causes, "PLAT").values():
            starts = [t for t, to in changes if to == "in-progress"]
            if not starts or _week(causes, starts[0]) not in weeks:
                continue
            started += 1
            for (t0, to), (t1, _) in itertools.pairwise(changes):
                if to == "Blocked":
                    hours += working_hours_between(t0, t1)
        return hours / max(started, 1)

    during, before = blocked_hours_per_started(range(9, 19)), blocked_hours_per_started(range(1, 7))
    assert during >= 3 * before, (before, during)


def test_unplanned_work_arrives_mid_sprint_and_slows_planned_work(causes: dict[str, Any]) -> None:
    """unplanned_work_rate 0.7 on Payments from week 12: more urgent bugs are filed and started within hours,
    and planned work (everything else) takes longer in progress."""

    def stats(weeks: range) -> tuple[float, float]:
        urgent, total = 0, 0
        for issue in _issues(causes, "PAY"):
            created = parse_ts(issue["fields"]["created"])
            if _week(causes, created) not in weeks or issue["fields"]["issuetype"]["name"] == "Incident":
                continue
            total += 1
            urgent += issue["fields"]["issuetype"]["name"] == "Bug" and issue["fields"]["priority"][
                "name"
            ] in (
                "High",
                "Highest",
            )
        return urgent / max(total, 1), total / len(weeks)

    before, during = stats(range(2, 11)), stats(range(14, 26))
    assert during[0] >= before[0] + 0.15, (before, during)  # more urgent bugs among the new work
    assert during[1] >= 1.4 * before[1], (before, during)  # ~1.7x the arrivals
