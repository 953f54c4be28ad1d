"""Real GitLab pipeline, job and deployment documents (Apache DevLake's e2e raw tables: gitlab.com REST v4
responses for project 12345678 and a self-managed instance's project 44, in ../shared/specimens) go through
the real loader, the GitLab staging views and the CI / deployment models. Every expected value was read off
the specimen CSVs BY HAND (`data` column); the arithmetic is in the comments. Skips when the specimens are
absent. Only the CI and deployment part of the project is built (tests whose parents are all built).

The specimens hold no project document in the REST shape (DevLake keeps projects in a tool table), so one
minimal `GET /projects/:id` document for 12345678 is written here to give its pipelines a team (`ee`)."""

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

# what these tests read: only these models and their upstream are built (with their data and unit tests)
MODELS = ("fct_pipelines", "fct_ci_daily", "fct_jobs", "int_deployments_classified", "dim_teams")


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="") as handle:
        yield from csv.DictReader(handle)


def ci_records(root: Path) -> list[RawRecord]:
    tables = root / "devlake/gitlab/raw_tables"
    records: list[RawRecord] = []
    # GET /projects/:id/pipelines/:pipeline_id; the project id is in the request params
    for row in _rows(tables / "_raw_gitlab_api_pipeline_details.csv"):
        project_id = str(json.loads(row["params"])["ProjectId"])
        records.append(RawRecord("gitlab_pipelines", json.loads(row["data"]), parent_id=project_id))
    # GET /projects/44/jobs: each job names its pipeline
    for row in _rows(tables / "_raw_gitlab_api_job.csv"):
        doc = json.loads(row["data"])
        records.append(RawRecord("gitlab_jobs", doc, parent_id=str(doc["pipeline"]["id"])))
    # GET /projects/:id/deployments
    for row in _rows(tables / "_raw_gitlab_api_deployments.csv"):
        project_id = str(json.loads(row["params"])["ProjectId"])
        records.append(RawRecord("gitlab_deployments", json.loads(row["data"]), parent_id=project_id))
    project = {
        "id": 12345678,
        "name": "vdev.co",
        "path": "vdev.co",
        "path_with_namespace": "merico-dev/ee/vdev.co",
        "namespace": {"id": 1, "name": "ee", "path": "ee", "full_path": "merico-dev/ee"},
        "web_url": "https://gitlab.com/merico-dev/ee/vdev.co",
        "created_at": "2019-03-01T00:00:00.000Z",
        "last_activity_at": "2023-11-21T05:36:26.218Z",
    }
    records.append(RawRecord("gitlab_projects", project))
    return records


def prepare_in_background(prep: Preparation) -> None:
    """Load the specimens and build (starts with the session, see tests/conftest.py)."""
    warehouse = prep.warehouse()
    summary = warehouse.load(ci_records(prep.specimens()), source="gitlab")
    assert summary.rejected == 0
    by_table = summary.by_table()
    # 16 rows in pipeline_details, 75 in job, 8 in deployments
    assert by_table["gitlab_pipelines"]["received"] == 16
    assert by_table["gitlab_jobs"]["received"] == 75
    assert by_table["gitlab_deployments"]["received"] == 8
    warehouse.dbt("build", *upstream_of(*MODELS), *vars_args(as_of="2024-01-01T00:00:00+00:00"))


@pytest.fixture(scope="module")
def built(prepared) -> None:
    return prepared


def test_pipeline_staging_fields(built, query) -> None:
    row = query("select * from staging.stg_gitlab__pipelines where pipeline_id = '1079555385'")[0]
    # the only push pipeline: iid 36248 on master, sha b5b8ec19..., 1384 s, queued 2 s
    assert (row["project_id"], row["ref"], row["trigger_source"], row["status"]) == (
        "12345678",
        "master",
        "push",
        "success",
    )
    assert row["commit_sha"] == "b5b8ec19fbddefe1374e87b05775f238ac06003e"
    assert (row["duration_seconds"], row["queued_duration_seconds"]) == (Decimal("1384"), Decimal("2"))
    assert row["started_at"] == datetime(2023, 11, 21, 3, 28, 32, 970000, tzinfo=UTC)
    assert row["finished_at"] == datetime(2023, 11, 21, 3, 51, 44, 872000, tzinfo=UTC)
    mart = query("select * from marts.fct_pipelines where pipeline_id = '1079555385'")[0]
    assert (mart["team_id"], mart["is_merge_request_pipeline"], mart["is_finished"]) == ("ee", False, True)
    # no jobs of this project are in the specimens: zero attempts, zero waste, not flaky
    assert (mart["job_attempt_count"], mart["retry_waste_minutes"], mart["is_flaky"]) == (
        0,
        Decimal("0"),
        False,
    )


