"""Every emitted document carries the keys docs/raw-layer.md promises for its table."""

from __future__ import annotations

import re
from typing import Any

import pytest

from generator.calendar import parse_ts
from warehouse.records import RAW_TABLES

JIRA_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")  # the reading account's zone
GITLAB_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

MR_KEYS = {
    "id",
    "iid",
    "project_id",
    "title",
    "description",
    "state",
    "draft",
    "work_in_progress",
    "source_branch",
    "target_branch",
    "author",
    "created_at",
    "updated_at",
    "merged_at",
    "closed_at",
    "merge_commit_sha",
    "sha",
    "labels",
    "reviewers",
    "web_url",
    "references",
    "diff_stats",
}
REQUIRED: dict[str, set[str]] = {
    "jira_issues": {"id", "key", "self", "fields"},
    "jira_changelogs": {"id", "author", "created", "items"},
    "jira_sprints": {
        "id",
        "self",
        "state",
        "name",
        "startDate",
        "endDate",
        "completeDate",
        "originBoardId",
        "goal",
    },
    "gitlab_projects": {
        "id",
        "name",
        "path",
        "path_with_namespace",
        "namespace",
        "web_url",
        "created_at",
        "last_activity_at",
    },
    "gitlab_merge_requests": MR_KEYS,
    "gitlab_mr_notes": {
        "id",
        "body",
        "author",
        "created_at",
        "updated_at",
        "system",
        "noteable_id",
        "noteable_iid",
        "noteable_type",
        "resolvable",
    },
    "gitlab_mr_commits": {
        "id",
        "short_id",
        "title",
        "message",
        "author_name",
        "author_email",
        "authored_date",
        "committed_date",
    },
    "gitlab_pipelines": {
        "id",
        "iid",
        "project_id",
        "sha",
        "ref",
        "status",
        "source",
        "created_at",
        "updated_at",
        "started_at",
        "finished_at",
        "duration",
        "queued_duration",
        "web_url",
    },
    "gitlab_jobs": {
        "id",
        "name",
        "stage",
        "status",
        "allow_failure",
        "created_at",
        "started_at",
        "finished_at",
        "duration",
        "queued_duration",
        "failure_reason",
        "pipeline",
        "web_url",
    },
    "gitlab_deployments": {
        "id",
        "iid",
        "ref",
        "sha",
        "status",
        "created_at",
        "updated_at",
        "finished_at",
        "environment",
        "deployable",
        "user",
    },
    "gitlab_deployment_merge_requests": MR_KEYS,
    "gitlab_issues": {
        "id",
        "iid",
        "project_id",
        "title",
        "description",
        "state",
        "issue_type",
        "type",
        "labels",
        "author",
        "created_at",
        "updated_at",
        "closed_at",
        "web_url",
        "references",
    },
}
ISSUE_FIELDS = {
    "summary",
    "status",
    "issuetype",
    "project",
    "assignee",
    "reporter",
    "created",
    "updated",
    "resolutiondate",
    "resolution",
    "labels",
    "priority",
    "customfield_10020",
    "customfield_10021",
    "customfield_10001",
}
ITEM_KEYS = {"field", "fieldtype", "fieldId", "from", "fromString", "to", "toString"}


@pytest.mark.parametrize("table", RAW_TABLES)
def test_every_payload_has_the_contract_keys(small_run: dict[str, Any], table: str) -> None:
    rows = small_run["rows"][table]
    assert rows, f"no {table} documents"
    for row in rows:
        missing = REQUIRED[table] - set(row["payload"])
        assert not missing, f"{table} {row['payload'].get('id')}: missing {missing}"
        if table == "gitlab_jobs":  # as on current GitLab: attempts are told apart by name and creation
            assert "retried" not in row["payload"]


def test_jira_issue_shape(small_run: dict[str, Any]) -> None:
    slugs = {t["slug"] for t in small_run["truth"]["teams"]}
    for row in small_run["rows"]["jira_issues"]:
        p = row["payload"]
        assert "changelog" not in p and row["parent_id"] is None
        f = p["fields"]
        assert set(f) >= ISSUE_FIELDS
        assert JIRA_TS.match(f["created"]) and JIRA_TS.match(f["updated"])
        assert parse_ts(f["updated"]) >= parse_ts(f["created"])
        assert {"id", "name", "statusCategory"} <= set(f["status"]) and "key" in f["status"]["statusCategory"]
        team = f["customfield_10001"]
        assert set(team) == {"id", "name", "title", "isShared"}
        assert re.sub(r"[^a-z0-9]+", "-", team["name"].lower()) in slugs
        assert f["customfield_10021"] in (None, [{"id": "10019", "value": "Impediment"}])
        if f["customfield_10020"] is not None:
            for s in f["customfield_10020"]:
                assert {"id", "name", "state", "boardId", "startDate", "endDate", "completeDate"} <= set(s)
        done = f["status"]["statusCategory"]["key"] == "done"
        assert (f["resolution"] is not None) == done
        assert (f["resolutiondate"] is not None) == done


