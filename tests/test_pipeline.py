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

from tests.support import Preparation, mart_names
from warehouse.settings import PROJECT_ROOT

AS_OF = "2026-11-20"
SCENARIO = "generator/scenarios/test_small.yml"
DEMO_ARGS = ("--scale", "small", "--seed", "7", "--as-of", AS_OF, "--scenario", SCENARIO)
HEIMDALL = str(Path(sys.executable).parent / "heimdall")
# Marts the small demo organisation legitimately leaves empty; every other mart must have rows.
EMPTY_ON_THE_DEMO = {
    "fct_intervention_outcomes": "only approved recommendations are verified and the demo approves none "
    "(test_ground_truth_interventions.py approves, verifies and reads it)",
    "fct_roi_comparison": "compares before and after an approved recommendation's start; the demo "
    "approves none (test_ground_truth_interventions.py reads it)",
}


def heimdall(env: dict[str, str], *args: str) -> str:
    completed = subprocess.run(
        [HEIMDALL, *args], env=env, capture_output=True, text=True, check=False, cwd=PROJECT_ROOT
    )
    if completed.returncode != 0:
        raise AssertionError(f"heimdall {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout


def batch_ids(url: str) -> list[int]:
    """The load batches recorded so far (compared as a set: which batches a step added, never by id order)."""
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute("select batch_id from app.load_batches").fetchall()]


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


def build_log(url: str) -> list[tuple[str, bool]]:
    """(status, is the latest) of every build the build log recorded, oldest first."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            f"select build_status, is_latest_run from marts.{BUILD_LOG} order by started_at"
        ).fetchall()


def prepare_in_background(prep: Preparation) -> dict[str, Any]:
    """The first `heimdall demo` (starts with the session, see tests/conftest.py)."""
    url = prep.warehouse().url
    env = {
        **os.environ,
        "HEIMDALL_DATABASE_URL": url,
        "HEIMDALL_HOME": str(prep.home),
        "DBT_TARGET_PATH": str(prep.home / "target"),
        "DBT_LOG_PATH": str(prep.home / "logs"),
        "COLUMNS": "200",
    }
    output = heimdall(env, "demo", *DEMO_ARGS)
    return {"env": env, "output": output, "marts": marts_snapshot(url), "build_log": build_log(url)}


@pytest.fixture(scope="module")
def env(prepared) -> dict[str, str]:
    return prepared["env"]


@pytest.fixture(scope="module")
def first_demo(prepared) -> tuple[str, dict[str, list[tuple[Any, ...]]]]:
    return prepared["output"], prepared["marts"]


def test_demo_builds_every_mart(first_demo, prepared) -> None:
    output, snapshot = first_demo
    marts = set(mart_names())  # every model file under dbt/models/marts: a new mart is covered by itself
    assert len(marts) >= 20 and {"fct_issue_lifecycle", "dim_teams", "rpt_dora_weekly"} <= marts
    assert set(EMPTY_ON_THE_DEMO) <= marts, "an exception names a mart that no longer exists"
    assert BUILD_LOG in marts
    missing = sorted(marts - {BUILD_LOG} - set(snapshot))
    assert not missing, f"marts the demo did not build: {missing}"
    empty = sorted(name for name in marts - {BUILD_LOG} - set(EMPTY_ON_THE_DEMO) if not snapshot[name])
    assert not empty, f"empty marts: {empty}"
    assert prepared["build_log"] == [("succeeded", True)]  # the build log: the demo's one build
    for headline in ("Throughput", "Cycle time p50", "WIP now", "Blocked share", "Flow efficiency"):
        assert headline in output


def test_demo_twice_leaves_identical_marts_and_no_duplicates(first_demo, env, warehouse_url) -> None:
    _, before = first_demo
    with psycopg.connect(warehouse_url) as conn:
        raw_before = conn.execute("select count(*) from raw.jira_issues").fetchone()[0]
    earlier_batches = batch_ids(warehouse_url)
    heimdall(env, "demo", *DEMO_ARGS)
    after = marts_snapshot(warehouse_url)
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], f"marts.{name} changed on an identical re-run"
    assert build_log(warehouse_url) == [("succeeded", False), ("succeeded", True)]  # ...the log grew by one
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.jira_issues").fetchone()[0] == raw_before
        last = conn.execute(
            "select sum(rows_loaded), sum(rows_unchanged), sum(rows_received) from app.load_batches "
            "where batch_id <> all(%s)",
            (earlier_batches,),
        ).fetchone()
    assert last[2] > 0  # the second demo loaded the organisation again...
    assert last[0] == 0 and last[1] == last[2]  # ...and wrote nothing: every document unchanged


def test_jsonl_path_stores_the_same_documents(first_demo, env, warehouse_url, tmp_path) -> None:
    out = tmp_path / "org"
    heimdall(env, "generate", *DEMO_ARGS, "--out", str(out))
    truth = json.loads((out / "ground_truth.json").read_text())
    assert truth["seed"] == 7
    files = sorted(p.name for p in out.glob("*.jsonl"))
    assert "jira_issues.jsonl" in files and "gitlab_jobs.jsonl" in files
    earlier_batches = batch_ids(warehouse_url)
    heimdall(env, "load", str(out))
    with psycopg.connect(warehouse_url) as conn:
        received, written = conn.execute(
            "select sum(rows_received), sum(rows_loaded) from app.load_batches where batch_id <> all(%s)",
            (earlier_batches,),
        ).fetchone()
    assert received > 0
    assert written == 0  # the files hold exactly the documents the demo loaded directly


def test_demo_on_another_day_replaces_the_synthetic_org_instead_of_mixing(
    first_demo, env, warehouse_url
) -> None:
    # Another as-of date is another generated organisation with the same natural keys: mixing the two
    # would corrupt every interval (the dbt tests would fail). The demo purges and rebuilds instead.
    earlier_batches = batch_ids(warehouse_url)
    output = heimdall(env, "demo", *DEMO_ARGS[:-4], "--as-of", "2026-11-27", "--scenario", SCENARIO)
    assert "replaced the previous synthetic organisation" in output
    with psycopg.connect(warehouse_url) as conn:
        newest, issues, from_earlier_batches = conn.execute(
            "select max(updated_at), count(*), count(*) filter (where batch_id = any(%s)) "
            "from raw.jira_issues",
            (earlier_batches,),
        ).fetchone()
    assert newest.date().isoformat() > AS_OF  # data now runs past the first demo's last day
    assert issues > 0
    assert from_earlier_batches == 0  # nothing of the first organisation is left
