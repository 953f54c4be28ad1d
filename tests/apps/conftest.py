"""One demo-like warehouse for the Streamlit tests, built through the real pipeline, and the app's login on
it.

``prepare_apps`` runs `heimdall demo --approve-planted` on tests/scenarios/intervention_planted.yml (seed
7, small, as_of 2026-11-20) in its own database of the test server: generate, load, dbt build, approve the
planted review SLO as the demo does, build and verify again, so the Intervention tracker has a verified
intervention. Its own database, not the shared ``generated_org``: these tests record decisions, and shared
organisations are read-only. tests/apps/test_pages.py runs it in the session's background lane;
tests/apps/test_browser.py asks for the same."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.support import BackgroundLane, Preparation
from warehouse.settings import PROJECT_ROOT, AppsSettings, Settings

HEIMDALL = str(Path(sys.executable).parent / "heimdall")
ANCHOR = "tests.apps.test_pages"  # the module whose background preparation builds the warehouse
SCENARIO = PROJECT_ROOT / "tests" / "scenarios" / "intervention_planted.yml"
DEMO_ARGS = ("--scenario", str(SCENARIO), "--scale", "small", "--seed", "7", "--as-of", "2026-11-20")
APP_SCRIPT = PROJECT_ROOT / "streamlit_apps" / "streamlit_app.py"


@dataclass
class AppsWarehouse:
    url: str  # the warehouse owner's libpq URL (for the tests' own SQL)
    home: Path
    env: dict[str, str]  # the CLI's environment for this warehouse
    login: str  # the app's login role (member of heimdall_apps)
    app_url: str  # the app's SQLAlchemy URL (signs in as ``login``)
    demo_output: str

    @property
    def login_conninfo(self) -> str:
        """libpq URL of the app's login (what the app's SQLAlchemy URL names)."""
        return self.app_url.replace("postgresql+psycopg://", "postgresql://", 1)

    def query(self, statement: str, params: object = None) -> list[dict]:
        from psycopg.rows import dict_row

        with psycopg.connect(self.url, row_factory=dict_row) as conn:
            return conn.execute(statement, params).fetchall()  # type: ignore[arg-type]


def run_heimdall(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([HEIMDALL, *args], env=env, capture_output=True, text=True, cwd=PROJECT_ROOT)
    if done.returncode != 0:
        raise AssertionError(
            f"heimdall {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        )
    return done.stdout


def prepare_apps(prep: Preparation) -> AppsWarehouse:
    from heimdall.cli.apps import prepare_login

    warehouse = prep.warehouse()
    login = f"heimdall_streamlit_t_{uuid.uuid4().hex[:8]}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_APPS_")},
        "HEIMDALL_DATABASE_URL": warehouse.url,
        "HEIMDALL_HOME": str(prep.home),
        "DBT_TARGET_PATH": str(prep.home / "target"),
        "DBT_LOG_PATH": str(prep.home / "logs"),
        "HEIMDALL_APPS_LOGIN": login,
        "COLUMNS": "200",
    }
    output = run_heimdall(env, "demo", *DEMO_ARGS, "--approve-planted")
    app_url = prepare_login(
        Settings(home=prep.home, database_url=warehouse.url), AppsSettings(login=login), warehouse.url
    )
    return AppsWarehouse(warehouse.url, prep.home, env, login, app_url, output)


@pytest.fixture(scope="session")
def apps_warehouse(
    background: BackgroundLane,
    pg_server_url: str,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[AppsWarehouse]:
    """The session's demo warehouse for the app (built in the background lane when the anchor module runs)."""
    if background.has(ANCHOR):
        built = background.result(ANCHOR)
    else:
        prep = Preparation(
            pg_server_url,
            "apps_session",
            tmp_path_factory.mktemp("apps_session"),
            request.getfixturevalue("generated_org"),
            Path("/nonexistent"),
        )
        built = prepare_apps(prep)
    yield built
    if not background.has(ANCHOR):
        from tests.support import drop_database

        drop_database(pg_server_url, built.url)
    # may fail while the lane has not dropped the warehouse yet: the embedded server is thrown away anyway
    with psycopg.connect(pg_server_url, autocommit=True) as admin, contextlib.suppress(psycopg.Error):
        admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(built.login)))


@pytest.fixture
def app_env(apps_warehouse: AppsWarehouse, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppsWarehouse]:
    """AppTest runs the script in this process: give it the app's URL (as `heimdall apps serve` does);
    close the app's pooled connections afterwards (the database is dropped at the end of the session)."""
    monkeypatch.setenv("HEIMDALL_APPS_DATABASE_URL", apps_warehouse.app_url)
    monkeypatch.setenv("HEIMDALL_APPS_CONNECTORS", "jira_cloud=no,gitlab=no,webhook=no")
    yield apps_warehouse
    from streamlit_apps.db import connection

    connection().engine.dispose()
