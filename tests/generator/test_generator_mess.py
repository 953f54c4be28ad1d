"""Every item of the realistic mess is present in small-scale output."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter, defaultdict
from typing import Any

from generator.calendar import parse_ts
from generator.org import STATUSES

KEY_RE = re.compile(r"\b(?:PAY|CHK|PLAT)-\d+\b", re.IGNORECASE)


def _docs(run: dict[str, Any], table: str) -> list[dict[str, Any]]:
    return [r["payload"] for r in run["rows"][table]]


def _latest_issues(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for p in _docs(run, "jira_issues"):
        if p["id"] not in out or parse_ts(p["fields"]["updated"]) >= parse_ts(
            out[p["id"]]["fields"]["updated"]
        ):
            out[p["id"]] = p
    return out


def _items(run: dict[str, Any], field: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (r["parent_id"], r["payload"]["created"], i)
        for r in run["rows"]["jira_changelogs"]
        for i in r["payload"]["items"]
        if i["field"] == field
    ]


def test_inconsistent_status_names_across_projects(small_run) -> None:
    by_project: dict[str, set[str]] = defaultdict(set)
    for p in _latest_issues(small_run).values():
        by_project[p["fields"]["project"]["key"]].add(p["fields"]["status"]["name"])
    for _, _, i in _items(small_run, "status"):
        assert i["toString"] in STATUSES
    assert {"Done", "Closed", "Resolved"} <= set().union(*by_project.values())
    assert "Done" in by_project["PAY"] and "Closed" in by_project["CHK"] and "Resolved" in by_project["PLAT"]
    assert {"Incident"} == {
        p["fields"]["issuetype"]["name"]
        for p in _latest_issues(small_run).values()
        if p["fields"]["project"]["key"] == "OPS"
    }


def test_reopened_issues(small_run) -> None:
    reopened = [
        i
        for _, _, i in _items(small_run, "status")
        if STATUSES[i["fromString"]][1] == "done" and STATUSES[i["toString"]][1] != "done"
    ]
    assert any(i["toString"] == "Reopened" for i in reopened)
    assert any(i["toString"] in ("In Progress", "Doing") for i in reopened)
    assert any(i["from"] is not None and i["to"] is None for _, _, i in _items(small_run, "resolution"))


def test_issues_from_before_the_window_lose_their_early_history(small_run) -> None:
    start = dt.datetime.fromisoformat(small_run["truth"]["window_start"]).replace(tzinfo=dt.UTC)
    first: dict[str, dt.datetime] = {}
    for r in small_run["rows"]["jira_changelogs"]:
        c = parse_ts(r["payload"]["created"])
        first[r["parent_id"]] = min(first.get(r["parent_id"], c), c)
    old = [p for p in _latest_issues(small_run).values() if parse_ts(p["fields"]["created"]) < start]
    assert len(old) >= 10
    truncated = [p for p in old if p["id"] in first and first[p["id"]] >= start]
    assert len(truncated) >= 10
    assert all(c >= start for c in first.values())


def test_sprint_scope_changes(small_run) -> None:
    sprints = {str(s["id"]): s for s in _docs(small_run, "jira_sprints")}
    assert {s["state"] for s in sprints.values()} >= {"closed", "active", "future"}
    assert all(re.match(r"^(PAY|PLAT) Sprint \d+$", s["name"]) for s in sprints.values())
    added_late = removed = carried = 0
    for _, created, i in _items(small_run, "Sprint"):
        assert i["fieldId"] == "customfield_10020" and i["fieldtype"] == "custom"
        before = [x for x in i["from"].split(",") if x]
        after = [x for x in i["to"].split(",") if x]
        t = parse_ts(created)
        new = set(after) - set(before)
        gone = set(before) - set(after)
        if new and len(after) == len(before) + 1 and before:
            carried += 1
        for sid in new:
            if parse_ts(sprints[sid]["startDate"]) < t and not before:
                added_late += 1
        for sid in gone:
            s = sprints[sid]
            if parse_ts(s["startDate"]) < t < parse_ts(s["endDate"]):
                removed += 1
    assert added_late >= 5 and removed >= 3 and carried >= 10
    # kanban (W2) teams have no sprints
    assert all(
        p["fields"]["customfield_10020"] is None
        for p in _latest_issues(small_run).values()
        if p["fields"]["project"]["key"] == "CHK"
    )


def test_blocked_by_status_and_by_flag_sometimes_overlapping(small_run) -> None:
    blocked_status: dict[str, list[str]] = defaultdict(list)
    for parent, created, i in _items(small_run, "status"):
        if i["toString"] in ("Blocked", "On Hold"):
            blocked_status[parent].append(created)
    flags: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for parent, created, i in _items(small_run, "Flagged"):
        assert i["fieldId"] == "customfield_10021"
        flags[parent].append((created, i["toString"] == "Impediment"))
    assert {"Blocked", "On Hold"} <= {i["toString"] for _, _, i in _items(small_run, "status")}
    assert any(not on for f in flags.values() for _, on in f)
    overlapping = 0
    for parent, fl in flags.items():
        fl.sort()
        for (t_on, on), (t_off, off) in itertools.pairwise(fl):
            if on and not off and any(t_on < b < t_off for b in blocked_status.get(parent, ())):
                overlapping += 1
    assert overlapping >= 3
    assert len(set(flags) - set(blocked_status)) >= 5  # flag-only blocks


def test_missing_assignees_cancelled_and_open_wip(small_run) -> None:
    issues = _latest_issues(small_run).values()
    names = Counter(p["fields"]["status"]["name"] for p in issues)
    assert names["Won't Do"] > 0 and names["Cancelled"] > 0
    done_unassigned = [
        p
        for p in issues
        if p["fields"]["assignee"] is None
        and p["fields"]["status"]["statusCategory"]["key"] == "done"
        and p["fields"]["resolution"]["name"] == "Done"
    ]
    assert len(done_unassigned) >= 10
    wip = [p for p in issues if p["fields"]["status"]["statusCategory"]["key"] == "indeterminate"]
    assert len(wip) >= 10
    assert any(p["fields"]["status"]["statusCategory"]["key"] == "new" for p in issues)


def test_out_of_order_and_duplicate_documents(small_run) -> None:
    rows = small_run["rows"]
    per_issue: dict[str, list[str]] = defaultdict(list)
    for r in rows["jira_changelogs"]:
        per_issue[r["parent_id"]].append(r["payload"]["created"])
    assert sum(1 for c in per_issue.values() if c != sorted(c)) >= 20
    ids = Counter(r["payload"]["id"] for r in rows["jira_changelogs"])
    assert any(n > 1 for n in ids.values())
    seen: dict[str, dt.datetime] = {}
    older_after_newer = exact_dupes = 0
    for p in _docs(small_run, "jira_issues"):
        updated = parse_ts(p["fields"]["updated"])
        if p["id"] in seen:
            if updated < seen[p["id"]]:
                older_after_newer += 1
            else:
                exact_dupes += 1
        seen[p["id"]] = max(seen.get(p["id"], updated), updated)
    assert older_after_newer >= 5 and exact_dupes >= 1
    mr_seen: dict[int, str] = {}
    stale_mrs = 0
    for p in _docs(small_run, "gitlab_merge_requests"):
        if p["id"] in mr_seen and p["updated_at"] < mr_seen[p["id"]]:
            stale_mrs += 1
        mr_seen[p["id"]] = max(mr_seen.get(p["id"], ""), p["updated_at"])
    assert stale_mrs >= 3
    assert any(n > 1 for n in Counter(p["id"] for p in _docs(small_run, "gitlab_mr_notes")).values())


def test_merge_request_linkage_mess(small_run) -> None:
    mrs = {p["id"]: p for p in _docs(small_run, "gitlab_merge_requests")}
    humans = [m for m in mrs.values() if not m["author"]["username"].endswith("-bot")]
    no_key = [
        m for m in humans if not KEY_RE.search(m["title"] + " " + m["source_branch"] + m["description"])
    ]
    branch_only = [
        m
        for m in humans
        if KEY_RE.search(m["source_branch"])
        and not KEY_RE.search(m["title"])
        and not KEY_RE.search(m["description"])
    ]
    assert len(no_key) >= 20 and len(branch_only) >= 20
    assert any(m["source_branch"].startswith("feature/PAY-") for m in branch_only)
    per_key = Counter(
        k.upper() for m in mrs.values() for k in set(KEY_RE.findall(m["title"] + m["source_branch"]))
    )
    assert sum(1 for n in per_key.values() if n >= 2) >= 10
    keys_with_mr = set(per_key)
    done = [
        p
        for p in _latest_issues(small_run).values()
        if p["fields"]["resolution"]
        and p["fields"]["resolution"]["name"] == "Done"
        and p["fields"]["project"]["key"] != "OPS"
    ]
    assert sum(1 for p in done if p["key"] not in keys_with_mr) >= len(done) * 0.2  # work with no MR
    assert any(m["author"]["username"] == "renovate-bot" for m in mrs.values())
    notes = _docs(small_run, "gitlab_mr_notes")
    assert any(n["author"]["username"] == "gitlab-bot" and not n["system"] for n in notes)
    ready = [n for n in notes if n["system"] and n["body"] == "marked this merge request as **ready**"]
    assert len(ready) >= 20
    assert any(n["system"] and n["body"] == "approved this merge request" for n in notes)
    assert any(n["system"] and n["body"].startswith("requested review from @") for n in notes)
    assert any(m["draft"] and m["title"].startswith("Draft: ") for m in mrs.values()) or any(
        p["draft"] for p in _docs(small_run, "gitlab_merge_requests")
    )


def test_ci_flaky_retries_failed_deployments_and_incidents(small_run) -> None:
    jobs = _docs(small_run, "gitlab_jobs")
    attempts: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for j in jobs:
        attempts[(j["pipeline"]["id"], j["name"])].append(j)
    retried = [sorted(a, key=lambda j: (j["created_at"], j["id"])) for a in attempts.values() if len(a) > 1]
    assert retried
    for first, *later in retried:  # the failed attempt, then the retry created when it failed
        assert first["status"] == "failed" and first["failure_reason"] == "script_failure"
        assert later[-1]["created_at"] == first["finished_at"]
        assert later[-1]["status"] in ("success", "running", "canceled", "failed")
    assert any(a[-1]["status"] == "success" for a in retried)
    deps = _docs(small_run, "gitlab_deployments")
    envs = {d["environment"]["name"] for d in deps}
    assert "staging" in envs and len(envs & {"production", "prod", "prod-eu"}) >= 2
    prod = [d for d in deps if d["environment"]["tier"] == "production"]
    assert any(d["status"] == "failed" for d in prod)
    linked = {int(r["parent_id"]) for r in small_run["rows"]["gitlab_deployment_merge_requests"]}
    ok = [d for d in prod if d["status"] == "success"]
    assert any(d["id"] in linked for d in ok) and any(d["id"] not in linked for d in ok)
    incidents = [
        p for p in _latest_issues(small_run).values() if p["fields"]["issuetype"]["name"] == "Incident"
    ]
    texts = [str(p["fields"]["description"]) for p in incidents]
    assert any("Caused by deployment acme/" in t for t in texts)
    assert any("Caused by deployment" not in t for t in texts)
    assert all(
        p["fields"]["customfield_10001"]["name"] in ("Payments", "Checkout", "Platform") for p in incidents
    )


def test_weekends_are_quiet(small_run) -> None:
    stamps = [parse_ts(r["payload"]["created"]) for r in small_run["rows"]["jira_changelogs"]]
    stamps += [parse_ts(p["created_at"]) for p in _docs(small_run, "gitlab_mr_notes")]
    stamps += [parse_ts(p["committed_date"]) for p in _docs(small_run, "gitlab_mr_commits")]
    weekend = sum(1 for t in stamps if t.weekday() >= 5) / len(stamps)
    assert 0 < weekend < 0.08
