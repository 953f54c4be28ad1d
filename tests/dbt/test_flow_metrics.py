"""Flow metrics end to end: hand-written Jira histories go through the real loader and the real dbt build,
and the marts are checked against numbers computed BY HAND (the arithmetic is in the comments), never by
the code under test. Week of Monday 2026-01-05; the build's as_of is Saturday 2026-01-10 00:00 UTC.
Definitions: docs/metrics.md."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.support import Preparation, upstream_of
from warehouse.dbt_vars import vars_args
from warehouse.records import RawRecord

AS_OF = "2026-01-10T00:00:00+00:00"
VARS = vars_args(as_of=AS_OF)
# what these tests read: only these models and their upstream are built (with their data and unit tests)
MODELS = (
    "fct_issue_lifecycle",
    "fct_issue_status_intervals",
    "int_status_intervals_derived",
    "fct_blocked_intervals",
    "fct_throughput_daily",
    "fct_wip_daily",
    "fct_wip_current",
    "fct_sprint_performance",
)
BUILD = ("build", *upstream_of(*MODELS), *VARS)
SPRINT_FIELD = "customfield_10020"
FLAGGED_FIELD = "customfield_10021"
TEAM_FIELD = "customfield_10001"


def jira_ts(day: int, hhmm: str, offset: str = "+0000") -> str:
    """Jira's own format, e.g. 2026-01-05T09:00:00.000+0000 (day = day of January 2026; 5 = Monday)."""
    return f"2026-01-{day:02d}T{hhmm}:00.000{offset}"


def utc(day: int, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"2026-01-{day:02d}T{hhmm}:00").replace(tzinfo=UTC)


def issue(
    issue_id: str,
    key: str,
    status: str,
    created: str,
    *,
    team: str | None = "Payments Core",
    flagged: bool = False,
    assignee: bool = True,
    sprints: list[dict[str, Any]] | None = None,
    updated: str | None = None,
) -> RawRecord:
    project = key.split("-")[0]
    fields = {
        "summary": f"{key} summary",
        "status": {"id": "1", "name": status, "statusCategory": {"key": "indeterminate"}},
        "issuetype": {"name": "Story"},
        "project": {"id": str(10000 + sum(map(ord, project))), "key": project, "name": f"{project} project"},
        "assignee": {"accountId": "acc-1", "displayName": "Dev One"} if assignee else None,
        "reporter": {"accountId": "acc-2", "displayName": "PM"},
        "priority": {"name": "Medium"},
        "labels": [],
        "created": created,
        "updated": updated or created,
        "resolutiondate": None,
        SPRINT_FIELD: sprints,
        FLAGGED_FIELD: [{"id": "10019", "value": "Impediment"}] if flagged else None,
        TEAM_FIELD: {"id": "t-" + team, "name": team, "title": team} if team else None,
    }
    return RawRecord(
        "jira_issues", {"id": issue_id, "key": key, "self": f"https://x/{issue_id}", "fields": fields}
    )


def history(history_id: str, issue_id: str, created: str, *items: dict[str, Any]) -> RawRecord:
    return RawRecord(
        "jira_changelogs",
        {"id": history_id, "author": {"accountId": "acc-1"}, "created": created, "items": list(items)},
        parent_id=issue_id,
    )


def status(before: str, after: str) -> dict[str, Any]:
    return {
        "field": "status",
        "fieldtype": "jira",
        "fieldId": "status",
        "from": "1",
        "fromString": before,
        "to": "2",
        "toString": after,
    }


def flag(on: bool) -> dict[str, Any]:
    return {
        "field": "Flagged",
        "fieldtype": "custom",
        "fieldId": FLAGGED_FIELD,
        "from": None,
        "fromString": "" if on else "Impediment",
        "to": None,
        "toString": "Impediment" if on else "",
    }


def sprint_change(before: str, after: str) -> dict[str, Any]:
    return {
        "field": "Sprint",
        "fieldtype": "custom",
        "fieldId": SPRINT_FIELD,
        "from": before,
        "fromString": before,
        "to": after,
        "toString": after,
    }


