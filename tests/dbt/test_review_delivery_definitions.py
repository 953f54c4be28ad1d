"""Issue 11, review and delivery: the defects and the definitions that now match the field, each checked on a
small hand-written GitLab + Jira history that goes through the real loader and the real dbt build. Every
expectation is computed BY HAND (arithmetic in the comments), with the value the marts gave before issue 11.
Definitions: docs/metrics.md, "Code review and linkage" and "Delivery and DORA".

Week of Monday 2026-01-05; as_of Saturday 2026-01-10 00:00 UTC. Europe/Berlin is UTC+1 in January,
America/New_York UTC-5.

Team Payments (GitLab project 7 acme/payments/api; Jira team "Payments", whose assignees' Jira timeZone is
Europe/Berlin, so its working hours are Berlin's):
* MR 1001 (ana): ready Mon 09:00, cy comments 10:00, merged 11:00; eve comments after the merge (15:00).
  First commit Fri 2 Jan 10:00.
* MR 1002 (bo): ready Mon 10:00, merged 10:30 with no review; dee approves 11:00 and cy comments 12:00, both
  AFTER the merge. First commit Mon 09:50.
* MR 1003 (ana): ready Mon 07:30 UTC (08:30 Berlin), cy comments 08:30 UTC (09:30 Berlin), merged 13:00.
  First commit Mon 07:00.
* MR 1004 (bo): ready Fri 2 Jan 16:30 UTC (17:30 Berlin), cy comments Mon 08:30 UTC (09:30 Berlin), merged
  Mon 14:00. First commit Fri 2 Jan 15:00.
* Pipeline 801 deploys two regions: 9001 `prod-eu` (Mon 12:00, ships 1001 and 1002) and 9002 `prod-us`
  (Mon 12:10). Pipeline 802: 9003 `production` Tue 10:00 (ships 1003, 1004; sha c0ffee...). Pipeline 803:
  9004 Wed 09:00. Pipeline 804: 9005 Thu 08:00.
* Incidents (Jira OPS, team Payments; statuses from the changelog):
  OPS-1 opened Mon 13:00 "after acme/payments/api#2" (9002, explicit): Investigating 13:05, Mitigated 14:30,
  Resolved Tue 13:00.
  OPS-2 opened Wed 20:00 "Latency spike in api" (inferred: api's last deployment 9004, 11 h earlier):
  Investigating 20:05, Mitigated 21:00, Investigating again Thu 01:00 (regression), Mitigated Thu 03:00,
  Resolved Thu 09:00.
  OPS-3 opened Fri 12:00 "Errors in api": api's last deployment 9005 was 28 h earlier -- outside the 24 h
  window (it was inside the old 168 h one): Investigating 12:05, Resolved 14:00 (no Mitigated).
  OPS-4 opened Thu 10:00 "Checkout slow" (names no project: unattributed): Investigating 10:05, Mitigated
  11:00, still Mitigated at as_of.
  GitLab incident acme/payments/api#1 opened Tue 11:00 naming sha c0ffee12 (9003, explicit), closed 12:30.
Team Search (GitLab project 8 acme/search/web; var team_timezones = {search: America/New_York}, no Jira):
* MR 2001 (fin): ready Tue 13:00 UTC (08:00 New York), gus comments 15:00 UTC (10:00), merged 16:00.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.support import Preparation, upstream_of
from warehouse.dbt_vars import vars_args
from warehouse.records import RawRecord

VARS = vars_args(as_of="2026-01-10T00:00:00+00:00", team_timezones={"search": "America/New_York"})
MODELS = (
    "fct_merge_requests",
    "fct_incidents",
    "fct_production_changes",
    "rpt_dora_weekly",
    "fct_team_weekly_metrics",
    "fct_metric_observations",
    "int_team_time_zones_resolved",
)
TEAM_FIELD = "customfield_10001"
WEEK = "2026-01-05"
PAYMENTS, SEARCH = 7, 8
NAMESPACES = {
    PAYMENTS: {"id": 70, "name": "Payments", "path": "payments", "full_path": "acme/payments"},
    SEARCH: {"id": 80, "name": "Search", "path": "search", "full_path": "acme/search"},
}
PROJECT_NAMES = {PAYMENTS: "api", SEARCH: "web"}


def gl(day: int, hhmm: str) -> str:
    """GitLab REST timestamp in January 2026 (day 2 = Friday 2 January)."""
    return f"2026-01-{day:02d}T{hhmm}:00.000Z"


def jira(day: int, hhmm: str) -> str:
    return f"2026-01-{day:02d}T{hhmm}:00.000+0000"


def user(name: str) -> dict[str, Any]:
    return {"id": sum(map(ord, name)), "username": name, "name": name.title()}


def project(project_id: int) -> RawRecord:
    name, namespace = PROJECT_NAMES[project_id], NAMESPACES[project_id]
    doc = {
        "id": project_id,
        "name": name,
        "path": name,
        "path_with_namespace": f"{namespace['full_path']}/{name}",
        "namespace": namespace,
        "web_url": f"https://gitlab.example/{namespace['full_path']}/{name}",
        "created_at": gl(1, "09:00"),
        "last_activity_at": gl(9, "09:00"),
    }
    return RawRecord("gitlab_projects", doc)


def merge_request(mr_id: int, project_id: int, author: str, created: str, merged: str) -> dict[str, Any]:
    iid = mr_id % 1000
    path = f"{NAMESPACES[project_id]['full_path']}/{PROJECT_NAMES[project_id]}"
    return {
        "id": mr_id,
        "iid": iid,
        "project_id": project_id,
        "title": f"Change {mr_id}",
        "description": "",
        "state": "merged",
        "draft": False,
        "work_in_progress": False,
        "source_branch": f"change-{mr_id}",
        "target_branch": "main",
        "author": user(author),
        "created_at": created,
        "updated_at": merged,
        "merged_at": merged,
        "closed_at": None,
        "merge_commit_sha": f"{mr_id:040x}",
        "sha": f"{mr_id + 1:040x}",
        "labels": [],
        "reviewers": [],
        "web_url": f"https://gitlab.example/{path}/-/merge_requests/{iid}",
        "diff_stats": {"additions": 10, "deletions": 2, "file_count": 1},
    }


def note(note_id: int, mr_id: int, author: str, at: str, body: str = "Looks good") -> RawRecord:
    system = body == "approved this merge request"
    doc = {
        "id": note_id,
        "type": None if system else "DiffNote",
        "body": body,
        "author": user(author),
        "created_at": at,
        "updated_at": at,
        "system": system,
        "noteable_id": mr_id,
        "noteable_type": "MergeRequest",
    }
    return RawRecord("gitlab_mr_notes", doc, parent_id=str(mr_id))


def commit(mr_id: int, at: str) -> RawRecord:
    sha = f"{mr_id * 3:040x}"
    doc = {
        "id": sha,
        "short_id": sha[:8],
        "title": "Work",
        "message": "Work",
        "author_name": "Dev",
        "author_email": "dev@example.com",
        "authored_date": at,
        "committed_date": at,
    }
    return RawRecord("gitlab_mr_commits", doc, parent_id=str(mr_id))


def deployment(
    deployment_id: int, iid: int, env: str, pipeline_id: int, finished: str, sha: str | None = None
) -> RawRecord:
    doc = {
        "id": deployment_id,
        "iid": iid,
        "ref": "main",
        "sha": sha or f"{deployment_id:040x}",
        "status": "success",
        "created_at": finished,
        "updated_at": finished,
        "finished_at": finished,
        "environment": {"id": iid, "name": env, "tier": "production"},
        "deployable": {"id": deployment_id * 10, "pipeline": {"id": pipeline_id}},
    }
    return RawRecord("gitlab_deployments", doc, str(PAYMENTS))


def jira_issue(
    issue_id: str,
    key: str,
    status: str,
    created: str,
    *,
    issue_type: str = "Story",
    summary: str = "",
    assignee: dict[str, Any] | None = None,
) -> RawRecord:
    project_key = key.split("-")[0]
    fields = {
        "summary": summary or f"{key} summary",
        "description": None,
        "status": {"id": "1", "name": status},
        "issuetype": {"name": issue_type},
        "project": {"id": str(10000 + sum(map(ord, project_key))), "key": project_key, "name": project_key},
        "assignee": assignee,
        "reporter": {"accountId": "acc-pm", "displayName": "PM"},
        "priority": {"name": "High"},
        "labels": [],
        "components": [],
        "created": created,
        "updated": created,
        "resolutiondate": None,
        TEAM_FIELD: {"id": "t-payments", "name": "Payments", "title": "Payments"},
    }
    doc = {"id": issue_id, "key": key, "self": f"https://jira.example/{issue_id}", "fields": fields}
    return RawRecord("jira_issues", doc)


def status_change(history_id: str, issue_id: str, at: str, before: str, after: str) -> RawRecord:
    item = {
        "field": "status",
        "fieldtype": "jira",
        "fieldId": "status",
        "from": "1",
        "fromString": before,
        "to": "2",
        "toString": after,
    }
    doc = {"id": history_id, "author": {"accountId": "acc-9"}, "created": at, "items": [item]}
    return RawRecord("jira_changelogs", doc, parent_id=issue_id)


def incident(
    issue_id: str, key: str, opened: str, summary: str, path: list[tuple[str, str]]
) -> list[RawRecord]:
    """A Jira incident opened at ``opened`` that moves through ``path`` [(at, status), ...] from Open."""
    current = path[-1][1] if path else "Open"
    recs = [jira_issue(issue_id, key, current, opened, issue_type="Incident", summary=summary)]
    before = "Open"
    for n, (at, after) in enumerate(path, start=1):
        recs.append(status_change(f"{issue_id}{n:02d}", issue_id, at, before, after))
        before = after
    return recs


def records() -> list[RawRecord]:
    berlin = [
        {"accountId": f"acc-{n}", "displayName": f"Dev {n}", "timeZone": "Europe/Berlin"} for n in (1, 2)
    ]
    recs: list[RawRecord] = [project(PAYMENTS), project(SEARCH)]
    # Jira stories of team Payments: their assignees are in Berlin
    for n, person in enumerate(berlin, start=1):
        recs += [
            jira_issue(f"50{n}", f"PAY-{n}", "In Progress", jira(5, "08:00"), assignee=person),
            status_change(f"50{n}1", f"50{n}", jira(5, "09:00"), "To Do", "In Progress"),
        ]
    mrs = {
        1001: merge_request(1001, PAYMENTS, "ana", gl(5, "09:00"), gl(5, "11:00")),
        1002: merge_request(1002, PAYMENTS, "bo", gl(5, "10:00"), gl(5, "10:30")),
        1003: merge_request(1003, PAYMENTS, "ana", gl(5, "07:30"), gl(5, "13:00")),
        1004: merge_request(1004, PAYMENTS, "bo", gl(2, "16:30"), gl(5, "14:00")),
        2001: merge_request(2001, SEARCH, "fin", gl(6, "13:00"), gl(6, "16:00")),
    }
    recs += [RawRecord("gitlab_merge_requests", mr, str(mr["project_id"])) for mr in mrs.values()]
    recs += [
        commit(1001, gl(2, "10:00")),
        note(1, 1001, "cy", gl(5, "10:00")),
        note(2, 1001, "eve", gl(5, "15:00"), "+1, nice (after the merge)"),
        commit(1002, gl(5, "09:50")),
        note(3, 1002, "dee", gl(5, "11:00"), "approved this merge request"),
        note(4, 1002, "cy", gl(5, "12:00"), "Why was this merged without review?"),
        commit(1003, gl(5, "07:00")),
        note(5, 1003, "cy", gl(5, "08:30")),
        commit(1004, gl(2, "15:00")),
        note(6, 1004, "cy", gl(5, "08:30")),
        commit(2001, gl(6, "12:00")),
        note(7, 2001, "gus", gl(6, "15:00")),
    ]
    recs += [
        deployment(9001, 1, "prod-eu", 801, gl(5, "12:00")),
        deployment(9002, 2, "prod-us", 801, gl(5, "12:10")),
        deployment(9003, 3, "production", 802, gl(6, "10:00"), sha="c0ffee12" + "0" * 32),
        deployment(9004, 4, "production", 803, gl(7, "09:00")),
        deployment(9005, 5, "production", 804, gl(8, "08:00")),
        RawRecord("gitlab_deployment_merge_requests", mrs[1001], parent_id="9001"),
        RawRecord("gitlab_deployment_merge_requests", mrs[1002], parent_id="9001"),
        RawRecord("gitlab_deployment_merge_requests", mrs[1003], parent_id="9003"),
        RawRecord("gitlab_deployment_merge_requests", mrs[1004], parent_id="9003"),
    ]
    recs += incident(
        "601",
        "OPS-1",
        jira(5, "13:00"),
        "Refunds failing after acme/payments/api#2",
        [
            (jira(5, "13:05"), "Investigating"),
            (jira(5, "14:30"), "Mitigated"),
            (jira(6, "13:00"), "Resolved"),
        ],
    )
    recs += incident(
        "602",
        "OPS-2",
        jira(7, "20:00"),
        "Latency spike in api",
        [
            (jira(7, "20:05"), "Investigating"),
            (jira(7, "21:00"), "Mitigated"),
            (jira(8, "01:00"), "Investigating"),
            (jira(8, "03:00"), "Mitigated"),
            (jira(8, "09:00"), "Resolved"),
        ],
    )
    recs += incident(
        "603",
        "OPS-3",
        jira(9, "12:00"),
        "Errors in api",
        [(jira(9, "12:05"), "Investigating"), (jira(9, "14:00"), "Resolved")],
    )
    recs += incident(
        "604",
        "OPS-4",
        jira(8, "10:00"),
        "Checkout slow",
        [(jira(8, "10:05"), "Investigating"), (jira(8, "11:00"), "Mitigated")],
    )
    gitlab_incident = {
        "id": 7001,
        "iid": 1,
        "project_id": PAYMENTS,
        "title": "Card payments declined",
        "description": "Started with c0ffee12.",
        "state": "closed",
        "issue_type": "incident",
        "type": "INCIDENT",
        "labels": ["incident"],
        "author": user("ana"),
        "created_at": gl(6, "11:00"),
        "updated_at": gl(6, "12:30"),
        "closed_at": gl(6, "12:30"),
        "web_url": "https://gitlab.example/acme/payments/api/-/issues/1",
        "references": {"short": "#1", "relative": "#1", "full": "acme/payments/api#1"},
    }
    recs.append(RawRecord("gitlab_issues", gitlab_incident, str(PAYMENTS)))
    return recs


def prepare_in_background(prep: Preparation) -> None:
    """Load the hand-written documents and build (starts with the session, see tests/conftest.py)."""
    warehouse = prep.warehouse()
    summary = warehouse.load(records())
    assert summary.rejected == 0
    warehouse.dbt("build", *upstream_of(*MODELS), *VARS)


@pytest.fixture(scope="module")
def built(prepared) -> None:
    return prepared


def _by(query, sql: str, key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in query(sql)}


# ---------------------------------------------------------------- defect 4: review notes after the merge


def test_notes_after_the_merge_are_not_review(built, query) -> None:
    mrs = _by(query, "select * from marts.fct_merge_requests", "merge_request_id")
    hotfix = mrs["1002"]
    # merged 10:30; dee's approval (11:00) and cy's comment (12:00) came after it. Before issue 11 the row
    # said merged without review AND first_review_at 11:00, first_reviewer dee, 2 reviewers, 1 approver,
    # 1 round.
    assert hotfix["is_merged_without_review"] is True
    assert (hotfix["first_review_at"], hotfix["first_reviewer_username"]) == (None, None)
    assert (hotfix["reviewer_count"], hotfix["approver_count"], hotfix["review_rounds"]) == (0, 0, 0)
    assert (hotfix["first_approval_at"], hotfix["approvers"]) == (None, None)
    refunds = mrs["1001"]
    # cy reviewed at 10:00, before the merge at 11:00; eve's 15:00 note is after it: 1 reviewer (was 2)
    assert (refunds["first_reviewer_username"], refunds["reviewer_count"], refunds["review_rounds"]) == (
        "cy",
        1,
        1,
    )
    assert refunds["is_merged_without_review"] is False


# ---------------------------------------------------------------- review pickup on reviewed MRs only


def test_review_pickup_is_measured_on_reviewed_merge_requests(built, query) -> None:
    mrs = _by(query, "select * from marts.fct_merge_requests", "merge_request_id")
    # 1002 was merged without review: no pickup (it used to be ready 10:00 -> merged 10:30 = 0.5 h)
    assert (mrs["1002"]["review_pickup_hours"], mrs["1002"]["review_pickup_working_hours"]) == (None, None)
    # 1001: ready 09:00 -> cy 10:00 = 1 h (10:00 -> 11:00 in Berlin: 1 working hour)
    assert (mrs["1001"]["review_pickup_hours"], mrs["1001"]["review_pickup_working_hours"]) == (
        Decimal("1"),
        Decimal("1"),
    )
    week = query(
        "select * from marts.fct_team_weekly_metrics where team_id = 'payments' and week_start_date = %s",
        (WEEK,),
    )[0]
    # MRs ready this week: 1001 (1 working hour), 1003 (0.5, see the time-zone test), 1002 (merged without
    # review). Reviewed only: median(1, 0.5) = 0.75 of 2. Before issue 11 (UTC hours, 1002 counted to its
    # merge): median(1, 0 [1003 in UTC], 0.5) = 0.5 of 3 -- the unreviewed hotfix made the team look faster.
    assert (week["review_pickup_p50_working_hours"], week["review_pickup_n"]) == (Decimal("0.75"), 2)
    # merged this week: 1001, 1002, 1003, 1004 (merged Mon 14:00); 1002 without review: 1 / 4
    assert (week["merged_without_review_rate"], week["merged_merge_requests"]) == (Decimal("0.25"), 4)


def test_merged_without_review_is_observed_beside_pickup(built, query) -> None:
    rows = query(
        "select item_id, metric_name, value from marts.fct_metric_observations "
        "where metric_name in ('merged_without_review', 'review_pickup_working_hours') "
        "and team_id = 'payments'"
    )
    observed = {(r["metric_name"], r["item_id"]): r["value"] for r in rows}
    # one 0/1 observation per merged human MR, at its merge
    assert {k[1]: v for k, v in observed.items() if k[0] == "merged_without_review"} == {
        "1001": Decimal("0"),
        "1002": Decimal("1"),
        "1003": Decimal("0"),
        "1004": Decimal("0"),
    }
    # pickup: reviewed MRs only (1002 is not observed)
    assert sorted(k[1] for k in observed if k[0] == "review_pickup_working_hours") == ["1001", "1003", "1004"]


# ---------------------------------------------------------------- working hours in the team's time zone


def test_working_hours_follow_the_team_time_zone(built, query) -> None:
    zones = _by(query, "select * from intermediate.int_team_time_zones_resolved", "team_id")
    assert (zones["payments"]["time_zone"], zones["payments"]["time_zone_source"]) == (
        "Europe/Berlin",
        "jira_assignees",
    )
    assert (zones["search"]["time_zone"], zones["search"]["time_zone_source"]) == (
        "America/New_York",
        "team_timezones",
    )
    mrs = _by(query, "select * from marts.fct_merge_requests", "merge_request_id")
    # 1003: 07:30 -> 08:30 UTC = 08:30 -> 09:30 Berlin: 09:00-09:30 = 0.5 working hour (UTC: 0)
    assert (mrs["1003"]["working_hours_time_zone"], mrs["1003"]["review_pickup_working_hours"]) == (
        "Europe/Berlin",
        Decimal("0.5"),
    )
    # 1004: Fri 17:30 Berlin -> Mon 09:30 Berlin: 0.5 + 0.5 = 1 working hour (UTC: Fri 16:30-18:00 = 1.5)
    assert mrs["1004"]["review_pickup_hours"] == Decimal("64")
    assert mrs["1004"]["review_pickup_working_hours"] == Decimal("1")
    # 1003's review: 08:30 -> 13:00 UTC = 09:30 -> 14:00 Berlin = 4.5 working hours (UTC: 09:00-13:00 = 4)
    assert mrs["1003"]["review_duration_working_hours"] == Decimal("4.5")
    # 2001 (Search, New York): 08:00 -> 10:00 local = 09:00-10:00 = 1 working hour (UTC: 13:00-15:00 = 2)
    assert (mrs["2001"]["working_hours_time_zone"], mrs["2001"]["review_pickup_working_hours"]) == (
        "America/New_York",
        Decimal("1"),
    )


# ---------------------------------------------------------------- time to restore


def test_time_to_restore_ends_when_the_service_is_restored(built, query) -> None:
    rows = _by(query, "select * from marts.fct_incidents", "issue_key")
    ops1 = rows["OPS-1"]
    # opened Mon 13:00, Mitigated 14:30, Resolved Tue 13:00
    assert (ops1["restored_from"], ops1["time_to_restore_hours"], ops1["time_to_resolve_hours"]) == (
        "restored_status",
        Decimal("1.5"),
        Decimal("24"),
    )
    # recovery: 9002 finished Mon 12:10 -> restored 14:30 = 2.3333 h (before issue 11: -> resolved = 24.8333)
    assert (ops1["deployment_id"], ops1["recovery_time_hours"]) == ("9002", Decimal("2.3333"))
    ops2 = rows["OPS-2"]
    # Mitigated Wed 21:00, regressed to Investigating Thu 01:00, Mitigated again 03:00: restored at 03:00
    # = 7 h after opening (Wed 20:00); resolved Thu 09:00 = 13 h; recovery 9004 Wed 09:00 -> Thu 03:00 = 18 h
    assert (ops2["time_to_restore_hours"], ops2["time_to_resolve_hours"]) == (Decimal("7"), Decimal("13"))
    assert (ops2["attribution_method"], ops2["recovery_time_hours"]) == (
        "inferred_last_deployment",
        Decimal("18"),
    )
    # OPS-3 went straight to Resolved: restored when resolved, 2 h
    assert (rows["OPS-3"]["restored_from"], rows["OPS-3"]["time_to_restore_hours"]) == (
        "done_status",
        Decimal("2"),
    )
    # OPS-4 is Mitigated and not resolved: restored after 1 h, resolved never
    ops4 = rows["OPS-4"]
    assert (ops4["is_restored"], ops4["time_to_restore_hours"], ops4["is_resolved"]) == (
        True,
        Decimal("1"),
        False,
    )
    assert ops4["time_to_resolve_hours"] is None
    # the GitLab incident is restored when closed: 11:00 -> 12:30 = 1.5 h; recovery 9003 10:00 -> 12:30
    gitlab = rows["acme/payments/api#1"]
    assert (gitlab["restored_from"], gitlab["time_to_restore_hours"], gitlab["recovery_time_hours"]) == (
        "gitlab_closed",
        Decimal("1.5"),
        Decimal("2.5"),
    )
    assert (gitlab["deployment_id"], gitlab["attribution_method"]) == ("9003", "explicit_sha")


# ---------------------------------------------------------------- change failure rate: unit and window


def test_inferred_attribution_window_is_24_hours(built, query) -> None:
    rows = _by(query, "select * from marts.fct_incidents", "issue_key")
    # OPS-2: 9004 finished 11 h before it opened (inside 24 h); OPS-3: 9005 finished 28 h before (outside
    # 24 h, inside the old 168 h window, which blamed 9005 for it)
    assert (rows["OPS-2"]["deployment_id"], rows["OPS-3"]["deployment_id"]) == ("9004", None)
    assert rows["OPS-3"]["attribution_method"] == "unattributed"


def test_change_failure_rate_counts_production_changes_on_both_sides(built, query) -> None:
    changes = _by(
        query, "select * from marts.fct_production_changes where team_id = 'payments'", "production_change_id"
    )
    # pipeline 801 deployed two regions: one production change with 2 deployments, failed explicitly (OPS-1
    # names 9002, its second region)
    assert (changes["801"]["production_deployment_count"], changes["801"]["is_explicitly_failed_change"]) == (
        2,
        True,
    )
    assert {key: row["is_failed_change"] for key, row in changes.items()} == {
        "801": True,  # OPS-1, explicit
        "802": True,  # GitLab incident naming 9003's sha, explicit
        "803": True,  # OPS-2, inferred
        "804": False,  # OPS-3 is outside the 24 h window
    }
    week = query(
        "select * from marts.rpt_dora_weekly where team_id = 'payments' and week_start_date = %s", (WEEK,)
    )[0]
    # 5 successful production deployments from 4 pipelines on Mon, Tue, Wed, Thu
    assert (week["deployment_count"], week["deployment_days"]) == (4, 4)
    # one unit on both sides: 3 failed changes of 4 = 0.75; explicitly 2 of 4 = 0.5. Before issue 11 the
    # denominator counted deployments: 4 (168 h window: 9002, 9003, 9004, 9005) of 5 = 0.8 beside
    # 4 deployments
    assert (week["failed_deployment_count"], week["change_failure_n"], week["change_failure_rate"]) == (
        3,
        4,
        Decimal("0.75"),
    )
    assert (week["explicitly_failed_deployment_count"], week["change_failure_rate_explicit"]) == (
        2,
        Decimal("0.5"),
    )
    assert week["change_failure_rate_band"] == "low"  # the band reads change_failure_rate (> 0.15)
    team_week = query(
        "select * from marts.fct_team_weekly_metrics where team_id = 'payments' and week_start_date = %s",
        (WEEK,),
    )[0]
    assert (team_week["change_failure_rate"], team_week["change_failure_rate_explicit"]) == (
        Decimal("0.75"),
        Decimal("0.5"),
    )


def test_recovery_time_week(built, query) -> None:
    week = query(
        "select * from marts.rpt_dora_weekly where team_id = 'payments' and week_start_date = %s", (WEEK,)
    )[0]
    # deployment-caused incidents restored this week: OPS-1 2.3333 h, the GitLab incident 2.5 h, OPS-2 18 h:
    # median 2.5 (high: <= 24 h). Before issue 11 (to resolution, 168 h window): OPS-1 24.8333, GitLab 2.5,
    # OPS-2 24, OPS-3 30 -> median 24.4167 (medium)
    assert (week["recovery_time_p50_hours"], week["recovery_time_n"], week["recovery_time_band"]) == (
        Decimal("2.5"),
        3,
        "high",
    )


# ---------------------------------------------------------------- lead time: first commit vs merge


def test_lead_time_first_commit_and_merge_to_production(built, query) -> None:
    week = query(
        "select * from marts.rpt_dora_weekly where team_id = 'payments' and week_start_date = %s", (WEEK,)
    )[0]
    # first commit -> production: 1001 Fri 10:00 -> Mon 12:00 = 74 h; 1002 Mon 09:50 -> 12:00 = 2.1667 h;
    # 1003 Mon 07:00 -> Tue 10:00 = 27 h; 1004 Fri 15:00 -> Tue 10:00 = 91 h. Median (27 + 74) / 2 = 50.5
    assert (week["lead_time_for_changes_p50_hours"], week["lead_time_for_changes_n"]) == (Decimal("50.5"), 4)
    # merge -> production (GitLab's definition): 1 h, 1.5 h, 21 h, 20 h. Median (1.5 + 20) / 2 = 10.75;
    # p85: rank 0.85 * 3 = 2.55 -> 20 + 0.55 * (21 - 20) = 20.55
    assert (
        week["lead_time_merge_to_production_p50_hours"],
        week["lead_time_merge_to_production_p85_hours"],
        week["lead_time_merge_to_production_n"],
    ) == (Decimal("10.75"), Decimal("20.55"), 4)
    # the band is on first commit -> production: 50.5 h is "high" (merge -> production would have been elite)
    assert week["lead_time_for_changes_band"] == "high"
