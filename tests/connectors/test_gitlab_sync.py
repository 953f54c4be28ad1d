"""The GitLab connector against a real HTTP server on loopback (GraphQL + REST v4) and a real database: the
stored documents carry what the generator's REST documents carry, retried job attempts and the notes of
merged MRs are collected, and an incremental sync asks only for what changed."""

from __future__ import annotations

import copy
import time
from typing import Any

import psycopg
import pytest
from psycopg import sql

from connectors.gitlab import GitlabConnector, gid, mr_document
from connectors.http import ApiClient, ConnectorError, RetryPolicy
from tests.connectors.fakes import FakeGitlab, Fault, gitlab_fixture
from warehouse.settings import ConnectorSettings, GitlabSettings

TOKEN = "glpat-s3cret"


@pytest.fixture(scope="module")
def fixture_docs() -> dict[str, list]:
    return gitlab_fixture()


@pytest.fixture
def fake(fixture_docs) -> FakeGitlab:
    with FakeGitlab(copy.deepcopy(fixture_docs), token=TOKEN) as server:
        yield server


def connector(fake: FakeGitlab, *, token: str = TOKEN, sleep=None, concurrency: int = 4) -> GitlabConnector:
    paths = tuple(sorted(p["path_with_namespace"] for p in fake.projects.values()))
    settings = GitlabSettings(base_url=fake.url, token=token, projects=paths)
    policy = RetryPolicy(max_attempts=3, base_delay=0.01)
    client = ApiClient(
        fake.url,
        headers={"Authorization": f"Bearer {token}"},
        policy=policy,
        sleep=sleep or time.sleep,
        seed=2,
    )
    behaviour = ConnectorSettings(overlap_minutes=10, concurrency=concurrency)
    return GitlabConnector(settings, behaviour, client)