SPRINT_501 = {
    "id": 501,
    "self": "https://x/rest/agile/1.0/sprint/501",
    "state": "closed",
    "name": "Team Sprint 1",
    "startDate": jira_ts(5, "09:00"),
    "endDate": jira_ts(9, "17:00"),
    "completeDate": jira_ts(9, "17:00"),
    "originBoardId": 7,
    "goal": "",
}
SPRINT_502 = {
    "id": "502",  # ids arrive as numbers or strings
    "self": "https://x/rest/agile/1.0/sprint/502",
    "state": "future",
    "name": "Team Sprint 2",
    "startDate": "2026-01-12T19:00:00.000+10:00",  # = 2026-01-12 09:00 UTC
    "endDate": "2026-01-24T03:00:00.000+10:00",
    "originBoardId": 7,
}


def records() -> list[RawRecord]:
    recs: list[RawRecord] = []
    # PAY-1: created Mon 09:00, In Progress Mon 10:00, flagged Tue 10:00-14:00, Blocked Tue 12:00-Wed 12:00,
    # Code Review Wed 12:00, Done Thu 12:00, reopened (In Progress) Thu 15:00, Done Fri 09:00.
    # Histories are delivered out of order, and the Thu 12:00 Done twice (second history id).
    recs += [
        issue("1001", "PAY-1", "Done", jira_ts(5, "09:00"), updated=jira_ts(9, "09:00")),
        history("5008", "1001", jira_ts(9, "09:00"), status("In Progress", "Done")),
        history("5003", "1001", jira_ts(6, "12:00"), status("In Progress", "Blocked")),
        history("5001", "1001", jira_ts(5, "10:00"), status("To Do", "In Progress")),
        history("5006", "1001", jira_ts(8, "12:00"), status("Code Review", "Done")),
        history("5004", "1001", jira_ts(6, "14:00"), flag(False)),
        history("5002", "1001", jira_ts(6, "10:00"), flag(True)),
        history("5007", "1001", jira_ts(8, "15:00"), status("Done", "In Progress")),
        history("5106", "1001", jira_ts(8, "12:00"), status("Code Review", "Done")),  # duplicate delivery
        history("5005", "1001", jira_ts(7, "12:00"), status("Blocked", "Code Review")),
    ]
    # PAY-2: history starts before the window - the only change leaves In Progress (Tue 09:00 -> Done),
    # so it is assumed In Progress since created (Mon 09:00, written with a +01:00 offset = 08:00Z + 1h).
    recs += [
        issue("1002", "PAY-2", "Done", "2026-01-05T10:00:00.000+0100", updated=jira_ts(6, "09:00")),
        history("5201", "1002", jira_ts(6, "09:00"), status("In Progress", "Done")),
    ]
    # PAY-3: never started: To Do -> Done on Wed 09:00.
    recs += [
        issue("1003", "PAY-3", "Done", jira_ts(5, "09:00"), updated=jira_ts(7, "09:00")),
        history("5301", "1003", jira_ts(7, "09:00"), status("To Do", "Done")),
    ]
    # PAY-4: open work, unassigned, flagged now with no Flagged history:
    # created Thu 00:00, In Progress Thu 12:00.
    recs += [
        issue(
            "1004",
            "PAY-4",
            "In Progress",
            jira_ts(8, "00:00"),
            flagged=True,
            assignee=False,
            updated=jira_ts(8, "12:00"),
        ),
        history("5401", "1004", jira_ts(8, "12:00"), status("To Do", "In Progress")),
    ]
    # PAY-5: To Do -> In Progress Mon 10:00 ... Code Review -> Done Wed 10:00; the middle change
    # (In Progress -> Code Review, Tue 10:00) arrives in a later load (incremental test).
    recs += [
        issue("1005", "PAY-5", "Done", jira_ts(5, "09:00"), updated=jira_ts(7, "10:00")),
        history("5501", "1005", jira_ts(5, "10:00"), status("To Do", "In Progress")),
        history("5503", "1005", jira_ts(7, "10:00"), status("Code Review", "Done")),
    ]
    # Sprint 501 (Mon 05 09:00 -> completed Fri 09 17:00), team "Sprint Team" (W2 workflow names).
    # SA committed (field only) and Done Thu; SB committed, still Doing, moved on to 502 at completion;
    # SC created Tue and added Tue 10:00, Closed Thu; SD committed then removed Wed.
    recs += [
        RawRecord("jira_sprints", SPRINT_501, parent_id="7"),
        RawRecord("jira_sprints", SPRINT_502, parent_id="7"),
        issue(
            "2001",
            "SPR-1",
            "Closed",
            jira_ts(1, "09:00"),
            team="Sprint Team",
            sprints=[{"id": 501, "name": "Team Sprint 1", "state": "closed", "boardId": 7}],
        ),
        history("6101", "2001", jira_ts(5, "10:00"), status("Selected for Development", "Doing")),
        history("6102", "2001", jira_ts(8, "10:00"), status("Doing", "Closed")),
        issue(
            "2002",
            "SPR-2",
            "Doing",
            jira_ts(1, "09:00"),
            team="Sprint Team",
            sprints=[
                {"id": 501, "name": "Team Sprint 1", "state": "closed", "boardId": 7},
                {"id": "502", "name": "Team Sprint 2", "state": "future", "boardId": 7},
            ],
        ),
        history("6201", "2002", jira_ts(2, "09:00"), sprint_change("", "501")),
        history("6202", "2002", jira_ts(6, "09:00"), status("Backlog", "Doing")),
        history("6203", "2002", jira_ts(9, "17:00"), sprint_change("501", "501, 502")),
        issue(
            "2003",
            "SPR-3",
            "Closed",
            jira_ts(6, "09:00"),
            team="Sprint Team",
            sprints=[{"id": "501", "name": "Team Sprint 1", "state": "closed", "boardId": 7}],
        ),
        history("6301", "2003", jira_ts(6, "10:00"), sprint_change("", "501")),
        history("6302", "2003", jira_ts(8, "12:00"), status("Backlog", "Closed")),
        issue("2004", "SPR-4", "Backlog", jira_ts(1, "09:00"), team="Sprint Team", sprints=None),
        history("6401", "2004", jira_ts(2, "09:00"), sprint_change("", "501")),
        history("6402", "2004", jira_ts(7, "09:00"), sprint_change("501", "")),
    ]
    return recs


