"""Shared fixtures: a real PostgreSQL (embedded pgserver, or HEIMDALL_TEST_DATABASE_URL's server),
one fresh database per test module, the real loader and real dbt against it."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from warehouse.dbt_runner import run_dbt
from warehouse.loader import LoadSummary, load_records
from warehouse.migrate import migrate
from warehouse.records import RawRecord
from warehouse.settings import PROJECT_ROOT, Settings

SPECIMENS = PROJECT_ROOT.parent / "shared" / "specimens"


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server for the whole test session (admin connection URL)."""
    external = os.environ.get("HEIMDALL_TEST_DATABASE_URL")
    if external:
        yield external
        return
    import warnings

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver

    # Short path: the server's unix socket lives in pgdata and socket paths are limited to ~100 bytes.
    pgdata = Path("/tmp") / f"heimdall-test-pg-{os.getpid()}"
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


def _database_url(server_url: str, dbname: str) -> str:
    info = conninfo_to_dict(server_url)
    info["dbname"] = dbname
    return make_conninfo(**info)


@pytest.fixture(scope="module")
def warehouse_url(pg_server_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A brand-new database (migrations applied) for one test module."""
    stem = re.sub(r"[^a-z0-9]+", "_", request.module.__name__.rsplit(".", 1)[-1].lower())
    dbname = f"t_{stem[:40]}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    url = _database_url(pg_server_url, dbname)
    with psycopg.connect(url) as conn:
        migrate(conn)
    yield url
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))


@pytest.fixture(scope="module")
def load(warehouse_url: str) -> Callable[..., LoadSummary]:
    """Load RawRecords through the real loader: ``load(records, source="synthetic")``."""

    def _load(records: Iterable[RawRecord], source: str = "synthetic", **kwargs: Any) -> LoadSummary:
        with psycopg.connect(warehouse_url) as conn:
            return load_records(conn, records, source, **kwargs)

    return _load


@pytest.fixture(scope="module")
def dbt(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., str]:
    """Run real dbt against this module's database: ``dbt("build", "--select", "...")``.

    Raises with the tail of dbt's output on failure; returns the output on success.
    """
    home = tmp_path_factory.mktemp("heimdall-home")
    settings = Settings(
        home=home,
        database_url=warehouse_url,
        dbt_project_dir=PROJECT_ROOT / "dbt",
        dbt_target_schema="marts",
        dbt_threads=2,
    )
    env_before = {key: os.environ.get(key) for key in ("DBT_TARGET_PATH", "DBT_LOG_PATH")}

    def _dbt(*args: str) -> str:
        os.environ["DBT_TARGET_PATH"] = str(home / "target")
        os.environ["DBT_LOG_PATH"] = str(home / "logs")
        try:
            completed = run_dbt(list(args), warehouse_url, settings, capture=True)
        finally:
            for key, value in env_before.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return completed.stdout

    return _dbt


@pytest.fixture(scope="module")
def query(warehouse_url: str) -> Callable[..., list[dict[str, Any]]]:
    """Run SQL on this module's database and get rows as dicts."""

    def _query(statement: str, params: Any = None) -> list[dict[str, Any]]:
        with psycopg.connect(warehouse_url, row_factory=dict_row) as conn:
            return conn.execute(statement, params).fetchall()  # type: ignore[arg-type]

    return _query


@pytest.fixture(scope="session")
def specimens() -> Path:
    """The shared real-payload specimens; tests using them skip cleanly when they are absent."""
    if not SPECIMENS.is_dir():
        pytest.skip(f"specimens not found at {SPECIMENS}")
    return SPECIMENS