def test_ci_daily_from_specimens(built, query) -> None:
    rows = {str(r["date_day"]): r for r in query("select * from marts.fct_ci_daily where team_id = 'ee'")}
    # 1078343570 was created on 20 Nov 2023; the 15 others on 21 Nov (UTC)
    assert sorted(rows) == ["2023-11-20", "2023-11-21"]
    day = rows["2023-11-21"]
    # failed: 1079502706, 1079509085, 1079536077, 1079536741, 1079589242 = 5; the other 10 succeeded
    assert (day["pipelines_created"], day["pipelines_finished"]) == (15, 15)
    assert (day["pipelines_succeeded"], day["pipelines_failed"], day["pipelines_cancelled_or_skipped"]) == (
        10,
        5,
        0,
    )
    # failure rate = 5 / (10 + 5) = 0.33333
    assert day["failure_rate"] == Decimal("0.3333")
    # durations sorted: 181 183 190 202 758 1363 1384 1388 1447 1464 1466 1470 1486 1532 1618 (15 values)
    # median = the 8th = 1388 s = 23.13333 min
    # p85: rank 0.85 * 14 = 11.9 -> 1470 + 0.9 * (1486 - 1470) = 1484.4 s = 24.74 min
    assert day["duration_p50_minutes"] == Decimal("23.1333")
    assert day["duration_p85_minutes"] == Decimal("24.74")
    # queued (s): 4 3 11 3 4 3 1 2 2 2 3 1 3 3 1 -> sorted 1 1 1 2 2 2 3 3 3 3 3 3 4 4 11, median 3 s
    assert day["queued_p50_minutes"] == Decimal("0.05")
    first = rows["2023-11-20"]
    # 1078343570: success, 1512 s = 25.2 min
    assert (first["pipelines_succeeded"], first["failure_rate"], first["duration_p50_minutes"]) == (
        1,
        Decimal("0"),
        Decimal("25.2"),
    )


def test_job_staging_fields(built, query) -> None:
    job = query("select * from staging.stg_gitlab__jobs where job_id = '120'")[0]
    # job 120: `format` in stage test, success, pipeline 41, 56.799878 s, started 2022-07-29 02:10:58.370
    assert (job["job_name"], job["stage"], job["status"], job["pipeline_id"]) == (
        "format",
        "test",
        "success",
        "41",
    )
    assert job["duration_seconds"] == Decimal("56.799878")
    assert job["started_at"] == datetime(2022, 7, 29, 2, 10, 58, 370000, tzinfo=UTC)
    # this older API has neither `retried` nor the pipeline's project id
    assert (job["is_retried"], job["is_allowed_to_fail"], job["project_id"]) == (False, False, None)


def test_job_attempts_from_specimens(built, query) -> None:
    jobs = {
        r["job_id"]: r for r in query("select * from marts.fct_jobs where pipeline_id in ('41', '16', '28')")
    }
    # pipeline 41: `format` job 119 (created 2022-07-28 21:19, failed without ever starting) then job 120
    # (created 2022-07-29 02:09, success): 119 is the retried attempt 1, wasting nothing (no run time)
    assert (jobs["119"]["attempt_number"], jobs["119"]["is_retried_attempt"]) == (1, True)
    assert jobs["119"]["retry_waste_minutes"] == Decimal("0")
    assert (jobs["120"]["attempt_number"], jobs["120"]["is_final_attempt"]) == (2, True)
    # pipeline 16: jobs 60-67 and 86 share created_at 13:40:38.969 and started_at 13:40:42.020, so the job id
    # breaks the tie (numerically: 67 before 86); job 87 (created 13:41:08.660) is the 10th and final attempt
    assert [jobs[j]["attempt_number"] for j in ("60", "67", "86", "87")] == [1, 8, 9, 10]
    assert (jobs["87"]["attempt_count"], jobs["87"]["is_final_attempt"]) == (10, True)
    # each of the nine replaced attempts ran 0.871577 s = 0.014526 min
    assert jobs["86"]["retry_waste_minutes"] == Decimal("0.0145")
    # pipeline 28: `compile` (105) and `format` (104) are different jobs: one attempt each, both final
    assert (jobs["104"]["attempt_count"], jobs["105"]["attempt_count"]) == (1, 1)


def test_deployment_fields_and_classes(built, query) -> None:
    row = query("select * from staging.stg_gitlab__deployments where deployment_id = '13426753'")[0]
    # iid 1 to `staging` from pipeline 51653436 (deployable.pipeline.id), sha add237f6..., no environment tier
    assert (row["deployment_iid"], row["project_id"], row["ref"], row["status"]) == (
        "1",
        "12345678",
        "master",
        "success",
    )
    assert (row["environment_name"], row["environment_tier"], row["pipeline_id"]) == (
        "staging",
        None,
        "51653436",
    )
    assert row["commit_sha"] == "add237f6852e6108ee8e0246780a54ce909c6087"
    classified = {
        r["deployment_id"]: r for r in query("select * from intermediate.int_deployments_classified")
    }
    # finished_at is null in this response: a successful deployment counts as done at updated_at 14:17:47.647
    assert classified["13426753"]["deployed_at"] == datetime(2019, 3, 13, 14, 17, 47, 647000, tzinfo=UTC)
    # environments: `staging` (iids 1, 2, 3, 6, 7) and `production` (iids 4, 5, 8), decided by name
    classes = {r["deployment_iid"]: r["environment_class"] for r in classified.values()}
    assert classes == {
        "1": "staging",
        "2": "staging",
        "3": "staging",
        "4": "production",
        "5": "production",
        "6": "staging",
        "7": "staging",
        "8": "production",
    }
    # no production deployment succeeded (canceled, created, blocked): none reached production
    production = [r for r in classified.values() if r["environment_class"] == "production"]
    assert {r["status"] for r in production} == {"canceled", "created", "blocked"}
    assert all(r["deployed_at"] is None and r["is_successful"] is False for r in production)
    assert {r["team_id"] for r in classified.values()} == {"ee"}