def prepare_in_background(prep: Preparation) -> None:
    """Load the hand-written histories and build (starts with the session, see tests/conftest.py)."""
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


def approx(value: Any, expected: float, tol: float = 1e-3) -> bool:
    return value is not None and abs(float(value) - expected) < tol


def test_full_history_with_reopen_block_and_flag(built, query) -> None:
    row = lifecycle(query, "PAY-1")
    assert row["team_id"] == "payments-core"
    assert row["started_at"] == utc(5, "10:00")  # first entry into In Progress
    assert row["done_at"] == utc(9, "09:00")  # LAST entry into Done
    # cycle: Mon 10:00 -> Fri 09:00 = 4 days - 1 h = 96 - 1 = 95 h
    assert row["cycle_time_hours"] == Decimal("95")
    # lead: Mon 09:00 -> Fri 09:00 = 4 x 24 = 96 h
    assert row["lead_time_hours"] == Decimal("96")
    # blocked: flag Tue 10-14 U Blocked Tue 12:00-Wed 12:00 = Tue 10:00 -> Wed 12:00
    # = 24 + 2 = 26 h (the overlap counts once)
    assert row["blocked_hours"] == Decimal("26")
    # flow efficiency: In Progress Mon 10:00-Tue 12:00 = 26 h minus flagged Tue 10-12 = 2 h -> 24 h;
    # Code Review Wed 12:00-Thu 12:00 = 24 h; In Progress Thu 15:00-Fri 09:00 = 18 h;
    # (24 + 24 + 18) / 95 = 66 / 95 = 0.694736...
    assert approx(row["flow_efficiency"], 0.6947)
    assert row["reopen_count"] == 1  # Done -> In Progress once
    assert row["is_reworked"] is True
    assert row["current_status_category"] == "done"


def test_status_intervals_follow_time_not_load_order(built, query) -> None:
    rows = query(
        "select status, status_category, started_at, hours, is_current "
        "from marts.fct_issue_status_intervals where issue_id = '1001' order by interval_seq"
    )
    # the duplicate Done delivery (history 5106) does not add an interval
    assert [(r["status"], r["started_at"], r["hours"], r["is_current"]) for r in rows] == [
        ("To Do", utc(5, "09:00"), Decimal("1"), False),  # Mon 09 -> Mon 10
        ("In Progress", utc(5, "10:00"), Decimal("26"), False),  # Mon 10 -> Tue 12
        ("Blocked", utc(6, "12:00"), Decimal("24"), False),  # Tue 12 -> Wed 12
        ("Code Review", utc(7, "12:00"), Decimal("24"), False),  # Wed 12 -> Thu 12
        ("Done", utc(8, "12:00"), Decimal("3"), False),  # Thu 12 -> Thu 15
        ("In Progress", utc(8, "15:00"), Decimal("18"), False),  # Thu 15 -> Fri 09
        ("Done", utc(9, "09:00"), Decimal("15"), True),  # Fri 09 -> as_of Sat 00:00
    ]