def raw(url: str, table: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(sql.SQL("select source_id, payload from raw.{}").format(sql.Identifier(table)))
        return dict(rows.fetchall())


def test_gid() -> None:
    assert gid("gid://gitlab/MergeRequest/1000017") == 1000017
    assert gid(None) is None


def test_full_sync_matches_the_rest_documents(fake, fixture_docs, db) -> None:
    with psycopg.connect(db) as conn:
        summary = connector(fake).sync(conn)
    assert summary.rejected == 0
    merge_requests = raw(db, "gitlab_merge_requests")
    assert len(merge_requests) == len(fixture_docs["gitlab_merge_requests"])
    compared = (
        "id",
        "iid",
        "project_id",
        "title",
        "description",
        "state",
        "draft",
        "source_branch",
        "created_at",
    )
    compared += ("merged_at", "closed_at", "merge_commit_sha", "sha", "labels", "web_url", "diff_stats")
    for expected, _ in fixture_docs["gitlab_merge_requests"]:
        stored = merge_requests[str(expected["id"])]
        assert {key: stored[key] for key in compared} == {key: expected[key] for key in compared}
        assert stored["author"]["username"] == expected["author"]["username"]
    # the head pipeline of each MR (GraphQL headPipeline): its newest MR pipeline, status as in REST
    with_head = [mr for mr in merge_requests.values() if mr["head_pipeline"]]
    assert with_head
    pipelines = {doc["id"]: doc for doc, _ in fixture_docs["gitlab_pipelines"]}
    for mr in with_head:
        head = pipelines[mr["head_pipeline"]["id"]]
        assert head["ref"] == f"refs/merge-requests/{mr['iid']}/head"
        assert mr["head_pipeline"]["status"] == head["status"]
    # notes, including the approvals and ready markers of merged MRs (GitLab system notes)
    notes = raw(db, "gitlab_mr_notes")
    assert set(notes) == {str(doc["id"]) for doc, _ in fixture_docs["gitlab_mr_notes"]}
    merged_ids = {doc["id"] for doc, _ in fixture_docs["gitlab_merge_requests"] if doc["state"] == "merged"}
    approvals = [n for n in notes.values() if n["body"] == "approved this merge request"]
    assert approvals and all(n["system"] and n["noteable_id"] in merged_ids for n in approvals)
    assert len(raw(db, "gitlab_mr_commits")) == len(fixture_docs["gitlab_mr_commits"])
    # REST with include_retried=true: every job attempt, retried ones too
    jobs = raw(db, "gitlab_jobs")
    assert len(jobs) == len(fixture_docs["gitlab_jobs"])
    # current GitLab job documents have no `retried` key: a retried attempt is an older job of the same name
    # in the same pipeline, which only include_retried=true lists
    attempts: dict[tuple[int, str], int] = {}
    for job in jobs.values():
        attempt = (job["pipeline"]["id"], job["name"])
        attempts[attempt] = attempts.get(attempt, 0) + 1
    assert any(count > 1 for count in attempts.values())
    assert not any("retried" in job for job in jobs.values())
    assert raw(db, "gitlab_pipelines") == {str(doc["id"]): doc for doc, _ in fixture_docs["gitlab_pipelines"]}
    assert len(raw(db, "gitlab_deployments")) == len(fixture_docs["gitlab_deployments"])
    assert len(raw(db, "gitlab_deployment_merge_requests")) == len(
        fixture_docs["gitlab_deployment_merge_requests"]
    )


def test_per_pipeline_requests_are_concurrent_but_bounded(fake, fixture_docs, db) -> None:
    fake.slow["/api/v4/projects/"] = 0.02  # every REST call takes a moment, so overlapping calls show
    with psycopg.connect(db) as conn:
        connector(fake, concurrency=3).sync(conn)
    assert 1 < fake.most_in_flight <= 3
    jobs = raw(db, "gitlab_jobs")
    assert set(jobs) == {str(doc["id"]) for doc, _ in fixture_docs["gitlab_jobs"]}
    # each job still hangs under its own pipeline
    with psycopg.connect(db) as conn:
        parents = dict(conn.execute("select source_id, parent_id from raw.gitlab_jobs").fetchall())
    assert all(parents[str(job["id"])] == str(job["pipeline"]["id"]) for job in jobs.values())


def _gitlab_issue(issue_id: int, project: dict, iid: int, issue_type: str, updated: str) -> dict[str, Any]:
    return {
        "id": issue_id,
        "iid": iid,
        "project_id": project["id"],
        "title": f"Errors on {project['name']}",
        "description": "Alerts fired.",
        "state": "opened",
        "issue_type": issue_type,
        "type": issue_type.upper(),
        "labels": ["incident"],
        "author": {"id": 1, "username": "oncall", "name": "On Call"},
        "created_at": updated,
        "updated_at": updated,
        "closed_at": None,
        "web_url": f"{project['web_url']}/-/issues/{iid}",
        "references": {"short": f"#{iid}", "full": f"{project['path_with_namespace']}#{iid}"},
    }


def test_incidents_are_synced_and_resolved_incrementally(fake, db) -> None:
    project = next(iter(fake.projects.values()))
    opened = _gitlab_issue(71, project, 1, "incident", "2026-01-07T09:00:00.000Z")
    fake.issues = {71: opened, 72: _gitlab_issue(72, project, 2, "issue", "2026-01-07T09:30:00.000Z")}
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    assert set(raw(db, "gitlab_issues")) == {"71"}  # only incidents are asked for (issue_type=incident)
    asked = fake.requests(f"/api/v4/projects/{project['id']}/issues")
    assert asked and all(entry.query["issue_type"] == "incident" for entry in asked)
    # the incident is closed: the next sync picks it up from the watermark
    closed = "2026-01-07T11:00:00.000Z"
    fake.issues[71] = {**opened, "state": "closed", "closed_at": closed, "updated_at": closed}
    with psycopg.connect(db) as conn:
        summary = connector(fake).sync(conn)
    assert raw(db, "gitlab_issues")["71"]["state"] == "closed"
    assert summary.updated >= 1
    again = fake.requests(f"/api/v4/projects/{project['id']}/issues")[len(asked) :]
    assert again and all(entry.query.get("updated_after") for entry in again)


def test_incremental_sync_asks_only_for_what_changed(fake, db) -> None:
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    calls_before = len(fake.graphql_variables)
    merged = next(mr for mr in fake.mrs.values() if mr["state"] == "merged")
    merged["updated_at"] = "2026-01-12T10:00:00.000Z"
    fake.notes.setdefault(merged["id"], []).append(
        {
            "id": 999_999,
            "body": "Late comment on a merged MR",
            "author": merged["author"],
            "created_at": "2026-01-12T10:00:00.000Z",
            "updated_at": "2026-01-12T10:00:00.000Z",
            "system": False,
            "noteable_id": merged["id"],
            "noteable_iid": merged["iid"],
            "noteable_type": "MergeRequest",
        }
    )
    with psycopg.connect(db) as conn:
        summary = connector(fake).sync(conn)
    asked = fake.graphql_variables[calls_before:]
    assert all(variables.get("updatedAfter") for variables in asked)  # from the watermarks, not from scratch
    assert raw(db, "gitlab_mr_notes")["999999"]["body"] == "Late comment on a merged MR"
    assert summary.new == 1  # the note; the MR is an update
    assert summary.updated >= 1


def test_graphql_mr_document_shape() -> None:
    node = {
        "id": "gid://gitlab/MergeRequest/5",
        "iid": "2",
        "title": "T",
        "state": "merged",
        "draft": False,
        "author": {"id": "gid://gitlab/User/9", "username": "ana", "name": "Ana"},
        "diffStatsSummary": {"additions": 3, "deletions": 1, "fileCount": 1},
        "labels": {"nodes": [{"title": "backend"}]},
        "reviewers": {"nodes": []},
    }
    doc = mr_document(node, 7, "acme/pay/api")
    assert (doc["id"], doc["iid"], doc["project_id"]) == (5, 2, 7)
    assert doc["author"] == {"id": 9, "username": "ana", "name": "Ana"}
    assert doc["diff_stats"] == {"additions": 3, "deletions": 1, "file_count": 1}
    assert doc["references"]["full"] == "acme/pay/api!2" and doc["labels"] == ["backend"]


def test_rate_limits_and_auth(fake, db) -> None:
    waits: list[float] = []
    fake.faults.append(Fault("/api/graphql", 429, {"Retry-After": "2"}))
    with psycopg.connect(db) as conn:
        connector(fake, sleep=waits.append).sync(conn)
    assert 2.0 in waits  # Retry-After honoured exactly
    with pytest.raises(ConnectorError, match="HTTP 401") as failure:
        connector(fake, token="wrong").check()
    assert "wrong" not in str(failure.value) and TOKEN not in str(failure.value)
