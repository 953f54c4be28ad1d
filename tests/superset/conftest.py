"""One provisioned Superset for the whole session, on demo-like data built through the real pipeline.

``prepare_superset`` runs `heimdall demo --approve-planted` on a small planted organisation in a database of
the test server (generate, load, dbt build, approve the planted review SLO as the demo does, build and verify
again), then `heimdall superset provision` (metadata database beside it, read-only login, db upgrade, admin,
init, bundle import) and starts gunicorn on a free loopback port. tests/superset/test_chart_data.py runs it in
the session's background lane (it starts with the session); the other modules ask for the same instance.
Without .venv-superset the modules that need Superset skip, naming `make superset-venv`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.support import BackgroundLane, Preparation
from warehouse.settings import PROJECT_ROOT

HEIMDALL = str(Path(sys.executable).parent / "heimdall")
SUPERSET_VENV = PROJECT_ROOT / ".venv-superset"
ANCHOR = "tests.superset.test_chart_data"  # the module whose background preparation builds the instance
SCENARIO = PROJECT_ROOT / "tests" / "scenarios" / "dashboards_planted.yml"
AS_OF = "2026-11-20"
DEMO_ARGS = ("--scenario", str(SCENARIO), "--scale", "small", "--seed", "7", "--as-of", AS_OF)


@dataclass
class SupersetInstance:
    url: str  # where Superset serves (loopback, a free port)
    warehouse_url: str
    env: dict[str, str]  # the CLI's environment: HEIMDALL_* of this instance
    admin_username: str
    admin_password: str
    server: subprocess.Popen[bytes]
    metadata_database: str
    reader_login: str
    demo_output: str

    def heimdall(self, *args: str) -> str:
        return run_heimdall(self.env, *args)

    def stop(self) -> None:
        if self.server.poll() is None:
            os.killpg(self.server.pid, 15)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, 9)
                self.server.wait()


def run_heimdall(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([HEIMDALL, *args], env=env, capture_output=True, text=True, cwd=PROJECT_ROOT)
    if done.returncode != 0:
        raise AssertionError(
            f"heimdall {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        )
    return done.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def superset_missing_reason() -> str | None:
    if (SUPERSET_VENV / "bin" / "superset").is_file():
        return None
    return f"Superset 6.1 is not installed in {SUPERSET_VENV}: run `make superset-venv`"


def prepare_superset(prep: Preparation) -> SupersetInstance:
    reason = superset_missing_reason()
    if reason:
        pytest.skip(reason)
    warehouse = prep.warehouse()
    suffix = uuid.uuid4().hex[:8]
    metadata, login = f"superset_t_{suffix}", f"heimdall_superset_t_{suffix}"
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HEIMDALL_SUPERSET_", "SUPERSET_"))},
        "HEIMDALL_DATABASE_URL": warehouse.url,
        "HEIMDALL_HOME": str(prep.home),
        "DBT_TARGET_PATH": str(prep.home / "target"),
        "DBT_LOG_PATH": str(prep.home / "logs"),
        "HEIMDALL_SUPERSET_PORT": str(port),
        "HEIMDALL_SUPERSET_METADATA_DATABASE": metadata,
        "HEIMDALL_SUPERSET_READER_LOGIN": login,
        "HEIMDALL_SUPERSET_INVESTIGATOR_URL": "http://127.0.0.1:8501/",
        "COLUMNS": "200",
    }
    output = run_heimdall(env, "demo", *DEMO_ARGS, "--approve-planted")
    output += run_heimdall(env, "superset", "provision")
    # the server runs for the session: started here, stopped by the session fixture (or at exit)
    from heimdall.superset import runtime
    from heimdall.superset.client import SupersetClient
    from warehouse.settings import Settings, SupersetSettings

    settings = Settings(home=prep.home, database_url=warehouse.url)
    superset = SupersetSettings(port=port, metadata_database=metadata, reader_login=login)
    found = runtime.secrets(settings, superset)
    server = runtime.start_server(
        superset,
        runtime.environment(settings, superset, found, warehouse.url),
        cwd=runtime.state_dir(settings),
        log=runtime.state_dir(settings) / "server.log",
    )
    instance = SupersetInstance(
        f"http://127.0.0.1:{port}",
        warehouse.url,
        env,
        superset.admin_username,
        found.admin_password,
        server,
        metadata,
        login,
        output,
    )
    atexit.register(instance.stop)
    with SupersetClient(instance.url) as client:
        client.wait_until_healthy(300, alive=lambda: server.poll() is None)
    return instance


@pytest.fixture(scope="session")
def superset_instance(
    background: BackgroundLane,
    pg_server_url: str,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SupersetInstance]:
    """The session's provisioned Superset (built in the background lane when the anchor module runs)."""
    reason = superset_missing_reason()
    if reason:
        pytest.skip(reason)
    if background.has(ANCHOR):
        instance = background.result(ANCHOR)
    else:
        prep = Preparation(
            pg_server_url,
            "superset_session",
            tmp_path_factory.mktemp("superset_session"),
            request.getfixturevalue("generated_org"),
            Path("/nonexistent"),
        )
        instance = prepare_superset(prep)
    yield instance
    instance.stop()
    server_url = pg_server_url
    if not background.has(ANCHOR):
        from tests.support import drop_database

        drop_database(server_url, instance.warehouse_url)
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(instance.metadata_database)
            )
        )
        # may fail while the lane has not dropped the warehouse yet: the embedded server is thrown away anyway
        with contextlib.suppress(psycopg.Error):
            admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(instance.reader_login)))


@pytest.fixture(scope="session")
def superset_client(superset_instance: SupersetInstance) -> Iterator[Any]:
    from heimdall.superset.client import SupersetClient

    with SupersetClient(superset_instance.url) as client:
        client.login(superset_instance.admin_username, superset_instance.admin_password)
        yield client