def test_changelogs_shape_and_ids(small_run: dict[str, Any]) -> None:
    issue_ids = {r["payload"]["id"] for r in small_run["rows"]["jira_issues"]}
    seen: dict[str, str] = {}
    for row in small_run["rows"]["jira_changelogs"]:
        p = row["payload"]
        assert row["parent_id"] in issue_ids
        assert JIRA_TS.match(p["created"])
        assert p["items"] and all(set(i) == ITEM_KEYS for i in p["items"])
        assert seen.setdefault(p["id"], row["parent_id"]) == row["parent_id"]
    # ids grow with time
    ordered = sorted(
        {r["payload"]["id"]: r["payload"]["created"] for r in small_run["rows"]["jira_changelogs"]}.items(),
        key=lambda kv: int(kv[0]),
    )
    stamps = [parse_ts(c).replace(microsecond=0) for _, c in ordered]  # ids grow per second
    assert stamps == sorted(stamps)


def test_gitlab_parents_and_timestamps(small_run: dict[str, Any]) -> None:
    rows = small_run["rows"]
    projects = {r["payload"]["id"] for r in rows["gitlab_projects"]}
    mrs = {r["payload"]["id"] for r in rows["gitlab_merge_requests"]}
    pipelines = {r["payload"]["id"] for r in rows["gitlab_pipelines"]}
    deployments = {r["payload"]["id"] for r in rows["gitlab_deployments"]}
    slugs = {t["slug"] for t in small_run["truth"]["teams"]}
    for r in rows["gitlab_projects"]:
        assert r["payload"]["namespace"]["path"] in slugs
    assert all(int(r["parent_id"]) in projects for r in rows["gitlab_merge_requests"])
    assert all(int(r["parent_id"]) in mrs for r in rows["gitlab_mr_notes"])
    assert all(r["payload"]["noteable_id"] == int(r["parent_id"]) for r in rows["gitlab_mr_notes"])
    assert all(int(r["parent_id"]) in mrs for r in rows["gitlab_mr_commits"])
    assert all(int(r["parent_id"]) in pipelines for r in rows["gitlab_jobs"])
    assert all(r["payload"]["pipeline"]["id"] == int(r["parent_id"]) for r in rows["gitlab_jobs"])
    assert all(int(r["parent_id"]) in deployments for r in rows["gitlab_deployment_merge_requests"])
    assert all(int(r["parent_id"]) == r["payload"]["project_id"] in projects for r in rows["gitlab_issues"])
    tables = (
        "gitlab_merge_requests",
        "gitlab_mr_notes",
        "gitlab_pipelines",
        "gitlab_deployments",
        "gitlab_issues",
    )
    for table in tables:
        for r in rows[table]:
            assert GITLAB_TS.match(r["payload"]["created_at"]) and GITLAB_TS.match(r["payload"]["updated_at"])
    commit_keys = {(r["parent_id"], r["payload"]["id"]) for r in rows["gitlab_mr_commits"]}
    assert len(commit_keys) == len(rows["gitlab_mr_commits"])


def test_incidents_are_filed_in_one_tracker_per_team(small_run: dict[str, Any]) -> None:
    """Every third team files its incidents as GitLab incidents, the others as Jira OPS issues; never both."""
    rows = small_run["rows"]
    team_of_project = {r["payload"]["id"]: r["payload"]["namespace"]["path"] for r in rows["gitlab_projects"]}
    gitlab_teams = {team_of_project[r["payload"]["project_id"]] for r in rows["gitlab_issues"]}
    jira_teams = {
        re.sub(r"[^a-z0-9]+", "-", r["payload"]["fields"]["customfield_10001"]["name"].lower())
        for r in rows["jira_issues"]
        if r["payload"]["fields"]["issuetype"]["name"] == "Incident"
    }
    assert gitlab_teams and jira_teams and not gitlab_teams & jira_teams
    for r in rows["gitlab_issues"]:
        doc = r["payload"]
        assert doc["issue_type"] == "incident" and doc["type"] == "INCIDENT"
        assert (doc["state"] == "closed") == (doc["closed_at"] is not None)
        project = next(
            p["payload"] for p in rows["gitlab_projects"] if p["payload"]["id"] == doc["project_id"]
        )
        assert doc["references"]["full"] == f"{project['path_with_namespace']}#{doc['iid']}"
        assert project["name"] in doc["title"]  # the affected service is the project the incident is filed in
    iids = [(r["payload"]["project_id"], r["payload"]["iid"]) for r in rows["gitlab_issues"]]
    assert len(set(iids)) == len(iids)
