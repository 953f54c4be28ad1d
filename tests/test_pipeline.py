"""End to end through the real CLI: generator → loader → dbt build on real PostgreSQL, twice.

Running the whole demo twice must leave identical marts (idempotent loads and builds), and the JSON-lines
path (`generate --out` then `load`) must store exactly what the direct path stores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from warehouse.settings import PROJECT_ROOT

AS_OF = "2026-11-20"
SCENARIO = "generator/scenarios/test_small.yml"
DEMO_ARGS = ("--scale", "small", "--seed", "7", "--as-of", AS_OF, "--scenario", SCENARIO)
HEIMDALL = str(Path(sys.executable).parent / "heimdall")


def heimdall(env: dict[str, str], *args: str) -> str:
    completed = subprocess.run(
        [HEIMDALL, *args], env=env, capture_output=True, text=True, check=False, cwd=PROJECT_ROOT
    )
    if completed.returncode != 0:
        raise AssertionError(f"heimdall {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout


# The build log records when each build ran: it grows by one row per build by design, so it is no data mart.
BUILD_LOG = "rpt_build_runs"


def marts_snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every mart's rows (the build log aside)."""
    snapshot = {}
    with psycopg.connect(url) as conn:
        names = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
        for (name,) in names:
            if name == BUILD_LOG:
                continue
            rows = conn.execute(f'select * from marts."{name}"').fetchall()
            snapshot[name] = sorted(rows, key=repr)
    return snapshot


@pytest.fixture(scope="module")
def env(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    return {
        **os.environ,
        "HEIMDALL_DATABASE_URL": warehouse_url,
        "HEIMDALL_HOME": str(home),
        "DBT_TARGET_PATH": str(home / "target"),
        "DBT_LOG_PATH": str(home / "logs"),
        "COLUMNS": "200",
    }


@pytest.fixture(scope="module")
def first_demo(env: dict[str, str], warehouse_url: str) -> tuple[str, dict[str, list[tuple[Any, ...]]]]:
    output = heimdall(env, "demo", *DEMO_ARGS)
    return output, marts_snapshot(warehouse_url)


def test_demo_builds_every_required_mart(first_demo) -> None:
    output, snapshot = first_demo
    required = {
        "fct_issue_lifecycle",
        "fct_issue_status_intervals",
        "fct_blocked_intervals",
        "fct_throughput_daily",
        "fct_wip_daily",
        "fct_wip_current",
        "fct_sprint_performance",
        "dim_teams",
        "dim_projects",
        "dim_sprints",
        "dim_dates",
    }
    assert required <= set(snapshot)
    empty = [name for name in required if not snapshot[name]]
    assert not empty, f"empty marts: {empty}"
    for headline in ("Throughput", "Cycle time p50", "WIP now", "Blocked share", "Flow efficiency"):
        assert headline in output


def test_demo_twice_leaves_identical_marts_and_no_duplicates(first_demo, env, warehouse_url) -> None:
    _, before = first_demo
    with psycopg.connect(warehouse_url) as conn:
        raw_before = conn.execute("select count(*) from raw.jira_issues").fetchone()[0]
    heimdall(env, "demo", *DEMO_ARGS)
    after = marts_snapshot(warehouse_url)
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], f"marts.{name} changed on an identical re-run"
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.jira_issues").fetchone()[0] == raw_before
        last = conn.execute(
            "select sum(rows_loaded), sum(rows_unchanged), sum(rows_received) from app.load_batches "
            "where batch_id > (select max(batch_id) / 2 from app.load_batches)"
        ).fetchone()
    assert last[0] == 0 and last[1] == last[2]  # the second load wrote nothing: every document unchanged


def test_jsonl_path_stores_the_same_documents(first_demo, env, warehouse_url, tmp_path) -> None:
    out = tmp_path / "org"
    heimdall(env, "generate", *DEMO_ARGS, "--out", str(out))
    truth = json.loads((out / "ground_truth.json").read_text())
    assert truth["seed"] == 7
    files = sorted(p.name for p in out.glob("*.jsonl"))
    assert "jira_issues.jsonl" in files and "gitlab_jobs.jsonl" in files
    with psycopg.connect(warehouse_url) as conn:
        last_batch = conn.execute("select max(batch_id) from app.load_batches").fetchone()[0]
    heimdall(env, "load", str(out))
    with psycopg.connect(warehouse_url) as conn:
        received, written = conn.execute(
            "select sum(rows_received), sum(rows_loaded) from app.load_batches where batch_id > %s",
            (last_batch,),
        ).fetchone()
    assert received > 0
    assert written == 0  # the files hold exactly the documents the demo loaded directly


def test_demo_on_another_day_replaces_the_synthetic_org_instead_of_mixing(
    first_demo, env, warehouse_url
) -> None:
    # Another as-of date is another generated organisation with the same natural keys: mixing the two
    # would corrupt every interval (the dbt tests would fail). The demo purges and rebuilds instead.
    with psycopg.connect(warehouse_url) as conn:
        last_batch_before = conn.execute("select max(batch_id) from app.load_batches").fetchone()[0]
    output = heimdall(env, "demo", *DEMO_ARGS[:-4], "--as-of", "2026-11-27", "--scenario", SCENARIO)
    assert "replaced the previous synthetic organisation" in output
    with psycopg.connect(warehouse_url) as conn:
        newest, oldest_batch = conn.execute(
            "select max(updated_at), min(batch_id) from raw.jira_issues"
        ).fetchone()
    assert newest.date().isoformat() > AS_OF  # data now runs past the first demo's last day
    assert oldest_batch > last_batch_before  # nothing of the first organisation is left