def test_blocked_interval_is_merged_with_both_sources(built, query) -> None:
    rows = query(
        "select block_source, started_at, ended_at, hours from marts.fct_blocked_intervals "
        "where issue_id = '1001'"
    )
    assert rows == [
        {
            "block_source": "both",
            "started_at": utc(6, "10:00"),
            "ended_at": utc(7, "12:00"),
            "hours": Decimal("26"),
        }
    ]


def test_missing_start_is_assumed_from_created(built, query) -> None:
    row = lifecycle(query, "PAY-2")
    # created 2026-01-05T10:00+0100 = Mon 09:00 UTC; the first change leaves In Progress, so started = created
    assert row["created_at"] == utc(5, "09:00")
    assert row["started_at"] == utc(5, "09:00")
    # cycle = lead = Mon 09:00 -> Tue 09:00 = 24 h; all of it in progress and unflagged: 24 / 24 = 1
    assert row["cycle_time_hours"] == Decimal("24")
    assert row["lead_time_hours"] == Decimal("24")
    assert approx(row["flow_efficiency"], 1.0)
    assert row["blocked_hours"] == Decimal("0")
    assert row["reopen_count"] == 0


def test_never_started_issue_has_no_cycle_time(built, query) -> None:
    row = lifecycle(query, "PAY-3")
    assert row["started_at"] is None
    assert row["cycle_time_hours"] is None
    assert row["flow_efficiency"] is None
    assert row["lead_time_hours"] == Decimal("48")  # Mon 09:00 -> Wed 09:00


def test_open_flagged_unassigned_work(built, query) -> None:
    row = lifecycle(query, "PAY-4")
    assert row["done_at"] is None and row["cycle_time_hours"] is None
    # flagged now without history: flagged since created (Thu 00:00), clipped to the active life
    # started Thu 12:00 -> as_of Sat 00:00 = 36 h
    assert row["blocked_hours"] == Decimal("36")
    wip = query("select * from marts.fct_wip_current where issue_id = '1004'")[0]
    assert wip["age_days"] == Decimal("1.50")  # Thu 12:00 -> Sat 00:00 = 36 h = 1.5 d
    # team history < 5 done issues -> all teams' done cycle times: PAY-1 95, PAY-2 24, PAY-5 48, SPR-1 72
    # (Mon 10:00 -> Thu 10:00); share <= 36 h = 1/4 -> 50 x 0.25 = 12.5
    # + 20 x min(1, 36 blocked / 36 age) = 20, + 20 flagged, + 10 unassigned = 62.5 -> round = 63 (half up)
    assert wip["age_percentile"] == Decimal("0.25")
    assert wip["risk_score"] == 63


def test_throughput_rework_and_wip(built, query) -> None:
    rows = {
        str(r["date_day"]): r
        for r in query("select * from marts.fct_throughput_daily where team_id = 'payments-core'")
    }
    # last Done per day: Tue PAY-2, Wed PAY-3 and PAY-5, Fri PAY-1 (reopened once -> rework 1/1)
    assert rows["2026-01-06"]["issues_completed"] == 1
    assert rows["2026-01-07"]["issues_completed"] == 2
    assert rows["2026-01-08"]["issues_completed"] == 0  # PAY-1's first Done (Thu) is not its last
    assert rows["2026-01-09"]["issues_completed"] == 1
    assert rows["2026-01-09"]["reworked_completed"] == 1
    assert rows["2026-01-09"]["rework_rate"] == Decimal("1")
    wip = {
        str(r["date_day"]): r
        for r in query("select * from marts.fct_wip_daily where team_id = 'payments-core'")
    }
    # end of Thu (Fri 00:00): PAY-1 In Progress (reopened Thu 15:00), PAY-4 In Progress -> 2
    assert wip["2026-01-08"]["wip_total"] == 2
    assert wip["2026-01-08"]["wip_in_progress"] == 2
    # end of Tue (Wed 00:00): PAY-1 Blocked, PAY-5 In Progress (its review change is not loaded yet) -> 2
    assert wip["2026-01-06"]["wip_total"] == 2
    assert wip["2026-01-06"]["wip_blocked"] == 1


