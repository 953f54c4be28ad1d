"""Every documented edge case (docs/generator.md, "The mess") appears in a small organisation, at a rate
near the one generator/mess.py plants. Counted only from the emitted documents, as a consumer sees them."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator import mess as rates
from generator.calendar import parse_ts
from generator.org import STATUSES, WORKFLOWS

SEED_MAP = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "status_category_map.csv"
OFFSET = re.compile(r"([+-]\d{4})$")
SHA = re.compile(r"\b[0-9a-f]{8,40}\b")
MR_REF = re.compile(r"\bacme/[a-z0-9-]+/[a-z0-9-]+!(\d+)")
PROD = ("production", "prod", "prod-eu", "prod-us")
APPROVED = "approved this merge request"
READY = "marked this merge request as **ready**"


def _payloads(rows: dict[str, list[dict[str, Any]]], table: str) -> Iterator[dict[str, Any]]:
    return (r["payload"] for r in rows[table])


def _newest(docs: Iterator[dict[str, Any]], stamp: str) -> dict[Any, dict[str, Any]]:
    out: dict[Any, dict[str, Any]] = {}
    for d in docs:
        if d["id"] not in out or parse_ts(d[stamp]) >= parse_ts(out[d["id"]][stamp]):
            out[d["id"]] = d
    return out


def _adf_text(node: Any) -> str:
    if isinstance(node, dict):
        return str(node.get("text", "")) + " ".join(_adf_text(c) for c in node.get("content", []))
    return ""


def edge_case_counts(rows: dict[str, list[dict[str, Any]]], window_start: str) -> dict[str, tuple[int, int]]:
    """Each edge case as (count, base it is a rate of)."""
    start = dt.datetime.fromisoformat(window_start).replace(tzinfo=dt.UTC)
    out: dict[str, tuple[int, int]] = {}
    # ------------------------------------------------------------ Jira
    issues: dict[str, dict[str, Any]] = {}
    for p in _payloads(rows, "jira_issues"):
        if p["id"] not in issues or parse_ts(p["fields"]["updated"]) >= parse_ts(
            issues[p["id"]]["fields"]["updated"]
        ):
            issues[p["id"]] = p
    histories: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in rows["jira_changelogs"]:
        histories[r["parent_id"]][r["payload"]["id"]] = r["payload"]
    work = {i: p for i, p in issues.items() if p["fields"]["issuetype"]["name"] != "Incident"}
    done = {
        i: p
        for i, p in work.items()
        if p["fields"]["resolution"] is not None and p["fields"]["resolution"]["name"] == "Done"
    }
    status_items = [
        (i, parse_ts(h["created"]), item)
        for i, hs in histories.items()
        for h in hs.values()
        for item in h["items"]
        if item["field"] == "status"
    ]
    renamed = {i for i, _, it in status_items if it["fromString"] != it["toString"] and _done(it)}
    out["done_to_done_rename"] = (len(renamed & set(done)), len(done))
    out["resolved_to_closed"] = (
        sum(1 for _, _, it in status_items if (it["fromString"], it["toString"]) == ("Resolved", "Closed")),
        sum(1 for p in done.values() if p["fields"]["project"]["key"] == "PLAT"),
    )
    in_window = [i for i, p in done.items() if parse_ts(p["fields"]["created"]) >= start]
    out["done_without_history"] = (sum(1 for i in in_window if not histories.get(i)), len(in_window))
    started = {i for i, _, it in status_items if STATUSES[it["toString"]][2] in ("in_progress", "review")}
    before_created = {
        i for i, t, _ in status_items if i in work and t < parse_ts(work[i]["fields"]["created"])
    }
    out["change_before_created"] = (len(before_created), len(started & set(work)))
    stamps = [p["fields"]["created"] for p in issues.values()]
    stamps += [h["created"] for hs in histories.values() for h in hs.values()]
    offsets = Counter(OFFSET.search(s).group(1) for s in stamps)  # type: ignore[union-attr]
    out["non_utc_jira_timestamp"] = (sum(n for o, n in offsets.items() if o != "+0000"), len(stamps))
    out["positive_utc_offset"] = (
        sum(n for o, n in offsets.items() if o[0] == "+" and o != "+0000"),
        len(stamps),
    )
    out["negative_utc_offset"] = (sum(n for o, n in offsets.items() if o[0] == "-"), len(stamps))
    out["offsets_change_with_daylight_saving"] = (len(offsets), 5)  # +0000, +0100/+0200, -0400/-0500
    waiting = {"Ready for Review", "Awaiting Review"}
    to_review = {i for i, _, it in status_items if STATUSES[it["toString"]][2] == "review"}
    queued = {i for i, _, it in status_items if it["toString"] in waiting}
    out["review_queue_status"] = (len(queued & to_review), len(to_review))
    # ------------------------------------------------------------ merge requests and reviews
    mrs = _newest(_payloads(rows, "gitlab_merge_requests"), "updated_at")
    notes: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    for n in _payloads(rows, "gitlab_mr_notes"):
        notes[n["noteable_id"]][n["id"]] = n
    merged = {i: m for i, m in mrs.items() if m["merged_at"] and not m["author"]["username"].endswith("-bot")}
    unreviewed = self_approved = post_merge = unreviewed_with_later_note = 0
    for i, m in merged.items():
        at = parse_ts(m["merged_at"])
        review = [
            n
            for n in notes[i].values()
            if n["author"]["id"] != m["author"]["id"]
            and not n["author"]["username"].endswith("-bot")
            and (not n["system"] or n["body"] == APPROVED)
        ]
        before = [n for n in review if parse_ts(n["created_at"]) < at]
        after = [n for n in review if parse_ts(n["created_at"]) > at and not n["system"]]
        unreviewed += not before
        post_merge += bool(after)
        unreviewed_with_later_note += not before and bool(after)
        self_approved += any(
            n["system"] and n["body"] == APPROVED and n["author"]["id"] == m["author"]["id"]
            for n in notes[i].values()
        )
    out["merged_without_review"] = (unreviewed, len(merged))
    out["self_approved"] = (self_approved, len(merged))
    out["post_merge_review_note"] = (post_merge, len(merged))
    out["unreviewed_with_post_merge_note"] = (unreviewed_with_later_note, unreviewed)
    drafts = draft_comments = 0
    for i, by_id in notes.items():
        ready = [n for n in by_id.values() if n["system"] and n["body"] == READY]
        if not ready or i not in mrs:
            continue
        drafts += 1
        author = mrs[i]["author"]["id"]
        draft_comments += any(
            not n["system"]
            and n["author"]["id"] != author
            and not n["author"]["username"].endswith("-bot")
            and parse_ts(n["created_at"]) < parse_ts(ready[0]["created_at"])
            for n in by_id.values()
        )
    out["review_comment_on_draft"] = (draft_comments, drafts)
    # ------------------------------------------------------------ CI and deployments
    pipelines = _newest(_payloads(rows, "gitlab_pipelines"), "updated_at")
    status = Counter(p["status"] for p in pipelines.values())
    for s in ("canceled", "skipped", "running"):
        out[f"pipeline_{s}"] = (status[s], len(pipelines))
    jobs = list(_payloads(rows, "gitlab_jobs"))
    out["job_without_retried_key"] = (sum(1 for j in jobs if "retried" not in j), len(jobs))
    deployments = list(_payloads(rows, "gitlab_deployments"))
    prod = [d for d in deployments if d["environment"]["name"] in PROD]
    regions: dict[str, set[str]] = defaultdict(set)
    for d in prod:
        regions[d["deployable"]["pipeline"]["id"]].add(d["environment"]["name"])
    out["pipeline_deploying_two_regions"] = (sum(1 for r in regions.values() if len(r) > 1), len(regions))
    ok = [d for d in deployments if d["status"] == "success"]
    out["successful_deployment_without_finished_at"] = (sum(1 for d in ok if not d["finished_at"]), len(ok))
    # ------------------------------------------------------------ incidents
    texts = [
        _adf_text(p["fields"]["description"])
        for p in issues.values()
        if p["fields"]["issuetype"]["name"] == "Incident"
    ]
    texts += [p["description"] for p in _payloads(rows, "gitlab_issues")]
    # a sha without a deployment reference beside it (the suspect commit, or the fix's merge commit)
    out["incident_citing_sha"] = (
        sum(1 for t in texts if SHA.search(t) and "Caused by deployment" not in t),
        len(texts),
    )
    out["incident_citing_mr"] = (sum(1 for t in texts if MR_REF.search(t)), len(texts))
    return out


def _done(item: dict[str, Any]) -> bool:
    """A status change between two done statuses (not cancelled ones): a rename, not rework."""
    return all(STATUSES[item[k]][2] == "done" for k in ("fromString", "toString"))


# (lowest, highest) rate each case may show in a small organisation: wide enough for sampling noise at this
# size, narrow enough that a rate ten times too high (mess swamping the planted effects) fails.
BOUNDS: dict[str, tuple[float, float]] = {
    "done_to_done_rename": (0.03, 0.2),
    "resolved_to_closed": (rates.DONE_RENAME["W3"] / 2, rates.DONE_RENAME["W3"] * 1.6),
    "done_without_history": (0.002, 0.05),
    "change_before_created": (0.003, 0.05),
    "non_utc_jira_timestamp": (0.3, 0.9),  # two of the three small teams read Jira in a non-UTC zone
    "positive_utc_offset": (0.1, 0.6),
    "negative_utc_offset": (0.1, 0.6),
    "offsets_change_with_daylight_saving": (1.0, 1.0),
    "review_queue_status": (0.95, 1.0),
    "merged_without_review": (0.02, 0.12),
    "self_approved": (0.01, 0.08),
    "post_merge_review_note": (0.02, 0.12),
    "unreviewed_with_post_merge_note": (0.1, 0.6),
    "review_comment_on_draft": (0.04, 0.3),
    "pipeline_canceled": (0.003, 0.05),
    "pipeline_skipped": (0.003, 0.05),
    "pipeline_running": (0.0001, 0.005),
    "job_without_retried_key": (1.0, 1.0),
    "pipeline_deploying_two_regions": (0.05, 1.0),
    "successful_deployment_without_finished_at": (0.01, 0.1),
    # a small org has 10-20 incidents: wide bounds
    "incident_citing_sha": (0.02, 0.8),
    "incident_citing_mr": (0.02, 0.8),
}


@pytest.fixture(scope="module")
def counts(small_run: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return edge_case_counts(small_run["rows"], small_run["truth"]["window_start"])


@pytest.mark.parametrize("case", sorted(BOUNDS))
def test_edge_case_appears_at_a_realistic_rate(counts: dict[str, tuple[int, int]], case: str) -> None:
    n, base = counts[case]
    assert n > 0 and base > 0, (case, n, base)
    low, high = BOUNDS[case]
    assert low <= n / base <= high, (case, n, base, round(n / base, 4))


def test_every_case_is_counted() -> None:
    empty: dict[str, list[dict[str, Any]]] = defaultdict(list)
    assert set(BOUNDS) == set(edge_case_counts(empty, "2026-01-01"))


def test_every_status_the_generator_emits_is_mapped_in_the_seed() -> None:
    """dbt fails the build on an unmapped status name: each one is in status_category_map with the
    generator's intended category (Ready for Review / Awaiting Review / Ready for QA are waiting)."""
    with SEED_MAP.open(encoding="utf-8") as fh:
        seed = {
            row["status_name_normalized"]: row["status_category"]
            for row in csv.DictReader(fh)
            if not row["project_key"]
        }
    emitted = {name for w in WORKFLOWS for name in _statuses(w)} | {"Open", "Investigating", "Mitigated"}
    assert emitted <= set(STATUSES)
    assert {name: seed.get(_normalized(name)) for name in STATUSES} == {
        name: intended for name, (_, _, intended) in STATUSES.items()
    }


def _normalized(name: str) -> str:
    """As dbt's normalize_status_name: lower-case, ``-``/``_`` as spaces, runs of spaces collapsed."""
    return " ".join(name.lower().replace("-", " ").replace("_", " ").split())


def _statuses(w: Any) -> list[str]:
    names = [w.todo, w.selected, w.in_progress, w.awaiting_review, w.review, *w.qa, w.done, w.renamed_done]
    return [n for n in [*names, w.blocked, w.cancelled, w.reopened] if n]
