"""CI and delivery/DORA facts for a second, independent history (team Checkout, February 2026), going through
the real loader and the real dbt build; every expectation is computed BY HAND (arithmetic in the comments).
tests/dbt/test_delivery_metrics.py covers the basic cases; this module covers what it does not:
allowed-to-fail retries, running and skipped pipelines, duration percentiles, environment names decided by
case-insensitive patterns vs GitLab's tier, a staging deployment listing an MR, a merge that lands while a
deployment is running, incidents attributed by sha, by MR, by Jira component, by the team fallback,
references to a later deployment, a named service with nothing deployed in the window, and zero-deployment
weeks in rpt_dora_weekly.
Definitions: docs/metrics.md, "CI" and "Delivery and DORA".

Team Checkout (GitLab namespace `checkout`, Jira team field "Checkout"), projects 21 = acme/checkout/web and
22 = acme/checkout/cart-service. Monday 2026-02-02 starts the main week; as_of Saturday 2026-02-21.

CI, project 21, Monday 2 February (pipelines 701-705) and Tuesday 3 February (706):
* 701 success (MR pipeline), 1200 s: `unit` fails after 120 s and 180 s, passes on attempt 3 (240 s);
  `e2e` (allowed to fail) fails after 60 s, is retried and fails again (60 s) -> flaky (because of `unit`),
  waste (120 + 180 + 60) / 60 = 6 min, 2 retried jobs, 1 flaky job.
* 702 success, 600 s: `lint` (allowed to fail) fails after 30 s, retried, fails again -> 0.5 min of waste, NOT
  flaky (no job was retried to success).
* 703 failed, 300 s: `unit` fails once (90 s), no retry -> no waste.
* 704 skipped (no duration). 705 running (no duration): created but not finished.
* 706 (Tuesday) success, 900 s, no jobs.

Delivery (deployment id, environment name / tier, project, pipeline, finished):
* 8101 `prod` / -, web, 801, Mon 15:00; GitLab's relation lists MR 2001.
* 8102 `Prod-EU` / production, web, 802, Tue 11:00 (created 10:50); no relation.
* 8103 `eu-main` / production, web, 802 (same pipeline, second region), Tue 11:05 (created 10:52);
  no relation.
* 8104 `staging` / production (misconfigured tier: the name wins), cart-service, 806, Wed 16:10; its relation
  lists MR 2004 (staging never counts as reaching production).
* 8105 `review/feature-x` / development, web, 807, Wed 17:00 -> other.
* 8106 `production` / production, cart-service, 803, Thu 10:00; relation lists MR 2004.
* 8107 `production`, cart-service, 804, failed Thu 09:00.
* 8108 `prod` / production, web, 805, Wed 18 Feb 09:20 (created 09:00); no relation.
* 8109 `canary` / no tier, web, 808, Wed 4 Feb 12:00 -> other (default).

Merge requests: 2000 (web, created Mon 26 Jan, open: starts the calendar), 2001 (web, first commit
Mon 08:00, merged Mon 12:00), 2002 (web, first commit Sun 1 Feb 10:00, merged Mon 16:00), 2003 (web, first
commit Tue 09:00, merged Tue 10:55 -- after 8102/8103 started, before they finished), 2004 (cart-service,
first commit Wed 09:00, merged Wed 15:00), 2005 (web, merged Thu 19 Feb, after every deployment).

Incidents (Jira project OPS, team Checkout):
* OPS-11 opened Mon 16:00, "bad release c0ffee12" (sha prefix of 8101), resolved Mon 18:30.
* OPS-12 opened Tue 12:00, wiki-string description (Jira Server / REST v2 shape) "See acme/checkout/web!2",
  resolved Tue 14:00.
* OPS-13 opened Thu 12:00, "Payments timing out", component `cart-service`, resolved Fri 10:00.
* OPS-14 opened Wed 11 Feb 09:00, "Customers report slowness" (names no project), resolved 11:00.
* OPS-15 opened Mon 16 Feb 08:00, "Errors on web after deployment acme/checkout/web#8" (deployment 8108, which
  only finished on the 18th), still open.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.support import Preparation, upstream_of
from warehouse.dbt_vars import vars_args
from warehouse.records import RawRecord

# the team-wide attribution fallback is opt-in; this module exercises it, with the 168 h inference window (the
# default until issue 11, now 24 h) that its attributions below are computed for
VARS = vars_args(
    as_of="2026-02-21T00:00:00+00:00",
    incident_attribution_team_fallback=True,
    incident_attribution_window_hours=168,
)
# what these tests read: only these models and their upstream are built (with their data and unit tests)
MODELS = (
    "fct_pipelines",
    "fct_jobs",
    "fct_ci_daily",
    "fct_deployments",
    "int_merge_request_deployments_matched",
    "fct_incidents",
    "rpt_dora_weekly",
)
WEB, CART = 21, 22
NAMESPACE = {"id": 90, "name": "Checkout", "path": "checkout", "full_path": "acme/checkout"}
TEAM_FIELD = "customfield_10001"
DEV = {"id": 301, "username": "dana", "name": "Dana"}


def gl(date: str, hhmm: str) -> str:
    """GitLab REST timestamp; date is MM-DD of 2026."""
    return f"2026-{date}T{hhmm}:00.000Z"


def jira(date: str, hhmm: str) -> str:
    return f"2026-{date}T{hhmm}:00.000+0000"


def utc(date: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"2026-{date}T{hhmm}:00").replace(tzinfo=UTC)


def project(project_id: int, name: str) -> RawRecord:
    doc = {
        "id": project_id,
        "name": name,
        "path": name,
        "path_with_namespace": f"acme/checkout/{name}",
        "namespace": NAMESPACE,
        "web_url": f"https://gitlab.example/acme/checkout/{name}",
        "created_at": gl("01-01", "09:00"),
        "last_activity_at": gl("02-20", "09:00"),
    }
    return RawRecord("gitlab_projects", doc)


def pipeline(
    pipeline_id: int, status: str, created: str, duration: int | None, *, source: str = "push"
) -> RawRecord:
    ref = "refs/merge-requests/1/head" if source == "merge_request_event" else "main"
    finished = None if duration is None else created
    doc = {
        "id": pipeline_id,
        "iid": pipeline_id - 700,
        "project_id": WEB,
        "sha": f"{pipeline_id:040x}",
        "ref": ref,
        "status": status,
        "source": source,
        "created_at": created,
        "updated_at": created,
        "started_at": created,
        "finished_at": finished,
        "duration": duration,
        "queued_duration": 3,
        "web_url": f"https://gitlab.example/acme/checkout/web/-/pipelines/{pipeline_id}",
    }
    return RawRecord("gitlab_pipelines", doc, str(WEB))


def job(
    job_id: int,
    pipeline_id: int,
    name: str,
    status: str,
    started: str,
    seconds: float,
    *,
    retried: bool = False,
    allow_failure: bool = False,
) -> RawRecord:
    doc = {
        "id": job_id,
        "status": status,
        "stage": "test",
        "name": name,
        "ref": "main",
        "allow_failure": allow_failure,
        "created_at": started,
        "started_at": started,
        "finished_at": started,
        "duration": seconds,
        "queued_duration": 1.5,
        "failure_reason": "script_failure" if status == "failed" else None,
        "retried": retried,
        "pipeline": {"id": pipeline_id, "project_id": WEB, "ref": "main", "status": "success"},
        "web_url": f"https://gitlab.example/acme/checkout/web/-/jobs/{job_id}",
    }
    return RawRecord("gitlab_jobs", doc, str(pipeline_id))


def deployment(
    deployment_id: int,
    project_id: int,
    env: str,
    tier: str | None,
    pipeline_id: int,
    created: str,
    finished: str | None,
    *,
    status: str = "success",
    sha: str | None = None,
) -> RawRecord:
    environment: dict[str, Any] = {"id": deployment_id - 8000, "name": env, "slug": env.lower()}
    if tier is not None:
        environment["tier"] = tier
    doc = {
        "id": deployment_id,
        "iid": deployment_id - 8100,
        "ref": "main",
        "sha": sha or f"{deployment_id:040x}",
        "status": status,
        "created_at": created,
        "updated_at": finished or created,
        "finished_at": finished,
        "user": DEV,
        "environment": environment,
        "deployable": {"id": deployment_id * 10, "status": status, "pipeline": {"id": pipeline_id}},
    }
    return RawRecord("gitlab_deployments", doc, str(project_id))


def merge_request(mr_id: int, project_id: int, created: str, merged: str | None) -> dict[str, Any]:
    iid = mr_id - 2000
    name = "web" if project_id == WEB else "cart-service"
    return {
        "id": mr_id,
        "iid": iid,
        "project_id": project_id,
        "title": f"Change {iid}",
        "description": "",
        "state": "merged" if merged else "opened",
        "draft": False,
        "work_in_progress": False,
        "source_branch": f"change-{iid}",
        "target_branch": "main",
        "author": DEV,
        "created_at": created,
        "updated_at": merged or created,
        "merged_at": merged,
        "closed_at": None,
        "merge_commit_sha": f"{mr_id:040x}" if merged else None,
        "sha": f"{mr_id + 1:040x}",
        "labels": [],
        "reviewers": [],
        "web_url": f"https://gitlab.example/acme/checkout/{name}/-/merge_requests/{iid}",
        "diff_stats": {"additions": 5, "deletions": 1, "file_count": 1},
    }


def commit(mr_id: int, authored: str) -> RawRecord:
    sha = f"{mr_id * 7:040x}"
    doc = {
        "id": sha,
        "short_id": sha[:8],
        "title": "Work",
        "message": "Work\n",
        "author_name": "Dana",
        "author_email": "dana@example.com",
        "authored_date": authored,
        "committed_date": authored,
    }
    return RawRecord("gitlab_mr_commits", doc, parent_id=str(mr_id))


def incident(
    issue_id: int,
    key: str,
    opened: tuple[str, str],
    summary: str,
    description: Any,
    resolved: tuple[str, str] | None,
    *,
    components: list[str] | None = None,
) -> list[RawRecord]:
    fields = {
        "summary": summary,
        "description": description,
        "status": {"id": "3", "name": "Resolved" if resolved else "Investigating"},
        "issuetype": {"name": "Incident"},
        "project": {"id": "10900", "key": "OPS", "name": "Operations"},
        "assignee": {"accountId": "acc-9", "displayName": "On call"},
        "reporter": {"accountId": "acc-9", "displayName": "On call"},
        "priority": {"name": "High"},
        "labels": ["incident"],
        "components": [{"id": str(i), "name": c} for i, c in enumerate(components or [])],
        "created": jira(*opened),
        "updated": jira(*(resolved or opened)),
        "resolutiondate": jira(*resolved) if resolved else None,
        TEAM_FIELD: {"id": "t-checkout", "name": "Checkout", "title": "Checkout"},
    }
    doc = {"id": str(issue_id), "key": key, "self": f"https://jira.example/{issue_id}", "fields": fields}

    def change(suffix: int, at: tuple[str, str], before: str, after: str) -> RawRecord:
        item = {
            "field": "status",
            "fieldtype": "jira",
            "fieldId": "status",
            "from": "1",
            "fromString": before,
            "to": "2",
            "toString": after,
        }
        history = {
            "id": f"{issue_id}{suffix}",
            "author": {"accountId": "acc-9"},
            "created": jira(*at),
            "items": [item],
        }
        return RawRecord("jira_changelogs", history, parent_id=str(issue_id))

    date, hhmm = opened
    recs = [RawRecord("jira_issues", doc), change(1, (date, hhmm[:3] + "05"), "Open", "Investigating")]
    if resolved:
        recs.append(change(2, resolved, "Investigating", "Resolved"))
    return recs


def adf(text: str) -> dict[str, Any]:
    """An Atlassian Document Format description, as Jira Cloud REST v3 returns it."""
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def records() -> list[RawRecord]:
    recs: list[RawRecord] = [project(WEB, "web"), project(CART, "cart-service")]
    # ---- CI: Monday 2 February, project web
    mon, tue = "02-02", "02-03"
    recs += [
        pipeline(701, "success", gl(mon, "09:00"), 1200, source="merge_request_event"),
        job(1, 701, "unit", "failed", gl(mon, "09:01"), 120, retried=True),
        job(2, 701, "unit", "failed", gl(mon, "09:04"), 180, retried=True),
        job(3, 701, "unit", "success", gl(mon, "09:08"), 240),
        job(4, 701, "e2e", "failed", gl(mon, "09:01"), 60, retried=True, allow_failure=True),
        job(5, 701, "e2e", "failed", gl(mon, "09:03"), 60, allow_failure=True),
        pipeline(702, "success", gl(mon, "10:00"), 600),
        job(6, 702, "lint", "failed", gl(mon, "10:01"), 30, retried=True, allow_failure=True),
        job(7, 702, "lint", "failed", gl(mon, "10:02"), 30, allow_failure=True),
        pipeline(703, "failed", gl(mon, "11:00"), 300),
        job(8, 703, "unit", "failed", gl(mon, "11:01"), 90),
        pipeline(704, "skipped", gl(mon, "12:00"), None),
        pipeline(705, "running", gl(mon, "23:00"), None),
        pipeline(706, "success", gl(tue, "09:00"), 900),
    ]
    # ---- deployments
    wed, thu = "02-04", "02-05"
    recs += [
        deployment(
            8101, WEB, "prod", None, 801, gl(mon, "14:50"), gl(mon, "15:00"), sha="c0ffee12" + "0" * 32
        ),
        deployment(8102, WEB, "Prod-EU", "production", 802, gl(tue, "10:50"), gl(tue, "11:00")),
        deployment(8103, WEB, "eu-main", "production", 802, gl(tue, "10:52"), gl(tue, "11:05")),
        deployment(8104, CART, "staging", "production", 806, gl(wed, "16:00"), gl(wed, "16:10")),
        deployment(8105, WEB, "review/feature-x", "development", 807, gl(wed, "16:50"), gl(wed, "17:00")),
        deployment(8106, CART, "production", "production", 803, gl(thu, "09:50"), gl(thu, "10:00")),
        deployment(8107, CART, "production", "production", 804, gl(thu, "08:50"), None, status="failed"),
        deployment(8108, WEB, "prod", "production", 805, gl("02-18", "09:00"), gl("02-18", "09:20")),
        deployment(8109, WEB, "canary", None, 808, gl(wed, "11:50"), gl(wed, "12:00")),
    ]
    # ---- merge requests, their first commits, GitLab's deployment -> MR relation
    mrs = {
        2000: merge_request(2000, WEB, gl("01-26", "09:00"), None),
        2001: merge_request(2001, WEB, gl(mon, "08:30"), gl(mon, "12:00")),
        2002: merge_request(2002, WEB, gl(mon, "09:00"), gl(mon, "16:00")),
        2003: merge_request(2003, WEB, gl(tue, "09:30"), gl(tue, "10:55")),
        2004: merge_request(2004, CART, gl(wed, "09:30"), gl(wed, "15:00")),
        2005: merge_request(2005, WEB, gl("02-19", "09:00"), gl("02-19", "10:00")),
    }
    recs += [RawRecord("gitlab_merge_requests", mr, str(mr["project_id"])) for mr in mrs.values()]
    recs += [
        commit(2001, gl(mon, "08:00")),
        commit(2002, gl("02-01", "10:00")),
        commit(2003, gl(tue, "09:00")),
        commit(2004, gl(wed, "09:00")),
        commit(2005, gl("02-19", "08:00")),
        RawRecord("gitlab_deployment_merge_requests", mrs[2001], parent_id="8101"),
        RawRecord("gitlab_deployment_merge_requests", mrs[2004], parent_id="8104"),
        RawRecord("gitlab_deployment_merge_requests", mrs[2004], parent_id="8106"),
    ]
    # ---- incidents
    recs += incident(
        3011,
        "OPS-11",
        (mon, "16:00"),
        "Payment form broken",
        adf("Bad release c0ffee12, rolling back."),
        (mon, "18:30"),
    )
    recs += incident(
        3012,
        "OPS-12",
        (tue, "12:00"),
        "Checkout page errors",
        "See acme/checkout/web!2 for the change.",
        (tue, "14:00"),
    )
    recs += incident(
        3013,
        "OPS-13",
        (thu, "12:00"),
        "Payments timing out",
        None,
        ("02-06", "10:00"),
        components=["cart-service"],
    )
    recs += incident(
        3014,
        "OPS-14",
        ("02-11", "09:00"),
        "Customers report slowness",
        adf("Alerts fired."),
        ("02-11", "11:00"),
    )
    recs += incident(
        3015, "OPS-15", ("02-16", "08:00"), "Errors on web after deployment acme/checkout/web#8", None, None
    )
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


def test_pipeline_waste_flakiness_and_allowed_failures(built, query) -> None:
    rows = {
        r["pipeline_id"]: r for r in query("select * from marts.fct_pipelines where team_id = 'checkout'")
    }
    p701 = rows["701"]
    # unit 120 s + 180 s and e2e 60 s were replaced by later attempts: 360 s = 6 min
    assert p701["retry_waste_minutes"] == Decimal("6")
    assert (p701["job_count"], p701["job_attempt_count"], p701["retried_attempt_count"]) == (2, 5, 3)
    assert (p701["retried_job_count"], p701["flaky_job_count"], p701["is_flaky"]) == (2, 1, True)
    assert p701["is_merge_request_pipeline"] is True
    # 702: the allowed-to-fail lint job failed twice: 30 s of waste, never retried to success -> not flaky
    assert (rows["702"]["retry_waste_minutes"], rows["702"]["is_flaky"]) == (Decimal("0.5"), False)
    assert (rows["703"]["is_failed"], rows["703"]["retry_waste_minutes"]) == (True, Decimal("0"))
    assert (rows["704"]["is_finished"], rows["705"]["is_finished"]) == (True, False)
    jobs = {r["job_id"]: r for r in query("select * from marts.fct_jobs where pipeline_id = '701'")}
    # unit attempts 1, 2, 3 by start time; the final one wasted nothing
    assert [jobs[j]["attempt_number"] for j in ("1", "2", "3")] == [1, 2, 3]
    assert [jobs[j]["retry_waste_minutes"] for j in ("1", "2", "3")] == [
        Decimal("2"),
        Decimal("3"),
        Decimal("0"),
    ]
    assert (jobs["5"]["is_final_attempt"], jobs["5"]["attempt_count"], jobs["4"]["is_retried_attempt"]) == (
        True,
        2,
        True,
    )


def test_ci_daily_counts_rate_and_percentiles(built, query) -> None:
    rows = {
        str(r["date_day"]): r for r in query("select * from marts.fct_ci_daily where team_id = 'checkout'")
    }
    assert sorted(rows) == ["2026-02-02", "2026-02-03"]
    mon = rows["2026-02-02"]
    # created 701-705 = 5; finished = all but running 705 = 4; succeeded 701, 702; failed 703; skipped 704
    assert (mon["pipelines_created"], mon["pipelines_finished"]) == (5, 4)
    assert (mon["pipelines_succeeded"], mon["pipelines_failed"], mon["pipelines_cancelled_or_skipped"]) == (
        2,
        1,
        1,
    )
    # failure rate = 1 / (2 + 1); the skipped and the running pipeline are not in it
    assert mon["failure_rate"] == Decimal("0.3333")
    # flaky: 701 only; waste 6 + 0.5 = 6.5 min
    assert (mon["flaky_pipelines"], mon["retry_waste_minutes"]) == (1, Decimal("6.5"))
    # durations with a value: 300, 600, 1200 s. Median 600 s = 10 min;
    # p85 (continuous): rank 0.85 * 2 = 1.7 -> 600 + 0.7 * (1200 - 600) = 1020 s = 17 min
    assert (mon["duration_p50_minutes"], mon["duration_p85_minutes"]) == (Decimal("10"), Decimal("17"))
    tue = rows["2026-02-03"]
    assert (tue["pipelines_created"], tue["failure_rate"], tue["duration_p50_minutes"]) == (
        1,
        Decimal("0"),
        Decimal("15"),
    )


def test_environment_classes(built, query) -> None:
    rows = {
        r["deployment_id"]: (r["environment_class"], r["environment_class_source"])
        for r in query("select * from marts.fct_deployments where team_id = 'checkout'")
    }
    assert rows["8101"] == ("production", "name_pattern")  # prod
    assert rows["8102"] == ("production", "name_pattern")  # Prod-EU: lower-cased before matching
    assert rows["8103"] == ("production", "environment_tier")  # eu-main: no pattern, tier production
    assert rows["8104"] == ("staging", "name_pattern")  # the name wins over a production tier
    assert rows["8105"] == ("other", "name_pattern")  # review/feature-x
    assert rows["8109"] == ("other", "default")  # canary, no tier


def test_merge_request_matching(built, query) -> None:
    matched = {
        r["merge_request_id"]: (r["deployment_id"], r["match_method"], r["deployed_at"])
        for r in query("select * from intermediate.int_merge_request_deployments_matched")
    }
    assert matched == {
        "2001": ("8101", "deployment_relation", utc("02-02", "15:00")),
        # 8101 knows its MRs (not 2002): the next production deployment of web started after 16:00 is 8102
        "2002": ("8102", "inferred_merge_time", utc("02-03", "11:00")),
        # merged 10:55, while 8102 (started 10:50) and 8103 (10:52) were running: they cannot contain it;
        # the next one is 8108 on the 18th
        "2003": ("8108", "inferred_merge_time", utc("02-18", "09:20")),
        # the staging deployment 8104 also lists 2004; only production counts
        "2004": ("8106", "deployment_relation", utc("02-05", "10:00")),
        # 2005 merged after every deployment; 2000 never merged
    }
    deps = {
        r["deployment_id"]: r for r in query("select * from marts.fct_deployments where team_id = 'checkout'")
    }
    assert (deps["8102"]["is_first_of_pipeline"], deps["8103"]["is_first_of_pipeline"]) == (True, False)
    # 8101 shipped 2001: first commit Mon 08:00 -> 15:00 = 7 h
    assert (deps["8101"]["merge_request_count"], deps["8101"]["lead_time_p50_hours"]) == (1, Decimal("7"))
    # 8108 shipped 2003 (inferred): Tue 3 Feb 09:00 -> Wed 18 Feb 09:20 = 15 d 20 min = 360.3333 h
    assert (deps["8108"]["inferred_merge_request_count"], deps["8108"]["lead_time_p50_hours"]) == (
        1,
        Decimal("360.3333"),
    )
    assert deps["8104"]["merge_request_count"] == 0


def test_incident_attribution(built, query) -> None:
    rows = {r["issue_key"]: r for r in query("select * from marts.fct_incidents where team_id = 'checkout'")}
    got = {key: (row["deployment_id"], row["attribution_method"]) for key, row in rows.items()}
    assert got == {
        "OPS-11": ("8101", "explicit_sha"),  # c0ffee12 = prefix of 8101's sha
        "OPS-12": ("8102", "explicit_merge_request"),  # web!2 = MR 2002, first deployed by 8102
        "OPS-13": ("8106", "inferred_last_deployment"),  # component cart-service; its last deployment
        # names no project: the team's last production deployment before Wed 11 Feb 09:00 is 8106
        # (Thu 5 Feb 10:00, 143 h earlier, inside the 168 h window)
        "OPS-14": ("8106", "inferred_team_last_deployment"),
        # web#8 = 8108 finished on the 18th, after the incident opened on the 16th: not its cause. The text
        # names web, whose last production deployment (8103, Tue 3 Feb 11:05) is ~309 h old: outside the
        # window, and the team fallback does not apply to a named service
        "OPS-15": (None, "unattributed"),
    }
    # recovery = deployment finished -> resolved; time to restore = opened -> resolved
    # OPS-11: 15:00 -> 18:30 = 3.5 h; 16:00 -> 18:30 = 2.5 h
    assert (rows["OPS-11"]["recovery_time_hours"], rows["OPS-11"]["time_to_restore_hours"]) == (
        Decimal("3.5"),
        Decimal("2.5"),
    )
    # OPS-12: Tue 11:00 -> 14:00 = 3 h. OPS-13: Thu 10:00 -> Fri 10:00 = 24 h (opened 12:00: 22 h to restore)
    assert rows["OPS-12"]["recovery_time_hours"] == Decimal("3")
    assert (rows["OPS-13"]["recovery_time_hours"], rows["OPS-13"]["time_to_restore_hours"]) == (
        Decimal("24"),
        Decimal("22"),
    )
    # OPS-14: Thu 5 Feb 10:00 -> Wed 11 Feb 11:00 = 6 d 1 h = 145 h
    assert rows["OPS-14"]["recovery_time_hours"] == Decimal("145")
    assert (rows["OPS-15"]["is_resolved"], rows["OPS-15"]["recovery_time_hours"]) == (False, None)
    deps = {
        r["deployment_id"]: r for r in query("select * from marts.fct_deployments where team_id = 'checkout'")
    }
    assert (deps["8106"]["incident_count"], deps["8106"]["incident_keys"]) == (2, "OPS-13, OPS-14")


def test_dora_weeks(built, query) -> None:
    weeks = {
        str(r["week_start_date"]): r
        for r in query(
            "select * from marts.rpt_dora_weekly where team_id = 'checkout' order by week_start_date"
        )
    }
    # calendar from MR 2000 (Mon 26 Jan) to as_of (Sat 21 Feb): four ISO weeks, zero-deployment ones included
    assert sorted(weeks) == ["2026-01-26", "2026-02-02", "2026-02-09", "2026-02-16"]
    w1 = weeks["2026-02-02"]
    # successful production deployments: 8101 (Mon, pipeline 801), 8102 + 8103 (Tue, both pipeline 802),
    # 8106 (Thu, 803) -> 3 days, 3 deployments (pipelines); 8104 staging, 8105/8109 other, 8107 failed
    assert (w1["deployment_days"], w1["deployment_count"]) == (3, 3)
    # change failure, on the same unit (issue 11; it was 3 of 4 deployments = 0.75): pipelines 801 (8101:
    # OPS-11), 802 (8102: OPS-12) and 803 (8106: OPS-13, OPS-14) of 3 production changes = 1
    assert (w1["failed_deployment_count"], w1["change_failure_n"], w1["change_failure_rate"]) == (
        3,
        3,
        Decimal("1"),
    )
    # lead times deployed this week: 2001 7 h, 2004 Wed 09:00 -> Thu 10:00 = 25 h, 2002 Sun 10:00 -> Tue 11:00
    # = 49 h. Median 25; p85: rank 1.7 -> 25 + 0.7 * (49 - 25) = 41.8
    assert (w1["lead_time_for_changes_p50_hours"], w1["lead_time_for_changes_p85_hours"]) == (
        Decimal("25"),
        Decimal("41.8"),
    )
    assert (w1["lead_time_for_changes_n"], w1["lead_time_for_changes_inferred_n"]) == (3, 1)
    # recovery of incidents resolved this week: 3.5, 3, 24 -> median 3.5
    assert (w1["recovery_time_p50_hours"], w1["recovery_time_n"]) == (Decimal("3.5"), 3)
    # 4-week average of deployment_count: weeks so far 0 (26 Jan), 3 -> 1.5
    assert w1["deployments_per_week_4w"] == Decimal("1.5")
    # bands: frequency 1.5 >= 1 high; lead time 25 h (> 24, <= 168) high; CFR 0.75 > 0.15 low;
    # recovery 3.5 h high
    assert (
        w1["deployment_frequency_band"],
        w1["lead_time_for_changes_band"],
        w1["change_failure_rate_band"],
        w1["recovery_time_band"],
    ) == ("high", "high", "low", "high")

    empty = weeks["2026-01-26"]
    assert (empty["deployment_days"], empty["deployment_count"], empty["change_failure_n"]) == (0, 0, 0)
    # no deployment: no failure rate and no band for it; 4-week average 0 -> low frequency
    assert (empty["change_failure_rate"], empty["change_failure_rate_band"]) == (None, None)
    assert (empty["deployments_per_week_4w"], empty["deployment_frequency_band"]) == (Decimal("0"), "low")

    w2 = weeks["2026-02-09"]
    # no deployment, but OPS-14 was resolved: recovery 145 h (medium: <= 168); average (0 + 3 + 0) / 3 = 1
    assert (w2["deployment_count"], w2["recovery_time_p50_hours"], w2["recovery_time_band"]) == (
        0,
        Decimal("145"),
        "medium",
    )
    assert (w2["deployments_per_week_4w"], w2["deployment_frequency_band"]) == (Decimal("1"), "high")

    w3 = weeks["2026-02-16"]
    # 8108 only (Wed): 1 day, 1 deployment, no attributed incident -> CFR 0 (elite);
    # lead time 2003 = 360.3333 h (medium: <= 720), inferred; average (0 + 3 + 0 + 1) / 4 = 1
    assert (w3["deployment_days"], w3["deployment_count"], w3["change_failure_rate"]) == (1, 1, Decimal("0"))
    assert w3["change_failure_rate_band"] == "elite"
    assert (w3["lead_time_for_changes_p50_hours"], w3["lead_time_for_changes_inferred_n"]) == (
        Decimal("360.3333"),
        1,
    )
    assert w3["lead_time_for_changes_band"] == "medium"
    assert w3["deployments_per_week_4w"] == Decimal("1")
