"""Flow-metric edge cases of issue 11, end to end: small hand-written Jira (and GitLab) histories go
through the real loader and the real dbt build, and the marts are checked against numbers computed BY HAND
(arithmetic in the comments). Week of Monday 2026-01-05; as_of Saturday 2026-01-10 00:00 UTC.
Definitions: docs/metrics.md.

Each team holds one story, so each hand computation stays small:
* lifecycle-team: a status change before `created` (defect 1), done issues without a done entry (defect 2);
* rework-team: Resolved -> Closed, Done -> Won't Do, Done -> In Progress -> Done;
* review-team: review waits from merge requests, a "Ready for Review" queue, a flag inside a review wait;
* sprint-team / blocked-team: history truncated by the start of the loaded data, a running sprint;
* ops-team: incidents beside work in throughput, WIP and the team week.

The loaded Jira history begins at its earliest changelog change: EDG-1's change, Monday 09:00.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.dbt.test_flow_metrics import flag, history, issue, jira_ts, status, utc
from tests.support import Preparation, upstream_of
from warehouse.dbt_vars import vars_args
from warehouse.records import RawRecord

AS_OF = "2026-01-10T00:00:00+00:00"
VARS = vars_args(as_of=AS_OF)
# what these tests read: only these models and their upstream are built (with their data and unit tests)
MODELS = (
    "fct_issue_lifecycle",
    "fct_issue_status_intervals",
    "fct_throughput_daily",
    "fct_wip_daily",
    "fct_wip_current",
    "fct_sprint_performance",
    "fct_blocked_intervals",
    "fct_metric_observations",
    "fct_team_weekly_metrics",
)
BUILD = ("build", *upstream_of(*MODELS), *VARS)
HISTORY_START = utc(5, "09:00")
GITLAB_PROJECT_ID = 71
USERS = {
    "ana": {"id": 1, "username": "ana", "name": "Ana"},
    "bo": {"id": 2, "username": "bo", "name": "Bo"},
    "cy": {"id": 3, "username": "cy", "name": "Cy"},
    "renovate-bot": {"id": 90001, "username": "renovate-bot", "name": "Renovate"},
}


def edge_issue(
    issue_id: str,
    key: str,
    current_status: str,
    created: str,
    *,
    team: str,
    updated: str | None = None,
    resolved: str | None = None,
    issue_type: str = "Story",
    sprints: list[dict[str, Any]] | None = None,
) -> RawRecord:
    """tests.dbt.test_flow_metrics.issue with a resolutiondate and an issue type."""
    record = issue(issue_id, key, current_status, created, team=team, updated=updated, sprints=sprints)
    record.payload["fields"]["resolutiondate"] = resolved
    record.payload["fields"]["issuetype"] = {"name": issue_type}
    return record


def gl_ts(day: int, hhmm: str) -> str:
    return f"2026-01-{day:02d}T{hhmm}:00.000Z"


def merge_request(mr_id: int, iid: int, title: str, author: str, created: str, merged: str) -> RawRecord:
    doc = {
        "id": mr_id,
        "iid": iid,
        "project_id": GITLAB_PROJECT_ID,
        "title": title,
        "description": "",
        "state": "merged",
        "draft": False,
        "work_in_progress": False,
        "source_branch": f"{author}/change-{iid}",
        "target_branch": "main",
        "author": USERS[author],
        "created_at": created,
        "updated_at": merged,
        "merged_at": merged,
        "closed_at": None,
        "merge_commit_sha": f"{mr_id:040x}",
        "sha": f"{mr_id + 1:040x}",
        "labels": [],
        "reviewers": [],
        "web_url": f"https://gitlab.example/acme/review-team/app/-/merge_requests/{iid}",
        "diff_stats": {"additions": 10, "deletions": 2, "file_count": 1},
    }
    return RawRecord("gitlab_merge_requests", doc, str(GITLAB_PROJECT_ID))


def review_note(note_id: int, mr_id: int, author: str, at: str) -> RawRecord:
    doc = {
        "id": note_id,
        "type": "DiffNote",
        "body": "One question inline.",
        "author": USERS[author],
        "created_at": at,
        "updated_at": at,
        "system": False,
        "noteable_id": mr_id,
        "noteable_type": "MergeRequest",
    }
    return RawRecord("gitlab_mr_notes", doc, parent_id=str(mr_id))


def gitlab_project() -> RawRecord:
    return RawRecord(
        "gitlab_projects",
        {
            "id": GITLAB_PROJECT_ID,
            "name": "app",
            "path": "app",
            "path_with_namespace": "acme/review-team/app",
            "namespace": {
                "id": 710,
                "name": "Review Team",
                "path": "review-team",
                "full_path": "acme/review-team",
            },
            "web_url": "https://gitlab.example/acme/review-team/app",
            "created_at": gl_ts(1, "09:00"),
            "last_activity_at": gl_ts(8, "11:00"),
        },
    )


def sprint(sprint_id: int, state: str, start: str, end: str, complete: str | None) -> RawRecord:
    doc = {
        "id": sprint_id,
        "self": f"https://x/rest/agile/1.0/sprint/{sprint_id}",
        "state": state,
        "name": f"Edge Sprint {sprint_id}",
        "startDate": start,
        "endDate": end,
        "originBoardId": 9,
    }
    if complete:
        doc["completeDate"] = complete
    return RawRecord("jira_sprints", doc, parent_id="9")


def lifecycle_records() -> list[RawRecord]:
    team = "Lifecycle Team"
    return [
        # EDG-1 (defect 1): created Mon 12:00, but its first change (To Do -> In Progress) is
        # stamped Mon 09:00
        # (an import / project move); Done Tue 09:00.
        edge_issue("8001", "EDG-1", "Done", jira_ts(5, "12:00"), team=team, updated=jira_ts(6, "09:00")),
        history("80011", "8001", jira_ts(5, "09:00"), status("To Do", "In Progress")),
        history("80012", "8001", jira_ts(6, "09:00"), status("In Progress", "Done")),
        # EDG-2 (defect 2): created Done (no status history), resolutiondate Wed 15:00, updated Thu 10:00.
        edge_issue(
            "8002",
            "EDG-2",
            "Done",
            jira_ts(5, "09:00"),
            team=team,
            resolved=jira_ts(7, "15:00"),
            updated=jira_ts(8, "10:00"),
        ),
        # EDG-3 (defect 2): the same without a resolutiondate; updated Thu 10:00.
        edge_issue("8003", "EDG-3", "Done", jira_ts(5, "09:00"), team=team, updated=jira_ts(8, "10:00")),
        # EDG-20: created Mon Dec 29, resolved Tue Dec 30, no status history: done before the loaded history.
        edge_issue(
            "8020",
            "EDG-20",
            "Done",
            "2025-12-29T09:00:00.000+0000",
            team=team,
            resolved="2025-12-30T09:00:00.000+0000",
            updated="2025-12-30T09:00:00.000+0000",
        ),
    ]


def rework_records() -> list[RawRecord]:
    team = "Rework Team"
    recs: list[RawRecord] = []
    # EDG-4: In Progress Mon 10:00, Resolved Tue 10:00, renamed Closed Wed 10:00.
    recs += [
        edge_issue("8004", "EDG-4", "Closed", jira_ts(5, "09:00"), team=team, updated=jira_ts(7, "10:00")),
        history("80041", "8004", jira_ts(5, "10:00"), status("To Do", "In Progress")),
        history("80042", "8004", jira_ts(6, "10:00"), status("In Progress", "Resolved")),
        history("80043", "8004", jira_ts(7, "10:00"), status("Resolved", "Closed")),
    ]
    # EDG-5: In Progress Mon 10:00, Done Tue 10:00, Won't Do Wed 10:00 (done, then cancelled).
    recs += [
        edge_issue("8005", "EDG-5", "Won't Do", jira_ts(5, "09:00"), team=team, updated=jira_ts(7, "10:00")),
        history("80051", "8005", jira_ts(5, "10:00"), status("To Do", "In Progress")),
        history("80052", "8005", jira_ts(6, "10:00"), status("In Progress", "Done")),
        history("80053", "8005", jira_ts(7, "10:00"), status("Done", "Won't Do")),
    ]
    # EDG-6: In Progress Mon 10:00, Done Tue 10:00, reopened In Progress Wed 10:00, Done Thu 10:00.
    recs += [
        edge_issue("8006", "EDG-6", "Done", jira_ts(5, "09:00"), team=team, updated=jira_ts(8, "10:00")),
        history("80061", "8006", jira_ts(5, "10:00"), status("To Do", "In Progress")),
        history("80062", "8006", jira_ts(6, "10:00"), status("In Progress", "Done")),
        history("80063", "8006", jira_ts(7, "10:00"), status("Done", "In Progress")),
        history("80064", "8006", jira_ts(8, "10:00"), status("In Progress", "Done")),
    ]
    return recs


def review_records() -> list[RawRecord]:
    team = "Review Team"
    recs: list[RawRecord] = [gitlab_project()]
    # EDG-7: In Progress Mon 10:00, In Review Tue 10:00, Done Thu 10:00. Its merge requests:
    #   A ready Tue 10:00, first review Wed 16:00, merged Thu 09:00 -> waits Tue 10:00-Wed 16:00
    #   B ready Tue 14:00, first review Tue 18:00, merged Wed 09:00 -> waits inside A's wait
    #   C by renovate-bot, ready Mon 12:00, never reviewed, merged Thu 08:00 -> a bot MR: not a review wait
    recs += [
        edge_issue("8007", "EDG-7", "Done", jira_ts(5, "09:00"), team=team, updated=jira_ts(8, "10:00")),
        history("80071", "8007", jira_ts(5, "10:00"), status("To Do", "In Progress")),
        history("80072", "8007", jira_ts(6, "10:00"), status("In Progress", "In Review")),
        history("80073", "8007", jira_ts(8, "10:00"), status("In Review", "Done")),
        merge_request(7001, 1, "EDG-7: Pay by link", "ana", gl_ts(6, "10:00"), gl_ts(8, "09:00")),
        review_note(70011, 7001, "cy", gl_ts(7, "16:00")),
        merge_request(7002, 2, "EDG-7: Pay by link, part 2", "ana", gl_ts(6, "14:00"), gl_ts(7, "09:00")),
        review_note(70021, 7002, "cy", gl_ts(6, "18:00")),
        merge_request(
            7003, 3, "EDG-7 Update dependency httpx", "renovate-bot", gl_ts(5, "12:00"), gl_ts(8, "08:00")
        ),
    ]
    # EDG-8: In Progress Mon 10:00, Ready for Review Tue 10:00, Code Review Wed 10:00, Done Thu 10:00; no MR.
    recs += [
        edge_issue("8008", "EDG-8", "Done", jira_ts(5, "09:00"), team=team, updated=jira_ts(8, "10:00")),
        history("80081", "8008", jira_ts(5, "10:00"), status("To Do", "In Progress")),
        history("80082", "8008", jira_ts(6, "10:00"), status("In Progress", "Ready for Review")),
        history("80083", "8008", jira_ts(7, "10:00"), status("Ready for Review", "Code Review")),
        history("80084", "8008", jira_ts(8, "10:00"), status("Code Review", "Done")),
    ]
    # EDG-9: In Progress Mon 10:00, Code Review Tue 10:00, Done Thu 10:00; MR D ready Tue 10:00, first review
    # Wed 10:00, merged Wed 20:00; flagged Wed 06:00-14:00 (overlapping the wait Wed 06:00-10:00).
    recs += [
        edge_issue("8009", "EDG-9", "Done", jira_ts(5, "09:00"), team=team, updated=jira_ts(8, "10:00")),
        history("80091", "8009", jira_ts(5, "10:00"), status("To Do", "In Progress")),
        history("80092", "8009", jira_ts(6, "10:00"), status("In Progress", "Code Review")),
        history("80093", "8009", jira_ts(7, "06:00"), flag(True)),
        history("80094", "8009", jira_ts(7, "14:00"), flag(False)),
        history("80095", "8009", jira_ts(8, "10:00"), status("Code Review", "Done")),
        merge_request(7004, 4, "EDG-9: Refund fees", "bo", gl_ts(6, "10:00"), gl_ts(7, "20:00")),
        review_note(70041, 7004, "cy", gl_ts(7, "10:00")),
    ]
    return recs


def partial_history_records() -> list[RawRecord]:
    recs: list[RawRecord] = [
        # 701 started Fri Jan 2, before the loaded history begins (Mon 09:00): truncated
        sprint(701, "closed", jira_ts(2, "09:00"), jira_ts(9, "17:00"), jira_ts(9, "17:00")),
        # 702 started Mon 12:00 and is still running (active, ends after as_of)
        sprint(702, "active", jira_ts(5, "12:00"), jira_ts(16, "17:00"), None),
        # 703 started Mon 12:00, completed Fri 12:00: scored
        sprint(703, "closed", jira_ts(5, "12:00"), jira_ts(9, "12:00"), jira_ts(9, "12:00")),
    ]
    team = "Sprint Team"
    field = {701: "closed", 702: "active", 703: "closed"}

    def in_sprint(sprint_id: int) -> list[dict[str, Any]]:
        return [
            {"id": sprint_id, "name": f"Edge Sprint {sprint_id}", "state": field[sprint_id], "boardId": 9}
        ]

    # EDG-13 in 701 since created (Jan 1), Done Thu 10:00; EDG-14 in 702 since Mon 10:00, In Progress
    # (never changed); EDG-12 in 703 since Mon 10:00, Done Thu 10:00.
    recs += [
        edge_issue("8013", "EDG-13", "Done", jira_ts(1, "09:00"), team=team, sprints=in_sprint(701)),
        history("80131", "8013", jira_ts(8, "10:00"), status("In Progress", "Done")),
        edge_issue("8014", "EDG-14", "In Progress", jira_ts(5, "10:00"), team=team, sprints=in_sprint(702)),
        edge_issue("8012", "EDG-12", "Done", jira_ts(5, "10:00"), team=team, sprints=in_sprint(703)),
        history("80121", "8012", jira_ts(8, "10:00"), status("In Progress", "Done")),
    ]
    team = "Blocked Team"
    # EDG-11: created Mon Dec 29; its only loaded change leaves Blocked on Tue 10:00, so it is *assumed*
    # blocked
    # since created: a window truncated by the history start. EDG-15: Blocked Tue 11:00 -> Thu 11:00 (48 h,
    # nobody acts), inside the loaded history.
    recs += [
        edge_issue("8011", "EDG-11", "In Progress", "2025-12-29T09:00:00.000+0000", team=team),
        history("80111", "8011", jira_ts(6, "10:00"), status("Blocked", "In Progress")),
        edge_issue("8015", "EDG-15", "In Progress", jira_ts(5, "10:00"), team=team),
        history("80151", "8015", jira_ts(5, "11:00"), status("To Do", "In Progress")),
        history("80152", "8015", jira_ts(6, "11:00"), status("In Progress", "Blocked")),
        history("80153", "8015", jira_ts(8, "11:00"), status("Blocked", "In Progress")),
    ]
    return recs


def ops_records() -> list[RawRecord]:
    team = "Ops Team"
    return [
        # EDG-16 incident: Open Tue 09:00, Investigating Tue 10:00, Resolved Wed 10:00.
        edge_issue("8016", "EDG-16", "Resolved", jira_ts(6, "09:00"), team=team, issue_type="Incident"),
        history("80161", "8016", jira_ts(6, "10:00"), status("Open", "Investigating")),
        history("80162", "8016", jira_ts(7, "10:00"), status("Investigating", "Resolved")),
        # EDG-17 incident: Open Thu 09:00, Investigating Thu 10:00, still open.
        edge_issue("8017", "EDG-17", "Investigating", jira_ts(8, "09:00"), team=team, issue_type="Incident"),
        history("80171", "8017", jira_ts(8, "10:00"), status("Open", "Investigating")),
        # EDG-18 story: In Progress since created Mon 10:00 (no change); EDG-19 story: In Progress Mon 11:00,
        # Done Wed 12:00.
        edge_issue("8018", "EDG-18", "In Progress", jira_ts(5, "10:00"), team=team),
        edge_issue("8019", "EDG-19", "Done", jira_ts(5, "10:00"), team=team, updated=jira_ts(7, "12:00")),
        history("80191", "8019", jira_ts(5, "11:00"), status("To Do", "In Progress")),
        history("80192", "8019", jira_ts(7, "12:00"), status("In Progress", "Done")),
    ]


def records() -> list[RawRecord]:
    return [
        *lifecycle_records(),
        *rework_records(),
        *review_records(),
        *partial_history_records(),
        *ops_records(),
    ]


def prepare_in_background(prep: Preparation) -> None:
    """Load the hand-written histories and build (starts with the session, see tests/conftest.py). The build
    itself is the first check: before the fix, EDG-1 failed the error test
    `cycle_time_hours <= lead_time_hours`."""
    warehouse = prep.warehouse()
    summary = warehouse.load(records(), source="synthetic")
    assert summary.rejected == 0
    warehouse.dbt(*BUILD)


@pytest.fixture(scope="module")
def built(prepared) -> None:
    return prepared


def lifecycle(query, key: str) -> dict[str, Any]:
    rows = query("select * from marts.fct_issue_lifecycle where issue_key = %s", (key,))
    assert len(rows) == 1, rows
    return rows[0]


def by_day(query, table: str, team: str) -> dict[str, dict[str, Any]]:
    return {str(r["date_day"]): r for r in query(f"select * from marts.{table} where team_id = %s", (team,))}


def test_history_starts_at_the_earliest_changelog_change(built, query) -> None:
    assert query("select * from intermediate.int_jira_history_start_derived") == [
        {
            "history_start_id": "jira",
            "history_started_at": HISTORY_START,  # EDG-1's change, Mon 09:00
            "history_start_source": "earliest changelog change",
        }
    ]


def test_change_before_created_starts_the_life_and_the_lead_time(built, query) -> None:
    row = lifecycle(query, "EDG-1")
    assert row["created_at"] == utc(5, "12:00")  # as Jira says
    assert row["life_started_at"] == utc(5, "09:00")  # the earlier of created and the first change
    assert row["started_at"] == utc(5, "09:00")
    assert row["done_at"] == utc(6, "09:00")
    # cycle = Mon 09:00 -> Tue 09:00 = 24 h; lead = life start Mon 09:00 -> Tue 09:00 = 24 h
    # (before: lead from created Mon 12:00 = 21 h < cycle 24 h, the error test failed and the build stopped)
    assert row["cycle_time_hours"] == Decimal("24")
    assert row["lead_time_hours"] == Decimal("24")
    intervals = query(
        "select status, started_at, hours from marts.fct_issue_status_intervals "
        "where issue_id = '8001' order by interval_seq"
    )
    # interval 0 (To Do) starts at the change, not at created: 0 h, never negative
    assert [(r["status"], r["started_at"], r["hours"]) for r in intervals] == [
        ("To Do", utc(5, "09:00"), Decimal("0")),
        ("In Progress", utc(5, "09:00"), Decimal("24")),
        ("Done", utc(6, "09:00"), Decimal("87")),  # Tue 09:00 -> Sat 00:00 = 15 + 72
    ]


def test_done_without_a_done_entry_falls_back_to_resolutiondate_then_updated(built, query) -> None:
    edg2, edg3 = lifecycle(query, "EDG-2"), lifecycle(query, "EDG-3")
    # EDG-2: resolutiondate Wed 15:00; lead = Mon 09:00 -> Wed 15:00 = 48 + 6 = 54 h (before: done =
    # created, 0 h)
    assert (edg2["done_at"], edg2["done_at_source"]) == (utc(7, "15:00"), "resolutiondate")
    assert edg2["lead_time_hours"] == Decimal("54")
    assert edg2["started_at"] is None and edg2["cycle_time_hours"] is None  # never seen in progress
    # EDG-3: no resolutiondate -> updated Thu 10:00; lead = Mon 09:00 -> Thu 10:00 = 72 + 1 = 73 h
    assert (edg3["done_at"], edg3["done_at_source"]) == (utc(8, "10:00"), "updated")
    assert edg3["lead_time_hours"] == Decimal("73")
    days = by_day(query, "fct_throughput_daily", "lifecycle-team")
    # EDG-1 Tue, EDG-2 Wed, EDG-3 Thu; nothing on their creation day (before: EDG-2 and EDG-3 on Mon)
    assert [
        days[d]["issues_completed"] for d in ("2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08")
    ] == [
        0,
        1,
        1,
        1,
    ]


def test_done_before_the_history_is_not_observed(built, query) -> None:
    edg20 = lifecycle(query, "EDG-20")
    # a fallback done (resolutiondate Tue Dec 30) before the history start (Mon Jan 5 09:00): still done
    # work with a
    # lead time (Dec 29 09:00 -> Dec 30 09:00 = 24 h), but never an observation (evidence) of the diagnosis
    assert (edg20["done_at"], edg20["is_done_work"], edg20["lead_time_hours"]) == (
        datetime(2025, 12, 30, 9, tzinfo=UTC),
        True,
        Decimal("24"),
    )
    observed = query(
        "select item_id from marts.fct_metric_observations "
        "where metric_name = 'issue_reworked' and team_id = 'lifecycle-team' order by 1"
    )
    assert observed == [{"item_id": "8001"}, {"item_id": "8002"}, {"item_id": "8003"}]


def test_rename_between_done_statuses_and_cancelling_are_not_rework(built, query) -> None:
    edg4, edg5, edg6 = (lifecycle(query, key) for key in ("EDG-4", "EDG-5", "EDG-6"))
    # EDG-4: Resolved Tue 10:00 -> Closed Wed 10:00: done at the FIRST entry of the final done run, Tue 10:00
    # (before: Wed 10:00); cycle Mon 10:00 -> Tue 10:00 = 24 h; no reopen
    assert edg4["done_at"] == utc(6, "10:00")
    assert edg4["cycle_time_hours"] == Decimal("24")
    assert (edg4["reopen_count"], edg4["is_reworked"]) == (0, False)
    # EDG-5: Done -> Won't Do: not done now, and not rework (before: reopen_count 1)
    assert edg5["done_at"] is None and edg5["is_done_work"] is False
    assert (edg5["reopen_count"], edg5["is_reworked"]) == (0, False)
    # EDG-6: Done -> In Progress -> Done is rework: one reopen, done at the last entry Thu 10:00
    assert (edg6["reopen_count"], edg6["is_reworked"], edg6["done_at"]) == (1, True, utc(8, "10:00"))
    days = by_day(query, "fct_throughput_daily", "rework-team")
    assert (days["2026-01-06"]["issues_completed"], days["2026-01-06"]["reworked_completed"]) == (
        1,
        0,
    )  # EDG-4
    assert days["2026-01-07"]["issues_completed"] == 0  # (before: EDG-4 counted on its Closed day)
    assert (days["2026-01-08"]["issues_completed"], days["2026-01-08"]["rework_rate"]) == (1, Decimal("1"))


def test_review_waits_are_not_active_time(built, query) -> None:
    edg7 = lifecycle(query, "EDG-7")
    # cycle Mon 10:00 -> Thu 10:00 = 72 h, all of it In Progress (24 h) or In Review (48 h).
    # Waits: A Tue 10:00 -> Wed 16:00 (30 h) U B Tue 14:00 -> Tue 18:00 (inside A) = 30 h; the bot MR C
    # is not a
    # wait. Active = 72 - 30 = 42 h; flow efficiency 42 / 72 = 0.58333 (before: 72 / 72 = 1)
    assert edg7["cycle_time_hours"] == Decimal("72")
    assert edg7["review_wait_hours"] == Decimal("30")
    assert edg7["active_hours"] == Decimal("42")
    assert edg7["flow_efficiency"] == Decimal("0.5833")


def test_ready_for_review_is_a_queue_not_work(built, query) -> None:
    edg8 = lifecycle(query, "EDG-8")
    # In Progress 24 h + Ready for Review (waiting) 24 h + Code Review 24 h = 72 h cycle;
    # active = 24 + 24 = 48 h -> 48 / 72 = 0.6667 (before: Ready for Review was review: 1)
    intervals = query(
        "select status, status_category from marts.fct_issue_status_intervals "
        "where issue_id = '8008' order by interval_seq"
    )
    assert [r["status_category"] for r in intervals] == ["todo", "in_progress", "waiting", "review", "done"]
    assert (edg8["active_hours"], edg8["review_wait_hours"]) == (Decimal("48"), Decimal("0"))
    assert edg8["flow_efficiency"] == Decimal("0.6667")


def test_a_flag_inside_a_review_wait_counts_once(built, query) -> None:
    edg9 = lifecycle(query, "EDG-9")
    # wait Tue 10:00 -> Wed 10:00 (24 h) U flag Wed 06:00 -> Wed 14:00 (8 h) = Tue 10:00 -> Wed 14:00 =
    # 28 h, all in
    # Code Review; active = 72 - 28 = 44 h -> 44 / 72 = 0.6111 (before: 72 - 8 = 64 -> 0.8889)
    assert edg9["review_wait_hours"] == Decimal("24")
    assert edg9["blocked_hours"] == Decimal("8")
    assert edg9["active_hours"] == Decimal("44")
    assert edg9["flow_efficiency"] == Decimal("0.6111")
    week = query(
        "select flow_efficiency_p50, flow_efficiency_n from marts.fct_team_weekly_metrics "
        "where team_id = 'review-team' and week_start_date = '2026-01-05'"
    )
    # median of 0.5833, 0.6111, 0.6667 = 0.6111 (before: median of 1, 0.8889, 1 = 1)
    assert week == [{"flow_efficiency_p50": Decimal("0.6111"), "flow_efficiency_n": 3}]


def test_sprints_truncated_by_history_or_running_are_not_scored(built, query) -> None:
    rows = {
        r["sprint_id"]: r
        for r in query(
            "select sprint_id, is_running, is_truncated_by_history_start, committed_count, "
            "completed_committed_count, planning_accuracy from marts.fct_sprint_performance"
        )
    }
    # 701 started Fri Jan 2 < history start Mon 09:00: counts shown (EDG-13 committed and done), not scored
    assert rows["701"] == {
        "sprint_id": "701",
        "is_running": False,
        "is_truncated_by_history_start": True,
        "committed_count": 1,
        "completed_committed_count": 1,
        "planning_accuracy": None,
    }
    # 702 is active and ends Jan 16 > as_of: EDG-14 committed, not done yet -> not scored (before: 0.0)
    assert (rows["702"]["is_running"], rows["702"]["committed_count"], rows["702"]["planning_accuracy"]) == (
        True,
        1,
        None,
    )
    # 703: over and inside the history: EDG-12 committed and done -> 1 / 1
    assert (rows["703"]["is_running"], rows["703"]["is_truncated_by_history_start"]) == (False, False)
    assert rows["703"]["planning_accuracy"] == Decimal("1")
    observed = query(
        "select item_id from marts.fct_metric_observations where metric_name = 'planning_accuracy' order by 1"
    )
    assert observed == [{"item_id": "703"}]
    # the sprint-commitment test's trials: one per issue committed at the start of a scored sprint, 1 when it
    # was completed in it; only 703 is scored and EDG-12 (8012) is its one committed issue, done -> [1]
    trials = query(
        "select item_type, item_id, item_label, value from marts.fct_metric_observations "
        "where metric_name = 'committed_issue_completed'"
    )
    assert trials == [
        {
            "item_type": "sprint_issue",
            "item_id": "703:8012",
            "item_label": "EDG-12 in Edge Sprint 703",
            "value": 1,
        }
    ]


def test_blocked_windows_truncated_by_history_are_never_evidence(built, query) -> None:
    windows = {
        r["issue_id"]: r
        for r in query(
            "select issue_id, started_at, ended_at, hours, is_truncated_by_history_start "
            "from marts.fct_blocked_intervals where team_id = 'blocked-team'"
        )
    }
    # EDG-11: assumed Blocked since created Mon Dec 29 09:00 until Tue Jan 6 10:00 = 8 x 24 + 1 = 193 h
    assert windows["8011"]["started_at"] == datetime(2025, 12, 29, 9, tzinfo=UTC)
    assert windows["8011"]["hours"] == Decimal("193")
    assert windows["8011"]["is_truncated_by_history_start"] is True
    # EDG-15: Tue 11:00 -> Thu 11:00 = 48 h, inside the loaded history
    assert (windows["8015"]["hours"], windows["8015"]["is_truncated_by_history_start"]) == (
        Decimal("48"),
        False,
    )
    observed = query(
        "select item_id, value from marts.fct_metric_observations "
        "where metric_name = 'unescalated_blocked_hours' and team_id = 'blocked-team'"
    )
    # only EDG-15's window is observed (48 h with nobody acting); EDG-11's 193 h would have been evidence
    assert observed == [{"item_id": "8015:1", "value": Decimal("48")}]


def test_wip_days_before_the_history_are_marked_and_not_observed(built, query) -> None:
    days = by_day(query, "fct_wip_daily", "blocked-team")
    # the spine starts at the earliest creation (Dec 29); days beginning before Mon Jan 5 09:00 are truncated
    assert days["2026-01-04"]["is_truncated_by_history_start"] is True
    assert days["2026-01-05"]["is_truncated_by_history_start"] is True  # begins 00:00 < 09:00
    assert days["2026-01-06"]["is_truncated_by_history_start"] is False
    first = query(
        "select min(observed_at) as first_observed_at from marts.fct_metric_observations "
        "where metric_name = 'wip_per_engineer'"
    )[0]["first_observed_at"]
    # WIP is observed per team-week (issue 12) and only for weeks wholly inside the history: the only week
    # of this history (Mon Jan 5, as_of Sat Jan 10) has truncated days (Jan 4 is Sunday of the week before,
    # Jan 5 itself is truncated), so no WIP is observed at all
    assert first is None


def test_incidents_are_counted_apart_from_work(built, query) -> None:
    days = by_day(query, "fct_throughput_daily", "ops-team")
    # Wed: EDG-19 (work) and EDG-16 (incident) reach done
    assert (days["2026-01-07"]["issues_completed"], days["2026-01-07"]["incidents_completed"]) == (1, 1)
    wip = by_day(query, "fct_wip_daily", "ops-team")
    # end of Tue: EDG-18, EDG-19 in progress; EDG-16 Investigating (an incident, apart)
    assert (wip["2026-01-06"]["wip_total"], wip["2026-01-06"]["incident_wip"]) == (2, 1)
    # end of Thu: EDG-18; incident EDG-17 Investigating since Thu 10:00
    assert (wip["2026-01-08"]["wip_total"], wip["2026-01-08"]["incident_wip"]) == (1, 1)
    current = query("select issue_key from marts.fct_wip_current where team_id = 'ops-team'")
    assert current == [{"issue_key": "EDG-18"}]  # the open incident EDG-17 is not open work
    week = query(
        "select throughput, incidents_completed, wip_avg, incident_wip_avg "
        "from marts.fct_team_weekly_metrics "
        "where team_id = 'ops-team' and week_start_date = '2026-01-05'"
    )
    # days Mon..Sat (the spine ends on the as_of day): wip_total 2, 2, 1, 1, 1, 1 -> 8 / 6 = 1.3333
    # (before, incidents included: 2, 3, 1, 2, 2, 2 -> 2.0); incident_wip 0, 1, 0, 1, 1, 1 -> 4 / 6 = 0.6667
    assert week == [
        {
            "throughput": 1,
            "incidents_completed": 1,
            "wip_avg": Decimal("1.3333"),
            "incident_wip_avg": Decimal("0.6667"),
        }
    ]
