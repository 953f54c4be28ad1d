"""GitLab sync loses nothing (issue 10): every case against the loopback fake GitLab (real HTTP, GitLab's
documented paging behaviour) and a real database, asserting documents served vs stored: 0 lost, 0 extra
(duplicated under another key or never served), 0 stale.

* Loss 1: an MR with more than 50 notes or commits (nested connections paged with their own cursors).
* Loss 2: REST lists paged while documents are updated (offset pages shift; time windows cannot skip).
* Loss 3: the pipeline watermark comes from the listing's sort key, so an interrupted sync resumes.
* Per-item 404s skip the item with a note; ``--full`` reconciles deleted MRs, pipelines, deployments,
  incidents; the request counts of a full and an incremental sync of a realistically sized group.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from connectors.gitlab import GitlabConnector
from connectors.http import ApiClient, ConnectorError, RetryPolicy
from connectors.state import SyncSummary
from tests.connectors.fakes import FakeGitlab, Response, gitlab_fixture
from warehouse.loader import load_records
from warehouse.records import RawRecord
from warehouse.settings import ConnectorSettings, GitlabSettings

TOKEN = "glpat-loss"
LATE = datetime.fromisoformat("2026-01-10T09:00:00+00:00")  # after every generated document (as of Jan 9)
TABLES = (
    "gitlab_merge_requests",
    "gitlab_mr_notes",
    "gitlab_mr_commits",
    "gitlab_pipelines",
    "gitlab_jobs",
    "gitlab_deployments",
    "gitlab_deployment_merge_requests",
    "gitlab_issues",
)
_ids = itertools.count(90_000_000)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def small_docs() -> dict[str, list]:
    return gitlab_fixture()


@pytest.fixture(scope="module")
def group_docs() -> dict[str, list]:
    """A realistically sized group: 3 projects, ~340 MRs, ~1,100 pipelines, ~3,000 jobs, ~490 deployments."""
    return gitlab_fixture(engineers=8, weeks=26)


def serve(docs: dict[str, list]) -> Iterator[FakeGitlab]:
    server = FakeGitlab(copy.deepcopy(docs), token=TOKEN)
    with server:
        yield server


@pytest.fixture
def small(small_docs: dict[str, list]) -> Iterator[FakeGitlab]:
    yield from serve(small_docs)


@pytest.fixture
def group(group_docs: dict[str, list]) -> Iterator[FakeGitlab]:
    yield from serve(group_docs)


def connector(fake: FakeGitlab, projects: tuple[int, ...] | None = None) -> GitlabConnector:
    chosen = [p for p in fake.projects.values() if projects is None or p["id"] in projects]
    settings = GitlabSettings(
        base_url=fake.url, token=TOKEN, projects=tuple(sorted(p["path_with_namespace"] for p in chosen))
    )
    client = ApiClient(
        fake.url,
        headers={"Authorization": f"Bearer {TOKEN}"},
        policy=RetryPolicy(max_attempts=3, base_delay=0.01),
        sleep=lambda seconds: None,
        seed=2,
    )
    return GitlabConnector(settings, ConnectorSettings(overlap_minutes=10, concurrency=4), client)


def sync(db: str, fake: FakeGitlab, projects: tuple[int, ...] | None = None, **options: Any) -> SyncSummary:
    with psycopg.connect(db) as conn:
        return connector(fake, projects).sync(conn, **options)


# ---------------------------------------------------------------------------------------------- ledger
def served(fake: FakeGitlab, projects: tuple[int, ...] | None = None) -> dict[str, dict[str, str | None]]:
    """What the fake GitLab holds now for these projects: table -> source_id -> version (None: none)."""
    wanted = set(projects or fake.projects)
    mrs = {i: m for i, m in fake.mrs.items() if m["project_id"] in wanted}
    pipelines = {i: p for i, p in fake.pipelines.items() if p["project_id"] in wanted}
    deployments = {i: d for i, d in fake.deployments.items() if fake.deployment_project[i] in wanted}
    return {
        "gitlab_merge_requests": {str(i): m["updated_at"] for i, m in mrs.items()},
        "gitlab_mr_notes": {str(n["id"]): n["updated_at"] for i in mrs for n in fake.notes.get(i, [])},
        "gitlab_mr_commits": {
            f"{i}:{c['id']}": c["committed_date"] for i in mrs for c in fake.commits.get(i, [])
        },
        "gitlab_pipelines": {str(i): p["updated_at"] for i, p in pipelines.items()},
        "gitlab_jobs": {str(j["id"]): None for i in pipelines for j in fake.jobs.get(i, [])},
        "gitlab_deployments": {str(i): d["updated_at"] for i, d in deployments.items()},
        "gitlab_deployment_merge_requests": {
            f"{i}:{m['id']}": None
            for i, d in deployments.items()
            if d["status"] == "success"
            for m in fake.deployment_mrs.get(i, [])
        },
        "gitlab_issues": {
            str(i["id"]): i["updated_at"]
            for i in fake.issues.values()
            if i["project_id"] in wanted and i["issue_type"] == "incident"
        },
    }


def stored(db: str) -> dict[str, dict[str, str | None]]:
    versions = {"gitlab_mr_commits": "committed_date"}
    found: dict[str, dict[str, str | None]] = {}
    with psycopg.connect(db) as conn:
        for table in TABLES:
            query = sql.SQL("select source_id, payload ->> {} from raw.{}").format(
                sql.Literal(versions.get(table, "updated_at")), sql.Identifier(table)
            )
            found[table] = dict(conn.execute(query).fetchall())
    return found


def ledger(fake: FakeGitlab, db: str, projects: tuple[int, ...] | None = None) -> dict[str, dict[str, int]]:
    """Per table: served, stored, lost (served, not stored), extra (stored, never served: a duplicate under
    another key or a deleted document kept), stale (stored in an older version than served)."""
    have, want = stored(db), served(fake, projects)
    report = {}
    for table in TABLES:
        mine, theirs = have[table], want[table]
        report[table] = {
            "served": len(theirs),
            "stored": len(mine),
            "lost": len(theirs.keys() - mine.keys()),
            "extra": len(mine.keys() - theirs.keys()),
            "stale": sum(
                1 for key, version in theirs.items() if version and key in mine and mine[key] != version
            ),
        }
    return report


def assert_nothing_lost(fake: FakeGitlab, db: str, projects: tuple[int, ...] | None = None) -> dict:
    report = ledger(fake, db, projects)
    print()
    for table, counts in report.items():
        print(f"  {table:36} " + "  ".join(f"{key} {value:5}" for key, value in counts.items()))
    problems = {table: c for table, c in report.items() if c["lost"] or c["extra"] or c["stale"]}
    assert not problems, problems
    return report


# ---------------------------------------------------------------------------------------------- helpers
def add_notes(fake: FakeGitlab, mr: dict, count: int) -> None:
    start = parse(mr["created_at"])
    for n in range(count):
        moment = stamp(start + timedelta(minutes=n))
        system = n % 3 == 0  # system notes count as notes: approvals, "marked as ready", label changes, ...
        fake.notes.setdefault(mr["id"], []).append(
            {
                "id": next(_ids),
                "body": "approved this merge request" if system else f"Review comment {n}",
                "author": mr["author"],
                "created_at": moment,
                "updated_at": moment,
                "system": system,
                "noteable_id": mr["id"],
                "noteable_iid": mr["iid"],
                "noteable_type": "MergeRequest",
            }
        )


def add_commits(fake: FakeGitlab, mr: dict, count: int) -> None:
    start = parse(mr["created_at"])
    for n in range(count):
        sha = hashlib.sha1(f"{mr['id']}-{n}".encode()).hexdigest()
        moment = stamp(start + timedelta(minutes=n))
        fake.commits.setdefault(mr["id"], []).append(
            {
                "id": sha,
                "short_id": sha[:8],
                "title": f"Step {n}",
                "message": f"Step {n}\n",
                "author_name": mr["author"]["name"],
                "author_email": f"{mr['author']['username']}@example.com",
                "authored_date": moment,
                "committed_date": moment,
            }
        )


def add_incidents(fake: FakeGitlab, project: dict, count: int) -> None:
    start = parse("2025-07-14T08:00:00.000Z")
    for n in range(count):
        moment = stamp(start + timedelta(hours=17 * n, seconds=n))
        issue_id = next(_ids)
        fake.issues[issue_id] = {
            "id": issue_id,
            "iid": n + 1,
            "project_id": project["id"],
            "title": f"Errors on {project['name']} #{n}",
            "description": "Alerts fired.",
            "state": "closed",
            "issue_type": "incident",
            "type": "INCIDENT",
            "labels": ["incident"],
            "author": {"id": 1, "username": "oncall", "name": "On Call"},
            "created_at": moment,
            "updated_at": moment,
            "closed_at": moment,
            "web_url": f"{project['web_url']}/-/issues/{n + 1}",
            "references": {"short": f"#{n + 1}", "full": f"{project['path_with_namespace']}#{n + 1}"},
        }


def after_first(fake: FakeGitlab, path: str, action: Callable[[dict[str, str]], None]) -> None:
    """Run ``action(query)`` once, right after the fake answered the first request to ``path``: a change
    made at the source between two requests of the sync."""
    done: list[bool] = []

    def hook(method: str, requested: str, query: dict[str, str]) -> None:
        if requested == path and not done:
            done.append(True)
            action(query)

    fake.after_hooks.append(hook)


def page_just_served(items: list[dict], query: dict[str, str]) -> list[dict]:
    """The items of the REST page the fake has just answered for ``query``."""
    ordered = FakeGitlab._listed(items, query)
    size, page = min(int(query.get("per_page", 20)), 100), int(query.get("page", 1))
    return ordered[(page - 1) * size : page * size]


# ---------------------------------------------------------------------------------------------- loss 1
def test_loss1_merge_request_with_300_notes_and_120_commits_syncs_whole(small: FakeGitlab, db: str) -> None:
    """One ``$after`` sent to both ``notes(after:)`` and ``commits(after:)`` is refused by GitLab (a cursor of
    another connection), which stopped the whole sync; each nested connection now pages on its own."""
    mrs = sorted(small.mrs.values(), key=lambda m: m["id"])
    busy, commits_only, labelled = mrs[0], mrs[1], mrs[2]
    add_notes(small, busy, 300)
    add_commits(small, busy, 120)
    add_commits(small, commits_only, 75)  # more commits than notes: the other cursor goes first
    labelled["labels"] = [f"area::{n:03d}" for n in range(130)]  # labels are a connection too (100 a page)
    summary = sync(db, small)
    assert summary.errors == []
    report = assert_nothing_lost(small, db)
    notes, commits = stored(db)["gitlab_mr_notes"], stored(db)["gitlab_mr_commits"]
    assert sum(1 for n in small.notes[busy["id"]] if str(n["id"]) in notes) == len(small.notes[busy["id"]])
    assert len(small.notes[busy["id"]]) >= 300
    assert sum(1 for key in commits if key.startswith(f"{busy['id']}:")) == len(small.commits[busy["id"]])
    assert len(small.commits[busy["id"]]) >= 120
    with psycopg.connect(db) as conn:
        row = conn.execute(
            "select payload -> 'labels' from raw.gitlab_merge_requests where source_id = %s",
            (str(labelled["id"]),),
        ).fetchone()
    assert row is not None and sorted(row[0]) == labelled["labels"]
    # the rest of the sync ran: pipelines, deployments of every project
    assert report["gitlab_pipelines"]["stored"] == report["gitlab_pipelines"]["served"] > 0
    # each follow-up query sent each connection its own cursor, never one cursor to two connections
    follow_ups = [v for v in small.graphql_variables if "iid" in v]
    assert follow_ups
    for variables in follow_ups:
        cursors = [value for key, value in variables.items() if key.endswith("After") and value]
        assert len(cursors) == len(set(cursors))


# ---------------------------------------------------------------------------------------------- loss 2
def _pipelines(fake: FakeGitlab, project_id: int) -> list[dict]:
    return [p for p in fake.pipelines.values() if p["project_id"] == project_id]


def _deployments(fake: FakeGitlab, project_id: int) -> list[dict]:
    return [d for i, d in fake.deployments.items() if fake.deployment_project[i] == project_id]


def _incidents(fake: FakeGitlab, project_id: int) -> list[dict]:
    return [i for i in fake.issues.values() if i["project_id"] == project_id]


@pytest.mark.parametrize(
    ("kind", "items_of"),
    [("pipelines", _pipelines), ("deployments", _deployments), ("issues", _incidents)],
    ids=["pipelines", "deployments", "incidents"],
)
def test_loss2_rest_lists_updated_during_the_sync_lose_nothing(
    group: FakeGitlab, db: str, kind: str, items_of: Callable[[FakeGitlab, int], list[dict]]
) -> None:
    """Offset pages are computed at request time: five documents of page 1 updated while page 1 is being
    processed move to the end, shifting the rest left, so ``page=2`` starts five documents too late (and the
    watermark then passes them for good). Time windows (``updated_after`` = newest seen - margin) cannot."""
    project = group.projects[1001]
    add_incidents(group, project, 230)
    path = f"/api/v4/projects/{project['id']}/{kind}"
    assert len(items_of(group, project["id"])) > 150  # more than one page of 100

    def update_page_one(query: dict[str, str]) -> None:
        for n, item in enumerate(page_just_served(items_of(group, project["id"]), query)[:5]):
            item["updated_at"] = stamp(LATE + timedelta(seconds=n))

    after_first(group, path, update_page_one)
    summary = sync(db, group, (project["id"],))
    assert summary.errors == []
    assert_nothing_lost(group, db, (project["id"],))


def test_more_documents_than_a_page_sharing_one_updated_at_are_all_listed(group: FakeGitlab, db: str) -> None:
    """A time window cannot start after a second that holds more than a page of documents (a bulk update):
    the listing pages on by offset under the same ``updated_after`` there, then windows on."""
    project_id = 1001
    burst = sorted(_pipelines(group, project_id), key=lambda p: p["id"])[:160]
    for n, pipeline in enumerate(burst):
        pipeline["updated_at"] = stamp(LATE + timedelta(milliseconds=n))  # 160 updates within 0.2 s
    summary = sync(db, group, (project_id,))
    assert summary.errors == []
    assert_nothing_lost(group, db, (project_id,))
    lists = [e for e in group.log if e.path == f"/api/v4/projects/{project_id}/pipelines"]
    assert len(lists) <= 8 and any(e.query["page"] != "1" for e in lists)


# ---------------------------------------------------------------------------------------------- loss 3
def test_loss3_interrupted_pipeline_sync_resumes_from_the_listing_watermark(
    group: FakeGitlab, db: str
) -> None:
    """A pipeline of page 1 finishes after the listing (its detail document is newer than the list's sort
    key), then an outage stops the sync. The watermark must be the listing's, or the rerun lists nothing
    older than that one pipeline: the rest of the pipelines and their jobs are never fetched."""
    project_id = 1001
    path = f"/api/v4/projects/{project_id}/pipelines"
    outage: list[bool] = []

    def finish_one(query: dict[str, str]) -> None:
        page = page_just_served(_pipelines(group, project_id), query)
        page[0].update(status="success", updated_at=stamp(LATE))  # its detail is fetched after the listing
        outage.append(True)  # ... and the next list request meets an outage

    def down(method: str, requested: str, query: dict[str, str]) -> Response | None:
        return (503, {}, {"message": "503 Service Unavailable"}) if outage and requested == path else None

    after_first(group, path, finish_one)
    group.before_hooks.append(down)
    with pytest.raises(ConnectorError, match="503"):
        sync(db, group, (project_id,))
    outage.clear()  # the outage is over; the rerun is incremental, from the committed watermark
    summary = sync(db, group, (project_id,))
    assert summary.errors == []
    assert_nothing_lost(group, db, (project_id,))


# ---------------------------------------------------------------------------------------------- per-item 404s
def test_pipeline_deleted_after_its_list_page_is_skipped_with_a_note(small: FakeGitlab, db: str) -> None:
    project_id = 1000
    gone: list[int] = []

    def delete_one(query: dict[str, str]) -> None:
        victim = page_just_served(_pipelines(small, project_id), query)[3]["id"]
        del small.pipelines[victim]
        small.jobs.pop(victim, None)
        gone.append(victim)

    after_first(small, f"/api/v4/projects/{project_id}/pipelines", delete_one)
    summary = sync(db, small)
    assert summary.errors == [] and summary.skipped == 1
    assert [note for note in summary.notes if str(gone[0]) in note and "404" in note]
    assert_nothing_lost(small, db)


def test_merge_request_deleted_between_its_pages_is_skipped_with_a_note(small: FakeGitlab, db: str) -> None:
    first = min(small.projects.values(), key=lambda p: p["path_with_namespace"])  # synced first
    mine = [m for m in small.mrs.values() if m["project_id"] == first["id"]]
    mr = min(mine, key=lambda m: (m["updated_at"], m["id"]))  # on the first page of the first query
    add_notes(small, mr, 80)  # needs a follow-up query, which finds the MR gone

    def delete(query: dict[str, str]) -> None:
        del small.mrs[mr["id"]]

    after_first(small, "/api/graphql", delete)
    summary = sync(db, small)
    assert summary.errors == [] and summary.skipped == 1
    assert [note for note in summary.notes if f"!{mr['iid']}" in note]
    assert_nothing_lost(small, db)


def test_deployment_deleted_after_its_list_page_is_skipped_with_a_note(small: FakeGitlab, db: str) -> None:
    project_id = 1000
    gone: list[int] = []

    def delete_one(query: dict[str, str]) -> None:
        shipped = [
            d for d in page_just_served(_deployments(small, project_id), query) if d["status"] == "success"
        ]
        del small.deployments[shipped[0]["id"]]
        gone.append(shipped[0]["id"])

    after_first(small, f"/api/v4/projects/{project_id}/deployments", delete_one)
    summary = sync(db, small)
    assert summary.errors == [] and summary.skipped == 1
    assert [note for note in summary.notes if str(gone[0]) in note and "404" in note]
    assert_nothing_lost(small, db)


# ---------------------------------------------------------------------------------------------- deletions
def _deleted(db: str) -> dict[str, set[str]]:
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "select table_name, source_id from app.deleted_documents where detected_by = 'reconciliation'"
        ).fetchall()
    found: dict[str, set[str]] = {}
    for table, source_id in rows:
        found.setdefault(table, set()).add(source_id)
    return found


def test_full_sync_reconciles_deleted_merge_requests_pipelines_deployments_incidents(
    small: FakeGitlab, db: str
) -> None:
    add_incidents(small, small.projects[1000], 3)
    sync(db, small)
    assert_nothing_lost(small, db)
    # a child pipeline known only from its webhook: /projects/:id/pipelines never lists child pipelines
    child = {**next(iter(small.pipelines.values())), "id": 2999999, "source": "parent_pipeline"}
    with psycopg.connect(db) as conn:
        load_records(conn, [RawRecord("gitlab_pipelines", child, str(child["project_id"]))], "webhook")
        conn.commit()
    mr = next(m for m in small.mrs.values() if small.notes.get(m["id"]) and small.commits.get(m["id"]))
    pipeline = next(p for p in small.pipelines.values() if small.jobs.get(p["id"]))
    deployment = next(i for i in small.deployments if small.deployment_mrs.get(i))
    incident = next(iter(small.issues))
    notes, commits = small.notes.pop(mr["id"]), small.commits.pop(mr["id"])
    jobs, shipped = small.jobs.pop(pipeline["id"]), small.deployment_mrs.pop(deployment)
    del small.mrs[mr["id"]], small.pipelines[pipeline["id"]], small.deployments[deployment]
    del small.issues[incident]

    assert sync(db, small).deleted == 0  # incremental: no reconciliation
    assert sync(db, small, full=True, since=LATE - timedelta(days=3)).deleted == 0  # bounded listing: none
    assert _deleted(db) == {}
    summary = sync(db, small, full=True)
    assert summary.deleted == 4
    gone = _deleted(db)
    assert gone["gitlab_merge_requests"] == {str(mr["id"])}
    assert gone["gitlab_mr_notes"] == {str(n["id"]) for n in notes}
    assert gone["gitlab_mr_commits"] == {f"{mr['id']}:{c['id']}" for c in commits}
    assert gone["gitlab_pipelines"] == {str(pipeline["id"])}
    assert gone["gitlab_jobs"] == {str(j["id"]) for j in jobs}
    assert gone["gitlab_deployments"] == {str(deployment)}
    assert gone["gitlab_deployment_merge_requests"] == {f"{deployment}:{m['id']}" for m in shipped}
    assert gone["gitlab_issues"] == {str(incident)}
    assert "2999999" in stored(db)["gitlab_pipelines"]  # the child pipeline stays
    with psycopg.connect(db) as conn:
        conn.execute("delete from raw.gitlab_pipelines where source_id = '2999999'")
    assert_nothing_lost(small, db)


# ----------------------------------------------------------------------------------------- request counts
def _kind(path: str) -> str:
    if path == "/api/graphql":
        return "graphql"
    parts = path.split("/")[3:]  # projects, <id>, ...
    if len(parts) == 2:
        return "project"
    shape = "/".join(part if not part.isdigit() else ":id" for part in parts[2:])
    return shape


def _counts(fake: FakeGitlab, since: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in fake.log[since:]:
        counts[_kind(entry.path)] = counts.get(_kind(entry.path), 0) + 1
    return dict(sorted(counts.items()))


def test_request_counts_of_a_full_and_an_incremental_sync(group: FakeGitlab, db: str) -> None:
    full = sync(db, group)
    full_counts = _counts(group, 0)
    assert_nothing_lost(group, db)
    mark = len(group.log)
    unchanged = sync(db, group)
    idle_counts = _counts(group, mark)
    # a day of work: 6 MRs updated (a note each), 12 pipelines and 4 deployments changed, 2 incidents
    day = LATE + timedelta(hours=2)
    for n, mr in enumerate(sorted(group.mrs.values(), key=lambda m: m["id"])[:6]):
        mr["updated_at"] = stamp(day + timedelta(minutes=n))
        add_notes(group, {**mr, "created_at": mr["updated_at"]}, 1)
    for n, pipeline in enumerate(sorted(group.pipelines.values(), key=lambda p: p["id"])[:12]):
        pipeline["updated_at"] = stamp(day + timedelta(minutes=n))
    for n, deployment_id in enumerate(sorted(group.deployments)[:4]):
        group.deployments[deployment_id]["updated_at"] = stamp(day + timedelta(minutes=n))
    add_incidents(group, group.projects[1000], 2)
    mark = len(group.log)
    changed = sync(db, group)
    changed_counts = _counts(group, mark)
    assert_nothing_lost(group, db)
    print(f"\nfull sync: {sum(full_counts.values())} requests {full_counts} (fetched {full.fetched})")
    print(f"incremental, nothing changed: {sum(idle_counts.values())} requests {idle_counts}")
    print(f"incremental, a day of changes: {sum(changed_counts.values())} requests {changed_counts}")
    assert unchanged.new == 0 and unchanged.updated == 0
    assert changed.errors == [] and changed.new >= 6
    pipelines = len(group.pipelines)
    # full: one detail and one job list per pipeline, list windows of ~100, one GraphQL page per 20 MRs
    assert full_counts["pipelines/:id"] == pipelines
    assert full_counts["pipelines"] <= pipelines // 90 + 3 * 2
    assert full_counts["graphql"] <= len(group.mrs) // 20 + 3
    # incremental: a handful of list requests per project, details only for what changed (+ the overlap)
    assert sum(idle_counts.values()) <= 3 + 3 * 4 + 2 * 10
    assert changed_counts.get("pipelines/:id", 0) <= 12 + 10
