"""A load batch left `running` by a killed process is marked `interrupted` at the start of the next
`heimdall load` and `heimdall webhooks serve`, as a sync run does at its start (issue 10): nobody has to run
a sync first for `app.load_batches` to tell the truth. A batch whose session is alive is left alone."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

HEIMDALL = str(Path(sys.executable).parent / "heimdall")


@pytest.fixture
def env(warehouse_url: str, tmp_path: Path) -> dict[str, str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("HEIMDALL_")}
    return {
        **clean,
        "HEIMDALL_DATABASE_URL": warehouse_url,
        "HEIMDALL_HOME": str(tmp_path / "home"),
        "COLUMNS": "200",
    }


def _issue_file(folder: Path, issue_id: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "id": str(issue_id),
        "key": f"SWP-{issue_id}",
        "fields": {"summary": "swept", "updated": "2026-01-05T10:00:00.000+0000"},
    }
    (folder / "jira_issues.jsonl").write_text(json.dumps({"parent_id": None, "payload": document}) + "\n")
    return folder


def _wait_for_other_sessions_to_end(url: str, timeout: float = 20) -> None:
    """A killed client's server process ends when it notices the closed socket: wait for that."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            others = conn.execute(
                "select count(*) from pg_stat_activity where datname = current_database() "
                "and pid <> pg_backend_pid() and backend_type = 'client backend'"
            ).fetchone()
            if others == (0,):
                return
            time.sleep(0.05)
    raise AssertionError("a killed client's database session never ended")


def _status(url: str, batch_id: int) -> tuple[str, str | None]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select status, error from app.load_batches where batch_id = %s", (batch_id,)
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def _kill_a_load_mid_batch(url: str, folder: Path, env: dict[str, str]) -> int:
    """Start `heimdall load`, let its batch wait on a lock, kill -9 it; returns the batch left `running`."""
    with psycopg.connect(url) as locker, psycopg.connect(url, autocommit=True) as watch:
        locker.execute("lock table raw.jira_issues in access exclusive mode")
        process = subprocess.Popen(
            [HEIMDALL, "load", str(folder), "--source", "jira_cloud"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                waiting = watch.execute(
                    "select count(*) from pg_stat_activity where datname = current_database() "
                    "and wait_event_type = 'Lock'"
                ).fetchone()
                if waiting == (1,):
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("the load never reached the locked table")
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        locker.rollback()
    _wait_for_other_sessions_to_end(url)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select batch_id from app.load_batches where status = 'running' and table_name = 'jira_issues'"
        ).fetchall()
    assert len(rows) == 1, rows  # what a kill leaves behind
    return int(rows[0][0])


def test_a_killed_load_is_marked_interrupted_by_the_next_load(
    warehouse_url: str, env: dict[str, str], tmp_path: Path
) -> None:
    killed = _kill_a_load_mid_batch(warehouse_url, _issue_file(tmp_path / "first", 930_001), env)
    assert _status(warehouse_url, killed) == ("running", None)
    again = subprocess.run(
        [HEIMDALL, "load", str(_issue_file(tmp_path / "second", 930_002)), "--source", "jira_cloud"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    status, error = _status(warehouse_url, killed)
    assert status == "interrupted" and error and "none of its documents were stored" in error
    output = " ".join(again.stdout.split())
    assert f"load batch {killed}" in output and "interrupted" in output  # and it says so
    with psycopg.connect(warehouse_url) as conn:
        stored = conn.execute(
            "select source_id from raw.jira_issues where source_id in ('930001', '930002')"
        ).fetchall()
        running = conn.execute("select count(*) from app.load_batches where status = 'running'").fetchone()
    assert stored == [("930002",)] and running == (0,)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_webhooks_serve_marks_a_killed_load_interrupted_at_start(
    warehouse_url: str, env: dict[str, str], tmp_path: Path
) -> None:
    killed = _kill_a_load_mid_batch(warehouse_url, _issue_file(tmp_path / "first", 930_101), env)
    port = _free_port()
    server = subprocess.Popen(
        [HEIMDALL, "webhooks", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert server.poll() is None, server.communicate()[0]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("the webhook intake never answered /healthz")
        status, _ = _status(warehouse_url, killed)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert status == "interrupted"
    assert f"load batch {killed}" in " ".join(output.split())