def test_sprint_performance(built, query) -> None:
    row = query("select * from marts.fct_sprint_performance where sprint_id = '501'")[0]
    assert row["team_id"] == "sprint-team"
    # committed at Mon 09:00: SPR-1 (field only, assumed since created),
    # SPR-2 (added Fri 02), SPR-4 (added Fri 02)
    assert row["committed_count"] == 3
    assert row["added_count"] == 1  # SPR-3 added Tue 10:00
    assert row["removed_count"] == 1  # SPR-4 removed Wed 09:00
    assert row["completed_count"] == 2  # SPR-1 (Closed Thu 10:00) and SPR-3 (Closed Thu 12:00)
    assert row["completed_committed_count"] == 1  # SPR-1
    assert row["carried_over_count"] == 1  # SPR-2: Doing at completion, also in sprint 502
    # planning accuracy = completed committed / committed = 1 / 3
    assert approx(row["planning_accuracy"], 0.3333)
    # sprint 502 starts after as_of: not reported yet
    assert query("select count(*) as n from marts.fct_sprint_performance where sprint_id = '502'") == [
        {"n": 0}
    ]


def test_late_changelog_rebuilds_the_issue_incrementally(built, load, dbt, query) -> None:
    before = query("select count(*) as n from marts.fct_issue_status_intervals where issue_id = '1005'")
    assert before == [{"n": 3}]  # To Do, In Progress, Done (the review change is missing)
    summary = load(
        [history("5502", "1005", jira_ts(6, "10:00"), status("In Progress", "Code Review"))],
        source="synthetic",
    )
    assert summary.rejected == 0
    dbt(*BUILD)
    rows = query(
        "select status, hours from marts.fct_issue_status_intervals "
        "where issue_id = '1005' order by interval_seq"
    )
    assert [(r["status"], r["hours"]) for r in rows] == [
        ("To Do", Decimal("1")),  # Mon 09 -> Mon 10
        ("In Progress", Decimal("24")),  # Mon 10 -> Tue 10
        ("Code Review", Decimal("24")),  # Tue 10 -> Wed 10
        ("Done", Decimal("62")),  # Wed 10 -> Sat 00:00 = 14 + 48
    ]
    # a run with no newer documents rebuilds only the issues of the newest batch (source_ingested_at >= the
    # newest already processed): PAY-1's closed intervals stay the same physical rows (xmin); only the
    # post-hook touches open intervals, to move their end to as_of
    snapshot = (
        "select interval_id, xmin::text as row_version from marts.fct_issue_status_intervals "
        "where issue_id = %s and not is_current order by interval_id"
    )
    pay1_before, pay5_before = query(snapshot, ("1001",)), query(snapshot, ("1005",))
    dbt("run", "--select", "fct_issue_status_intervals", *VARS)
    assert query(snapshot, ("1001",)) == pay1_before
    assert query(snapshot, ("1005",)) != pay5_before  # newest batch: re-processed (idempotently)
    # the incremental table matches a from-scratch derivation
    diff = query(
        "select interval_id, status, started_at, ended_at, hours, is_current "
        "from marts.fct_issue_status_intervals "
        "except select interval_id, status, started_at, ended_at, hours, is_current "
        "from intermediate.int_status_intervals_derived"
    )
    assert diff == []
    row = lifecycle(query, "PAY-5")
    assert row["cycle_time_hours"] == Decimal("48")  # Mon 10:00 -> Wed 10:00, unchanged


def test_unmapped_status_fails_the_build_listing_the_name(built, load, dbt, query, warehouse_url) -> None:
    import psycopg

    load([issue("9001", "ODD-1", "Frobnicating", jira_ts(5, "09:00"))], source="synthetic")
    try:
        with pytest.raises(Exception, match="Failure in test assert_all_status_names_mapped"):
            # staging is materialised (issue 15): the new document reaches the test through a build
            dbt(
                "build",
                "--select",
                "stg_jira__issues",
                "stg_jira__changelog_items",
                "assert_all_status_names_mapped",
                *VARS,
            )
        rows = query(
            "select status_name_normalized, unmapped_status_names "
            "from dbt_test__audit.assert_all_status_names_mapped"
        )
        assert rows == [{"status_name_normalized": "frobnicating", "unmapped_status_names": "Frobnicating"}]
    finally:
        with psycopg.connect(warehouse_url) as conn:
            conn.execute("delete from raw.jira_issues where source_id = '9001'")
