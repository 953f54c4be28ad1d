"""Shared fixtures: a real PostgreSQL (embedded pgserver, or HEIMDALL_TEST_DATABASE_URL's server), the real
loader and real dbt against it.

* ``warehouse_url`` / ``load`` / ``dbt`` / ``query``: the test module's own database (migrations applied),
  for modules that load their own hand-written documents or change the data they read.
* ``generated_org(scenario, seed=..., as_of=..., models=...)``: a generated organisation, loaded once per
  test session into its own database and shared by every module that asks for the same (scenario, seed,
  scale, as_of). Modules name the models they read; only those and everything upstream are built (with
  their data and unit tests), and a model already built for another module is not built again. Read only:
  a module that changes data uses its own database.
* A module whose set-up is slow and does not depend on other tests defines
  ``prepare_in_background(prep: tests.support.Preparation)`` (load, dbt build, run the demo...): it starts
  when the session starts, in a background lane beside the quick tests, and the module's ``prepared``
  fixture waits for what it returned. Its ``warehouse_url`` / ``load`` / ``dbt`` / ``query`` are then
  ``prep.warehouse()``. ``HEIMDALL_TEST_SERIAL_SETUP=1`` runs each set-up in its module instead (no
  background thread: for debugging, or to compare timings).

Modules that build only part of the project select it with ``tests.support.upstream_of(*models)``; the
whole project (every model and data test) is still built by the CLI tests (test_pipeline.py,
test_ground_truth_interventions.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.support import BackgroundLane, GeneratedOrg, Preparation, Warehouse, create_database, drop_database
from warehouse.dbt_vars import vars_args
from warehouse.loader import LoadSummary
from warehouse.settings import PROJECT_ROOT

SPECIMENS = PROJECT_ROOT.parent / "shared" / "specimens"

# The embedded server is thrown away after the session: durability buys nothing there, and every dbt
# model, CREATE/DROP DATABASE and load would otherwise wait for fsync. Never applied to
# HEIMDALL_TEST_DATABASE_URL's server.
THROWAWAY_SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}

PREPARED_MODULES = pytest.StashKey[list[ModuleType]]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """The collected modules that prepare in the background, in the order they will run."""
    modules: list[ModuleType] = []
    for item in session.items:
        module = getattr(item, "module", None)
        if module is not None and hasattr(module, "prepare_in_background") and module not in modules:
            modules.append(module)
    session.stash[PREPARED_MODULES] = modules


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
        url = str(server.get_uri())
        with psycopg.connect(url, autocommit=True) as admin:
            for name, value in THROWAWAY_SERVER_SETTINGS.items():
                admin.execute(sql.SQL("alter system set {} = {}").format(sql.Identifier(name), value))
            admin.execute("select pg_reload_conf()")
        yield url
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def generated_org(
    pg_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., GeneratedOrg]]:
    """``generated_org(scenario, seed=7, as_of=date(...), scale="small", models=("fct_x", ...))``: the
    organisation generated with those options, loaded once per session, built with ``as_of`` (its last
    second) for at least ``models`` and their upstream (``models=None``: the whole project)."""
    from generator import GeneratorOptions, generate, load_scenario

    orgs: dict[tuple[str, int, str, str], GeneratedOrg] = {}
    lock = threading.RLock()  # asked for from the background lane and the tests

    def _get(
        scenario: Path,
        *,
        seed: int,
        as_of: date,
        scale: str = "small",
        models: Sequence[str] | None = None,
    ) -> GeneratedOrg:
        scenario = Path(scenario).resolve()
        key = (str(scenario), seed, scale, as_of.isoformat())
        with lock:
            org = orgs.get(key)
            if org is None:
                label = f"org_{scenario.stem}_{seed}_{scale}"
                warehouse = Warehouse(create_database(pg_server_url, label), tmp_path_factory.mktemp(label))
                run = generate(
                    GeneratorOptions(seed=seed, scale=scale, scenario=load_scenario(scenario), as_of=as_of)
                )
                truth = run.ground_truth()
                summary = warehouse.load(run.records)
                org = orgs[key] = GeneratedOrg(warehouse, truth, vars_args(as_of=as_of), summary)
            org.build(models)
            return org

    yield _get
    for org in orgs.values():
        drop_database(pg_server_url, org.warehouse.url)


@pytest.fixture(scope="session", autouse=True)
def background(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BackgroundLane]:
    """Starts every collected module's ``prepare_in_background`` at the beginning of the session."""
    lane = BackgroundLane(serial=os.environ.get("HEIMDALL_TEST_SERIAL_SETUP", "") not in ("", "0"))
    modules = request.session.stash.get(PREPARED_MODULES, [])
    server_url = request.getfixturevalue("pg_server_url") if modules else ""
    if modules:
        orgs = request.getfixturevalue("generated_org")
        for module in modules:
            name = module.__name__
            home = tmp_path_factory.mktemp(name.rsplit(".", 1)[-1])
            lane.submit(Preparation(server_url, name, home, orgs, SPECIMENS), module.prepare_in_background)
    yield lane
    for warehouse in lane.close():
        drop_database(server_url, warehouse.url)


@pytest.fixture(scope="module")
def prepared(background: BackgroundLane, request: pytest.FixtureRequest) -> Any:
    """What this module's ``prepare_in_background`` returned (waits for it; its errors and skips surface)."""
    return background.result(request.module.__name__)


@pytest.fixture(scope="module")
def module_warehouse(
    background: BackgroundLane, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Warehouse]:
    name = request.module.__name__
    if background.has(name):
        background.result(name)
        yield background.preparation(name).warehouse()  # dropped when the session ends
        return
    server_url = request.getfixturevalue("pg_server_url")
    warehouse = Warehouse(
        create_database(server_url, name.rsplit(".", 1)[-1]), tmp_path_factory.mktemp("home")
    )
    yield warehouse
    drop_database(server_url, warehouse.url)


@pytest.fixture(scope="module")
def warehouse_url(module_warehouse: Warehouse) -> str:
    """The test module's own database (migrations applied)."""
    return module_warehouse.url


@pytest.fixture(scope="module")
def load(module_warehouse: Warehouse) -> Callable[..., LoadSummary]:
    """Load RawRecords through the real loader: ``load(records, source="synthetic")``."""
    return module_warehouse.load


@pytest.fixture(scope="module")
def dbt(module_warehouse: Warehouse) -> Callable[..., str]:
    """Run real dbt against this module's database: ``dbt("build", "--select", "...")``.

    Raises with the tail of dbt's output on failure; returns the output on success.
    """
    return module_warehouse.dbt


@pytest.fixture(scope="module")
def query(module_warehouse: Warehouse) -> Callable[..., list[dict[str, Any]]]:
    """Run SQL on this module's database and get rows as dicts."""
    return module_warehouse.query


@pytest.fixture(scope="session")
def specimens() -> Path:
    """The shared real-payload specimens; tests using them skip cleanly when they are absent."""
    if not SPECIMENS.is_dir():
        pytest.skip(f"specimens not found at {SPECIMENS}")
    return SPECIMENS
