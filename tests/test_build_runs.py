"""A failed build never leaves old marts looking current: `heimdall build` exits non-zero naming the models it
could not refresh, `marts.rpt_build_runs` (a live view) says the latest build failed and since when the marts
are stale, and `heimdall summary` says so first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from warehouse.dbt_vars import vars_args
from warehouse.loader import load_records
from warehouse.records import RawRecord

HEIMDALL = str(Path(sys.executable).parent / "heimdall")
AS_OF = "2026-01-10T00:00:00+00:00"


def _issue(issue_id: str, key: str, status: str) -> RawRecord:
    project = key.split("-")[0]
    return RawRecord(
        "jira_issues",
        {
            "id": issue_id,
            "key": key,
            "fields": {
                "summary": key,
                "status": {"name": status},
                "issuetype": {"name": "Story"},
                "project": {"id": "10001", "key": project, "name": project},
                "created": "2026-01-05T09:00:00.000+0000",
                "updated": "2026-01-06T09:00:00.000+0000",
            },
        },
    )


@pytest.fixture(scope="module")
def env(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("build-runs")
    return {
        **os.environ,
        "HEIMDALL_DATABASE_URL": warehouse_url,
        "HEIMDALL_HOME": str(home),
        "DBT_TARGET_PATH": str(home / "target"),
        "DBT_LOG_PATH": str(home / "logs"),
        "COLUMNS": "250",
    }


def _heimdall(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HEIMDALL, *args], env=env, capture_output=True, text=True, check=False)


def _rows(url: str, statement: str) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn:
        cursor = conn.execute(statement)
        names = [column.name for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_a_failed_build_marks_the_marts_stale(env, warehouse_url) -> None:
    with psycopg.connect(warehouse_url) as conn:
        load_records(conn, [_issue("1", "PAY-1", "In Progress")], "synthetic")
    first = _heimdall(env, "build", *vars_args(as_of=AS_OF))
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    runs = _rows(warehouse_url, "select * from marts.rpt_build_runs")
    assert [(r["build_status"], r["is_latest_run"], r["is_latest_success"]) for r in runs] == [
        ("succeeded", True, True)
    ]
    assert runs[0]["stale_model_count"] == 0 and "fct_issue_lifecycle" in runs[0]["models_built"]
    assert runs[0]["as_of"].isoformat() == AS_OF

    # a status name nobody mapped: the error-severity test fails, dbt skips what depends on it
    with psycopg.connect(warehouse_url) as conn:
        load_records(conn, [_issue("2", "PAY-2", "Frobnicating")], "synthetic")
    second = _heimdall(env, "build", *vars_args(as_of=AS_OF))
    assert second.returncode == 1
    assert "tests that failed: assert_all_status_names_mapped" in second.stderr
    assert "models skipped, their marts keep the previous build's data" in second.stderr
    assert "Traceback" not in second.stderr

    latest = _rows(warehouse_url, "select * from marts.rpt_build_runs where is_latest_run")[0]
    assert latest["build_status"] == "failed" and not latest["is_latest_success"]
    assert "fct_issue_lifecycle" in latest["models_skipped"]
    assert latest["stale_model_count"] == len(latest["models_failed"]) + len(latest["models_skipped"]) > 0
    assert latest["last_succeeded_at"] == runs[0]["started_at"]
    # the mart still holds the first build's rows: stale, and now said to be
    keys = _rows(warehouse_url, "select issue_key from marts.fct_issue_lifecycle order by 1")
    assert [row["issue_key"] for row in keys] == ["PAY-1"]
    summary = _heimdall(env, "summary")
    assert summary.returncode == 0
    assert "last build failed" in summary.stdout and "models not refreshed" in summary.stdout


def test_a_killed_build_is_marked_interrupted_by_the_next(env, warehouse_url) -> None:
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            "insert into app.build_runs (is_whole_project, dbt_command) values (true, 'dbt build (killed)')"
        )
    done = _heimdall(env, "build", "run", "--select", "stg_jira__issues", *vars_args(as_of=AS_OF))
    assert done.returncode == 0, done.stderr[-2000:]
    statuses = _rows(
        warehouse_url, "select dbt_command, build_status from marts.rpt_build_runs order by build_run_id"
    )
    assert statuses[-2] == {"dbt_command": "dbt build (killed)", "build_status": "interrupted"}
    assert statuses[-1]["build_status"] == "succeeded"
