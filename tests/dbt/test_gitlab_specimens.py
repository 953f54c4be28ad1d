"""Real GitLab merge requests, notes and commits (Apache DevLake's e2e raw tables: real gitlab.com REST v4
responses, in ../shared/specimens) go through the real loader, the GitLab staging views and the review marts.
Every expected value below was read off the specimen CSVs by hand; the arithmetic is in the comments."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support import Preparation, upstream_of
from warehouse.dbt_vars import vars_args
from warehouse.records import RawRecord

csv.field_size_limit(2**31 - 1)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="") as handle:
        yield from csv.DictReader(handle)


def gitlab_review_records(root: Path) -> list[RawRecord]:
    tables = root / "devlake/gitlab/raw_tables"
    records: list[RawRecord] = []
    # merge requests of GET /projects/:id/merge_requests (the superset used by DevLake's notes test)
    for row in _rows(tables / "_raw_gitlab_api_merge_requests_for_mr_notes_test.csv"):
        project_id = str(json.loads(row["params"])["ProjectId"])
        records.append(RawRecord("gitlab_merge_requests", json.loads(row["data"]), parent_id=project_id))
    # go-gitlab's REST fixtures: GET /projects/:id/merge_requests/:iid and the list endpoint
    single = json.loads((root / "go-gitlab-testdata/get_merge_request.json").read_text())
    listed = json.loads((root / "go-gitlab-testdata/get_merge_requests.json").read_text())
    for doc in [single, *listed]:
        records.append(RawRecord("gitlab_merge_requests", doc, parent_id=str(doc["project_id"])))
    # notes and commits: the owning MR's global id is in the request context (`input.GitlabId`)
    for name, table in (
        ("_raw_gitlab_api_merge_request_notes.csv", "gitlab_mr_notes"),
        ("_raw_gitlab_api_merge_request_commits.csv", "gitlab_mr_commits"),
    ):
        for row in _rows(tables / name):
            mr_id = str(json.loads(row["input"])["GitlabId"])
            records.append(RawRecord(table, json.loads(row["data"]), parent_id=mr_id))
    return records


def gitlab_ci_records(root: Path) -> list[RawRecord]:
    tables = root / "devlake/gitlab/raw_tables"
    records: list[RawRecord] = []
    for row in _rows(tables / "_raw_gitlab_api_pipeline_details.csv"):
        project_id = str(json.loads(row["params"])["ProjectId"])
        records.append(RawRecord("gitlab_pipelines", json.loads(row["data"]), parent_id=project_id))
    # GET /projects/44/jobs (a self-managed instance): each job names its pipeline
    for row in _rows(tables / "_raw_gitlab_api_job.csv"):
        doc = json.loads(row["data"])
        records.append(RawRecord("gitlab_jobs", doc, parent_id=str(doc["pipeline"]["id"])))
    for row in _rows(tables / "_raw_gitlab_api_deployments.csv"):
        project_id = str(json.loads(row["params"])["ProjectId"])
        records.append(RawRecord("gitlab_deployments", json.loads(row["data"]), parent_id=project_id))
    return records


# what these tests read: only these models and their upstream are built (with their data and unit tests)
MODELS = (
    "fct_merge_requests",
    "int_merge_request_notes_classified",
    "fct_pipelines",
    "fct_jobs",
    "fct_deployments",
)


def prepare_in_background(prep: Preparation) -> None:
    """Load the specimens and build (starts with the session, see tests/conftest.py)."""
    warehouse, specimens = prep.warehouse(), prep.specimens()
    summary = warehouse.load(gitlab_review_records(specimens) + gitlab_ci_records(specimens), source="gitlab")
    assert summary.rejected == 0
    by_table = summary.by_table()
    # 16 pipeline details, 75 jobs, 8 deployments
    assert (by_table["gitlab_pipelines"]["received"], by_table["gitlab_jobs"]["received"]) == (16, 75)
    assert by_table["gitlab_deployments"]["received"] == 8
    # 16 + 1 + 3 MRs, 26 notes, 37 commit rows (one commit listed under two MRs stays two rows: <mr id>:<sha>)
    assert by_table["gitlab_merge_requests"]["received"] == 20
    assert by_table["gitlab_mr_notes"]["received"] == 26
    assert by_table["gitlab_mr_commits"]["received"] == 37
    warehouse.dbt("build", *upstream_of(*MODELS), *vars_args(as_of="2026-01-01T00:00:00+00:00"))


@pytest.fixture(scope="module")
def built(prepared) -> None:
    return prepared


def _mr(query, merge_request_id: str) -> dict:
    rows = query("select * from marts.fct_merge_requests where merge_request_id = %s", (merge_request_id,))
    assert len(rows) == 1, merge_request_id
    return rows[0]


def test_merge_request_staging_values(built, query) -> None:
    row = query("select * from staging.stg_gitlab__merge_requests where merge_request_id = '32348491'")[0]
    assert (row["merge_request_iid"], row["project_id"], row["state"]) == ("1", "12345678", "merged")
    assert (row["author_username"], row["merged_by_username"]) == ("emilie", "tayloramurphy")
    assert row["source_branch"] == "1-add-documentation-to-snowflake-spend-package"
    assert row["created_at"] == datetime(2019, 6, 28, 5, 21, 43, 743000, tzinfo=UTC)
    assert row["merged_at"] == datetime(2019, 6, 28, 14, 32, 6, 192000, tzinfo=UTC)
    # DevLake's list endpoint has no diff_stats: size is unknown, not zero
    assert row["lines_added"] is None
    draft = query(
        "select title, is_draft from staging.stg_gitlab__merge_requests where merge_request_id = '145032495'"
    )
    assert draft == [{"title": "Draft: Update dbt_project.yml", "is_draft": True}]


def test_draft_flag_wins_over_deprecated_work_in_progress(built, query) -> None:
    # go-gitlab get_merge_request.json: "draft": true, "work_in_progress": false, one reviewer (tkuah)
    row = query("select * from staging.stg_gitlab__merge_requests where merge_request_id = '33092005'")[0]
    assert (row["is_draft"], row["requested_reviewer_count"]) == (True, 1)
    assert row["author_username"] == "alexkalderimis"
    assert row["merge_request_iid"] == "14656" and row["state"] == "opened"


def test_note_classification(built, query) -> None:
    kinds = {
        row["note_id"]: row["note_kind"]
        for row in query("select note_id, note_kind from intermediate.int_merge_request_notes_classified")
    }
    assert kinds["186438743"] == "ready_marker"  # "unmarked as a **Work In Progress**" (GitLab < 14)
    assert kinds["186327072"] == "system"  # "assigned to @emilie"
    assert kinds["186439132"] == "author_comment"  # emilie on her own MR
    assert kinds["208061122"] == "review_comment"  # emilie on martinguindon's MR
    assert kinds["135100359"] == "approval"  # liyongfeng approves gary-beautypie's MR
    assert kinds["135848646"] == "system"  # "unapproved this merge request"


def test_wip_mr_merged_without_review(built, query) -> None:
    mr = _mr(query, "32348491")
    # first transition note is "unmarked as a **Work In Progress**" at 10:55:26.170 -> opened as a draft
    assert mr["is_started_as_draft"] is True
    assert mr["ready_at"] == datetime(2019, 6, 28, 10, 55, 26, 170000, tzinfo=UTC)
    # only the author (emilie) commented; tayloramurphy's notes are system notes ("mentioned in commit",
    # "merged")
    assert mr["is_merged_without_review"] is True
    assert mr["first_review_at"] is None
    # no pickup: it was merged without review (issue 11; it used to end at the merge: 10:55:26.170 ->
    # 14:32:06.192 = 3.6111 h)
    assert mr["review_pickup_hours"] is None
    # coding: first commit abbe0ab2 authored 05:40:36 -> ready 10:55:26.170 = 5 h 14 min 50.17 s = 5.24727 h
    assert mr["coding_time_hours"] == Decimal("5.2473")
    assert mr["commit_count"] == 5
    assert mr["review_rounds"] == 0


def test_reviewed_mr_timeline(built, query) -> None:
    mr = _mr(query, "35064956")
    assert mr["author_username"] == "martinguindon"
    assert mr["is_started_as_draft"] is False
    assert mr["first_reviewer_username"] == "emilie"
    # ready = created 2019-08-15 19:34:32.706 -> emilie's comment 2019-08-26 12:14:39.003:
    # 11 days (264 h) minus 7 h 19 min 53.703 s (7.33158 h) = 256.66842 h
    assert mr["review_pickup_hours"] == Decimal("256.6684")
    # 12:14:39.003 -> merged 14:15:27.922 = 2 h 0 min 48.919 s = 2.01359 h
    assert mr["review_duration_hours"] == Decimal("2.0136")
    # first commit 19:32:19 -> created 19:34:32.706 = 133.706 s = 0.03714 h
    assert mr["coding_time_hours"] == Decimal("0.0371")
    assert (mr["reviewer_count"], mr["review_rounds"], mr["is_merged_without_review"]) == (1, 1, False)


def test_approve_unapprove_approve(built, query) -> None:
    mr = _mr(query, "15869219")
    # basicthinker: approved 00:40:37.158, unapproved 00:40:45.520, approved 00:40:47.455 -> one approver
    assert (mr["approvers"], mr["approver_count"], mr["is_self_approved"]) == ("basicthinker", 1, False)
    assert mr["first_approval_at"] == datetime(2019, 1, 29, 0, 40, 37, 158000, tzinfo=UTC)
    # still a draft with no transition notes: never ready, so no pickup
    assert (mr["is_started_as_draft"], mr["ready_at"], mr["review_pickup_hours"]) == (True, None, None)


def test_pipeline_values(built, query) -> None:
    row = query("select * from marts.fct_pipelines where pipeline_id = '1078343570'")[0]
    assert (row["status"], row["ref"], row["trigger_source"]) == (
        "success",
        "refs/merge-requests/5394/head",
        "merge_request_event",
    )
    assert row["is_merge_request_pipeline"] is True
    assert (row["duration_seconds"], row["queued_duration_seconds"]) == (Decimal("1512"), Decimal("1"))
    assert row["created_at"] == datetime(2023, 11, 20, 7, 17, 8, 753000, tzinfo=UTC)
    failed = query("select count(*) as n from marts.fct_pipelines where status = 'failed'")[0]["n"]
    assert failed >= 4  # 1079502706, 1079509085, 1079536077, 1079536741 among others


def test_job_retries_without_retried_flag(built, query) -> None:
    """/projects/:id/jobs of this older GitLab has no `retried` key: attempts are still ranked by creation,
    and every attempt but the last of a job name in a pipeline counts as retried."""
    jobs = {r["job_id"]: r for r in query("select * from marts.fct_jobs where pipeline_id in ('18', '21')")}
    # pipeline 21: `format` job 95 created 14:56:59.089, job 96 created 14:59:26.540 -> 95 then 96
    assert (jobs["95"]["attempt_number"], jobs["96"]["attempt_number"]) == (1, 2)
    assert jobs["96"]["is_final_attempt"] and jobs["95"]["is_retried_attempt"]
    # waste = the retried attempt's duration: 1.68669 s = 0.0281 min;
    # pipeline 18: job 91, 2.864332 s = 0.0477 min
    assert jobs["95"]["retry_waste_minutes"] == Decimal("0.0281")
    assert jobs["91"]["retry_waste_minutes"] == Decimal("0.0477")
    assert jobs["96"]["retry_waste_minutes"] == Decimal("0")


def test_deployment_environments(built, query) -> None:
    rows = {r["deployment_id"]: r for r in query("select * from marts.fct_deployments")}
    # no environment tier in this older API response: the name decides
    assert (rows["13426753"]["environment_class"], rows["13426753"]["is_successful"]) == ("staging", True)
    assert (rows["13436532"]["environment_class"], rows["13436532"]["status"]) == ("production", "canceled")
    assert rows["13436532"]["is_successful"] is False
    assert rows["13432654"]["status"] == "completed"
