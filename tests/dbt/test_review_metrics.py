"""Code review and Jira ↔ GitLab linkage end to end: small, explicit GitLab and Jira histories go through the
real loader and the real dbt build, and fct_merge_requests / fct_issue_merge_request_links / fct_work_linkage
are checked against numbers computed BY HAND (arithmetic in the comments). Definitions: docs/metrics.md,
"Code review and linkage". Week of Monday 2026-01-05; as_of Saturday 2026-01-10 00:00 UTC.

The story (team Payments, GitLab project 7 = acme/payments/api):
* MR 1001 "Add refunds": opened as a DRAFT Mon 09:00; key only in its BRANCH `feature/pay-1-refunds`;
  first commit 08:00; gitlab-bot comments 09:01 (ignored); marked ready 11:00; reviewer cy comments 13:00;
  the author replies 13:30 and pushes a fix 14:00; cy comments again 14:30 and approves 15:00; merged 16:00.
* MR 1002 "PAY-2: Refund emails": not a draft, opened 10:00 (commit 09:30); only its AUTHOR comments and
  approves (self-approval); merged 12:00 -> merged without review.
* Production deployment 9001 of acme/payments/api finishes Mon 17:30 and ships 1001 and 1002 (GitLab's
  deployment -> merge requests relation).
* MR 1003 "Tidy CI config": no key (its commit mentions CHK-1, but CHK is not a loaded Jira project);
  ready Tue 09:00, reviewed by cy Tue 10:00, merged Tue 11:00, not deployed yet.
* MR 1004 by renovate-bot: merged Tue, a bot MR (not counted as unlinked human work).
* MR 1005: still a draft, never ready; "Part of PAY-1" in its description (medium-confidence link).
* Jira PAY-1, PAY-2, PAY-3 are done in the week; PAY-3 has no merge request (unlinked work).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.dbt.test_flow_metrics import history, issue, jira_ts, status
from tests.support import Preparation, upstream_of
from warehouse.dbt_vars import vars_args
from warehouse.records import RawRecord

AS_OF = "2026-01-10T00:00:00+00:00"
VARS = vars_args(as_of=AS_OF)
# what these tests read: only these marts and their upstream are built (with their data and unit tests)
MARTS = ("fct_merge_requests", "fct_issue_merge_request_links", "fct_work_linkage")
PROJECT_ID = 7
USERS = {
    "ana": {"id": 1, "username": "ana", "name": "Ana"},
    "bo": {"id": 2, "username": "bo", "name": "Bo"},
    "cy": {"id": 3, "username": "cy", "name": "Cy"},
    "gitlab-bot": {"id": 90002, "username": "gitlab-bot", "name": "GitLab Bot"},
    "renovate-bot": {"id": 90001, "username": "renovate-bot", "name": "Renovate"},
}


def gl_ts(day: int, hhmm: str) -> str:
    """GitLab REST format, e.g. 2026-01-05T09:00:00.000Z (day of January 2026)."""
    return f"2026-01-{day:02d}T{hhmm}:00.000Z"


def merge_request(
    mr_id: int,
    iid: int,
    title: str,
    author: str,
    created: str,
    *,
    branch: str,
    description: str = "",
    merged: str | None = None,
    draft: bool = False,
    additions: int = 10,
    deletions: int = 0,
) -> dict[str, Any]:
    return {
        "id": mr_id,
        "iid": iid,
        "project_id": PROJECT_ID,
        "title": f"Draft: {title}" if draft else title,
        "description": description,
        "state": "merged" if merged else "opened",
        "draft": draft,
        "work_in_progress": draft,
        "source_branch": branch,
        "target_branch": "main",
        "author": USERS[author],
        "created_at": created,
        "updated_at": merged or created,
        "merged_at": merged,
        "closed_at": None,
        "merge_commit_sha": f"{mr_id:040x}" if merged else None,
        "sha": f"{mr_id + 1:040x}",
        "labels": [],
        "reviewers": [],
        "web_url": f"https://gitlab.example/acme/payments/api/-/merge_requests/{iid}",
        "diff_stats": {"additions": additions, "deletions": deletions, "file_count": 2},
    }


def note(note_id: int, mr_id: int, author: str, body: str, at: str, *, system: bool = False) -> RawRecord:
    doc = {
        "id": note_id,
        "type": None if system else "DiffNote",
        "body": body,
        "author": USERS[author],
        "created_at": at,
        "updated_at": at,
        "system": system,
        "noteable_id": mr_id,
        "noteable_type": "MergeRequest",
        "noteable_iid": mr_id - 1000,
    }
    return RawRecord("gitlab_mr_notes", doc, parent_id=str(mr_id))


def commit(mr_id: int, sha_seed: int, message: str, at: str) -> RawRecord:
    sha = f"{sha_seed:040x}"
    doc = {
        "id": sha,
        "short_id": sha[:8],
        "title": message.splitlines()[0],
        "message": message,
        "author_name": "Dev",
        "author_email": "dev@example.com",
        "authored_date": at,
        "committed_date": at,
    }
    return RawRecord("gitlab_mr_commits", doc, parent_id=str(mr_id))


def project_record() -> RawRecord:
    """GitLab project 7, acme/payments/api, owned by team Payments (namespace path `payments`)."""
    project = {
        "id": PROJECT_ID,
        "name": "api",
        "path": "api",
        "path_with_namespace": "acme/payments/api",
        "namespace": {"id": 70, "name": "Payments", "path": "payments", "full_path": "acme/payments"},
        "web_url": "https://gitlab.example/acme/payments/api",
        "created_at": gl_ts(1, "09:00"),
        "last_activity_at": gl_ts(8, "11:00"),
    }
    return RawRecord("gitlab_projects", project)


def gitlab_records() -> list[RawRecord]:
    mr_1001 = merge_request(
        1001,
        1,
        "Add refunds",
        "ana",
        gl_ts(5, "09:00"),
        branch="feature/pay-1-refunds",
        description="Adds the refund flow.",
        merged=gl_ts(5, "16:00"),
        additions=30,
        deletions=10,
    )
    mr_1002 = merge_request(
        1002,
        2,
        "PAY-2: Refund emails",
        "bo",
        gl_ts(5, "10:00"),
        branch="bo/refund-emails",
        merged=gl_ts(5, "12:00"),
        additions=5,
    )
    recs = [
        project_record(),
        RawRecord("gitlab_merge_requests", mr_1001, str(PROJECT_ID)),
        RawRecord("gitlab_merge_requests", mr_1002, str(PROJECT_ID)),
        RawRecord(
            "gitlab_merge_requests",
            merge_request(
                1003,
                3,
                "Tidy CI config",
                "ana",
                gl_ts(6, "09:00"),
                branch="ana/tidy-ci",
                merged=gl_ts(6, "11:00"),
            ),
            str(PROJECT_ID),
        ),
        RawRecord(
            "gitlab_merge_requests",
            merge_request(
                1004,
                4,
                "Update dependency httpx to v0.28",
                "renovate-bot",
                gl_ts(6, "03:00"),
                branch="renovate/httpx-0.x",
                merged=gl_ts(6, "10:00"),
            ),
            str(PROJECT_ID),
        ),
        RawRecord(
            "gitlab_merge_requests",
            merge_request(
                1005,
                5,
                "Refund reports",
                "ana",
                gl_ts(7, "09:00"),
                branch="ana/refund-reports",
                description="Part of PAY-1",
                draft=True,
            ),
            str(PROJECT_ID),
        ),
        # MR 1001
        commit(1001, 1, "Add refund endpoint", gl_ts(5, "08:00")),
        commit(1001, 2, "Address review feedback", gl_ts(5, "14:00")),
        note(1, 1001, "gitlab-bot", "Thanks for the MR! Please add a changelog entry.", gl_ts(5, "09:01")),
        note(2, 1001, "ana", "marked this merge request as **ready**", gl_ts(5, "11:00"), system=True),
        note(3, 1001, "ana", "requested review from @cy", gl_ts(5, "11:00"), system=True),
        note(4, 1001, "cy", "Could we add a test for the empty case?", gl_ts(5, "13:00")),
        note(5, 1001, "ana", "Added a test.", gl_ts(5, "13:30")),
        note(6, 1001, "cy", "nit: naming", gl_ts(5, "14:30")),
        note(7, 1001, "cy", "approved this merge request", gl_ts(5, "15:00"), system=True),
        # MR 1002: the author talks to and approves themself
        commit(1002, 3, "Send refund emails", gl_ts(5, "09:30")),
        note(8, 1002, "bo", "Self-check: templates render.", gl_ts(5, "10:30")),
        note(9, 1002, "bo", "approved this merge request", gl_ts(5, "11:30"), system=True),
        # MR 1003: the commit mentions CHK-1 but CHK is not a loaded Jira project
        commit(1003, 4, "Tidy CI config\n\nSame change as CHK-1 in the checkout repo", gl_ts(6, "08:30")),
        note(10, 1003, "cy", "LGTM", gl_ts(6, "10:00")),
        # MR 1004: renovate
        commit(1004, 5, "Update dependency httpx to v0.28", gl_ts(6, "03:00")),
        # MR 1005: draft, never ready
        commit(1005, 6, "WIP reports", gl_ts(7, "08:00")),
        # MR 1006: opened Friday 2026-01-02 17:00, first review Monday 2026-01-05 10:00, still open
        RawRecord(
            "gitlab_merge_requests",
            merge_request(1006, 6, "Export refunds", "bo", "2026-01-02T17:00:00.000Z", branch="bo/export"),
            str(PROJECT_ID),
        ),
        commit(1006, 7, "Export refunds", "2026-01-02T16:00:00.000Z"),
        note(11, 1006, "cy", "Looks good, one question inline.", gl_ts(5, "10:00")),
    ]
    deployment = {
        "id": 9001,
        "iid": 1,
        "ref": "main",
        "sha": f"{1002:040x}",
        "status": "success",
        "created_at": gl_ts(5, "17:20"),
        "updated_at": gl_ts(5, "17:30"),
        "finished_at": gl_ts(5, "17:30"),
        "user": USERS["ana"],
        "environment": {"id": 1, "name": "production", "slug": "production", "tier": "production"},
        "deployable": {
            "id": 777,
            "status": "success",
            "name": "deploy-production",
            "pipeline": {"id": 555, "sha": f"{1002:040x}", "ref": "main", "status": "success"},
        },
    }
    recs.append(RawRecord("gitlab_deployments", deployment, str(PROJECT_ID)))
    recs += [RawRecord("gitlab_deployment_merge_requests", mr, parent_id="9001") for mr in (mr_1001, mr_1002)]
    return recs


def jira_records() -> list[RawRecord]:
    recs: list[RawRecord] = []
    for n, (issue_id, key, done_day) in enumerate(
        (("2001", "PAY-1", 6), ("2002", "PAY-2", 6), ("2003", "PAY-3", 7)), start=1
    ):
        recs += [
            issue(
                issue_id,
                key,
                "Done",
                jira_ts(5, "08:00"),
                team="Payments",
                updated=jira_ts(done_day, "12:00"),
            ),
            history(f"{n}1", issue_id, jira_ts(5, "08:00"), status("To Do", "In Progress")),
            history(f"{n}2", issue_id, jira_ts(done_day, "12:00"), status("In Progress", "Done")),
        ]
    recs += [
        issue(
            "2004", "PAY-4", "In Progress", jira_ts(5, "08:00"), team="Payments", updated=jira_ts(5, "09:00")
        ),
        history("41", "2004", jira_ts(5, "09:00"), status("To Do", "In Progress")),
    ]
    return recs


def prepare_in_background(prep: Preparation) -> None:
    """Load the hand-written documents and build (starts with the session, see tests/conftest.py)."""
    warehouse = prep.warehouse()
    summary = warehouse.load([*jira_records(), *gitlab_records()])
    assert summary.rejected == 0
    warehouse.dbt("build", *upstream_of(*MARTS), *VARS)


@pytest.fixture(scope="module")
def built(prepared) -> None:
    return prepared


def _merge_requests(query) -> dict[str, dict[str, Any]]:
    rows = query("select * from marts.fct_merge_requests")
    return {row["merge_request_id"]: row for row in rows}


def test_draft_mr_review_timeline(built, query) -> None:
    mr = _merge_requests(query)["1001"]
    assert mr["team_id"] == "payments"
    assert mr["is_started_as_draft"] is True
    # coding: first commit 08:00 -> ready 11:00 = 3 h (not created_at 09:00: it was a draft until 11:00)
    assert mr["coding_time_hours"] == Decimal("3")
    assert mr["coding_started_from"] == "first_commit"
    # pickup: ready 11:00 -> cy's first comment 13:00 = 2 h
    # (the bot's 09:01 note and the author's own notes don't count)
    assert mr["review_pickup_hours"] == Decimal("2")
    assert mr["first_reviewer_username"] == "cy"
    # review: 13:00 -> merged 16:00 = 3 h
    assert mr["review_duration_hours"] == Decimal("3")
    # rounds: commit 08:00 | cy 13:00 (round 1) | commit 14:00 | cy 14:30 (round 2),
    # approve 15:00 (same round)
    assert mr["review_rounds"] == 2
    # merged 16:00 -> deployment finished 17:30 = 1.5 h, from GitLab's deployment relation
    assert mr["merge_to_deploy_hours"] == Decimal("1.5")
    assert (mr["production_deployment_id"], mr["deployment_match_method"]) == ("9001", "deployment_relation")
    # 30 + 10 lines; cy approved; one reviewer; not merged without review
    assert mr["size_lines"] == 40
    assert (mr["approvers"], mr["approver_count"], mr["reviewer_count"]) == ("cy", 1, 1)
    assert mr["is_merged_without_review"] is False
    assert mr["is_self_approved"] is False
    # coding start 08:00 -> merged 16:00 = 8 h
    assert mr["cycle_time_hours"] == Decimal("8")


def test_self_reviewed_mr_is_merged_without_review(built, query) -> None:
    mr = _merge_requests(query)["1002"]
    assert mr["is_started_as_draft"] is False
    assert mr["is_merged_without_review"] is True
    assert mr["is_self_approved"] is True
    assert mr["approvers"] == "bo"
    assert (mr["approver_count"], mr["reviewer_count"], mr["review_rounds"]) == (0, 0, 0)
    # ready = created 10:00; no review: no pickup (issue 11: pickup is measured on reviewed MRs only; it used
    # to end at the merge, 2 h) and no review duration
    assert mr["review_pickup_hours"] is None
    assert mr["review_duration_hours"] is None
    # coding 09:30 -> 10:00 = 0.5 h; merged 12:00 -> deployed 17:30 = 5.5 h
    assert mr["coding_time_hours"] == Decimal("0.5")
    assert mr["merge_to_deploy_hours"] == Decimal("5.5")


def test_other_merge_requests(built, query) -> None:
    mrs = _merge_requests(query)
    # 1003: ready = created Tue 09:00, cy 10:00 -> pickup 1 h; merged 11:00 -> review 1 h; not deployed
    assert mrs["1003"]["review_pickup_hours"] == Decimal("1")
    assert mrs["1003"]["review_duration_hours"] == Decimal("1")
    assert mrs["1003"]["deployed_at"] is None
    assert mrs["1003"]["is_linked_to_issue"] is False
    assert mrs["1004"]["is_bot_author"] is True
    # 1005: opened as a draft and never marked ready: no ready_at, no pickup
    assert mrs["1005"]["is_started_as_draft"] is True
    assert mrs["1005"]["ready_at"] is None
    assert mrs["1005"]["review_pickup_hours"] is None
    assert mrs["1001"]["is_bot_author"] is False


def test_working_hours_skip_nights_and_weekends(built, query) -> None:
    mrs = _merge_requests(query)
    # Mon-Fri 09:00-18:00 UTC (dbt vars). 1001: 11:00 -> 13:00 Monday = 2 working hours of 2 wall-clock hours
    assert mrs["1001"]["review_pickup_working_hours"] == Decimal("2")
    # 1001 review 13:00 -> 16:00 = 3 working hours
    assert mrs["1001"]["review_duration_working_hours"] == Decimal("3")
    # 1004 (Renovate): ready Tue 03:00, merged unreviewed 10:00: no pickup since issue 11 (it used to be 7
    # wall-clock hours, 09:00-10:00 = 1 working hour)
    assert mrs["1004"]["review_pickup_hours"] is None
    assert mrs["1004"]["review_pickup_working_hours"] is None
    # 1006: Fri 17:00 -> Mon 10:00 = 65 wall-clock hours; Fri 17-18 + Mon 09-10 = 2 working hours
    assert mrs["1006"]["review_pickup_hours"] == Decimal("65")
    assert mrs["1006"]["review_pickup_working_hours"] == Decimal("2")
    assert mrs["1006"]["review_duration_working_hours"] is None  # not merged


def test_issue_links_record_source_and_confidence(built, query) -> None:
    rows = query(
        "select issue_key, merge_request_id, link_source, link_sources, confidence, issue_id "
        "from marts.fct_issue_merge_request_links order by issue_key, merge_request_id"
    )
    assert [
        (r["issue_key"], r["merge_request_id"], r["link_source"], r["confidence"], r["issue_id"])
        for r in rows
    ] == [
        ("PAY-1", "1001", "branch", "high", "2001"),  # only in the branch, lower case
        ("PAY-1", "1005", "description", "medium", "2001"),
        ("PAY-2", "1002", "title", "high", "2002"),
    ]
    # CHK-1 in 1003's commit is ignored: CHK is not a loaded Jira project
    assert all(r["issue_key"] != "CHK-1" for r in rows)
    assert _merge_requests(query)["1001"]["linked_issue_keys"] == "PAY-1"


def test_work_linkage_week(built, query) -> None:
    rows = query("select * from marts.fct_work_linkage where team_id = 'payments'")
    assert len(rows) == 1
    week = rows[0]
    assert str(week["week_start_date"]) == "2026-01-05"
    # done: PAY-1, PAY-2, PAY-3; PAY-3 has no MR -> 1/3
    assert (week["done_issue_count"], week["unlinked_done_issue_count"]) == (3, 1)
    assert week["unlinked_work_share"] == Decimal("0.3333")
    assert week["unlinked_issue_keys"] == "PAY-3"
    # merged human MRs: 1001, 1002, 1003 (1004 is Renovate's); 1003 has no key -> 1/3
    assert (week["merged_merge_request_count"], week["unlinked_merge_request_count"]) == (3, 1)
    assert week["unlinked_merge_request_ids"] == "1003"
