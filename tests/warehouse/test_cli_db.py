"""`heimdall db ...` on a real embedded server in a private HEIMDALL_HOME, and secret handling."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from warehouse.migrate import discover

HEIMDALL = str(Path(sys.executable).parent / "heimdall")


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HEIMDALL, *args], env=env, capture_output=True, text=True, check=False)


@pytest.fixture
def embedded_env() -> dict[str, str]:
    home = Path("/tmp") / f"heimdall-cli-{uuid.uuid4().hex[:8]}"  # short: the socket lives inside
    env = {k: v for k, v in os.environ.items() if k != "HEIMDALL_DATABASE_URL"}
    env["HEIMDALL_HOME"] = str(home)
    env["COLUMNS"] = "200"
    yield env
    run(env, "db", "stop")
    shutil.rmtree(home, ignore_errors=True)


def test_embedded_lifecycle(embedded_env: dict[str, str]) -> None:
    home = embedded_env["HEIMDALL_HOME"]
    down = run(embedded_env, "db", "status")
    assert down.returncode == 1 and "not running" in down.stdout

    started = run(embedded_env, "db", "start")
    assert started.returncode == 0, started.stderr
    versions = [migration.version for migration in discover()]
    assert versions[:2] == ["0001", "0002"]
    assert f"applied migrations: {', '.join(versions)}" in started.stdout
    assert f"host={home}/pgdata" in started.stdout

    again = run(embedded_env, "db", "start")  # idempotent: nothing left to apply
    assert again.returncode == 0 and "applied migrations" not in again.stdout

    up = run(embedded_env, "db", "status")
    assert up.returncode == 0 and "running" in up.stdout

    psql = run(embedded_env, "db", "psql", "-tA", "-c", "select count(*) from app.schema_migrations")
    assert psql.returncode == 0, psql.stderr
    assert psql.stdout.strip() == str(len(versions))

    stopped = run(embedded_env, "db", "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert run(embedded_env, "db", "status").returncode == 1


def test_external_url_password_is_never_printed() -> None:
    env = {**os.environ, "HEIMDALL_DATABASE_URL": "postgresql://alice:s3cr3t-pw@127.0.0.1:1/heimdall"}
    shown = run(env, "db", "url")
    assert shown.returncode == 0
    assert shown.stdout.strip() == "postgresql://alice:***@127.0.0.1:1/heimdall"
    # a failing connection must not echo the password either
    failed = run(env, "db", "start")
    assert failed.returncode == 1
    assert "s3cr3t-pw" not in failed.stdout + failed.stderr
    assert "cannot connect to the warehouse" in failed.stderr
