"""Helpers behind the shared fixtures (tests/conftest.py): test databases, a warehouse handle (real loader,
real dbt, queries), generated organisations, dbt selections and the background lane."""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from warehouse.dbt_runner import run_dbt
from warehouse.loader import LoadSummary, load_records
from warehouse.migrate import migrate
from warehouse.records import RawRecord
from warehouse.settings import PROJECT_ROOT, Settings

MARTS_DIR = PROJECT_ROOT / "dbt" / "models" / "marts"


def mart_names() -> list[str]:
    """Every mart of the dbt project (the model files under dbt/models/marts), sorted."""
    return sorted(path.stem for path in MARTS_DIR.rglob("*.sql"))


def upstream_of(*models: str) -> list[str]:
    """dbt arguments selecting ``models`` and everything upstream of them, with the data tests whose parents
    are all selected (a test that also reads an unselected model would fail on a fresh database).

    dbt unit tests are left out: they run on their own fixed rows, never on the loaded documents, so a
    partial build would only repeat them; every whole-project build of the session (test_pipeline.py's
    demos, the CLI builds of test_ground_truth_interventions.py...) runs them all."""
    selection = ["--select", *(f"+{model}" for model in models), "--indirect-selection", "cautious"]
    return [*selection, "--exclude-resource-type", "unit_test"]


def database_url(server_url: str, dbname: str) -> str:
    info = conninfo_to_dict(server_url)
    info["dbname"] = dbname
    return make_conninfo(**info)


def create_database(server_url: str, label: str) -> str:
    """A brand-new database with the migrations applied; returns its URL."""
    stem = re.sub(r"[^a-z0-9]+", "_", label.lower())
    dbname = f"t_{stem[:40]}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    url = database_url(server_url, dbname)
    with psycopg.connect(url) as conn:
        migrate(conn)
    return url


def drop_database(server_url: str, url: str) -> None:
    dbname = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))


class Warehouse:
    """One test database: load documents through the real loader, run real dbt, query rows as dicts."""

    def __init__(self, url: str, home: Path) -> None:
        self.url = url
        self.home = home
        self.settings = Settings(
            home=home,
            database_url=url,
            dbt_project_dir=PROJECT_ROOT / "dbt",
            dbt_target_schema="marts",
            dbt_threads=2,
        )

    def load(self, records: Iterable[RawRecord], source: str = "synthetic", **kwargs: Any) -> LoadSummary:
        with psycopg.connect(self.url) as conn:
            return load_records(conn, records, source, **kwargs)

    def dbt(self, *args: str) -> str:
        """Run ``dbt <args>``; raises with the tail of dbt's output on failure, returns the output.

        Each database keeps its own target directory (so later runs against it parse partially), given as
        options rather than environment variables: warehouses are built from two threads at once."""
        paths = ["--target-path", str(self.home / "target"), "--log-path", str(self.home / "logs")]
        return run_dbt([*args, *paths], self.url, self.settings, capture=True).stdout

    def query(self, statement: str, params: Any = None) -> list[dict[str, Any]]:
        with psycopg.connect(self.url, row_factory=dict_row) as conn:
            return conn.execute(statement, params).fetchall()  # type: ignore[arg-type]


@dataclass
class GeneratedOrg:
    """A generated organisation loaded into its own database (shared: read it, never change it)."""

    warehouse: Warehouse
    ground_truth: dict[str, Any]
    build_vars: list[str]
    load_summary: LoadSummary
    built: set[str] = field(default_factory=set)
    whole_project_built: bool = False

    @property
    def truth(self) -> dict[str, Any]:
        """ground_truth.json of the run (a copy: modules share the organisation)."""
        return copy.deepcopy(self.ground_truth)

    @property
    def query(self) -> Callable[..., list[dict[str, Any]]]:
        return self.warehouse.query

    def build(self, models: Sequence[str] | None) -> None:
        """Build ``models`` and their upstream (None: the whole project), unless an earlier build did."""
        if self.whole_project_built:
            return
        if models is None:
            self.warehouse.dbt("build", *self.build_vars)
            self.whole_project_built = True
            return
        missing = [model for model in models if model not in self.built]
        if missing:
            self.warehouse.dbt("build", *upstream_of(*missing), *self.build_vars)
            self.built.update(missing)


class Preparation:
    """What a test module's ``prepare_in_background(prep)`` works with: the module's own warehouse (created
    on first use; the module's ``warehouse_url`` / ``load`` / ``dbt`` / ``query`` fixtures then use it), a
    private directory, the session's generated organisations and the specimens."""

    def __init__(
        self,
        server_url: str,
        module: str,
        home: Path,
        generated_org: Callable[..., GeneratedOrg],
        specimens: Path,
    ) -> None:
        self.server_url = server_url
        self.module = module
        self.home = home
        self.generated_org = generated_org
        self._specimens = specimens
        self._warehouse: Warehouse | None = None

    def warehouse(self) -> Warehouse:
        if self._warehouse is None:
            url = create_database(self.server_url, self.module.rsplit(".", 1)[-1])
            self._warehouse = Warehouse(url, self.home / "warehouse")
        return self._warehouse

    @property
    def created_warehouse(self) -> Warehouse | None:
        return self._warehouse

    def specimens(self) -> Path:
        """The shared real-payload specimens; the module is skipped when they are absent."""
        import pytest

        if not self._specimens.is_dir():
            pytest.skip(f"specimens not found at {self._specimens}")
        return self._specimens


class BackgroundLane:
    """The slow, deterministic set-up of test modules (load their documents, dbt build, run the demo...),
    started when the session starts and run one after another in one background thread, so it overlaps
    the quick tests that come first on the other core. A module waits for its own set-up when it starts;
    an error or skip raised there surfaces in that module as if its fixture had raised it."""

    def __init__(self, *, serial: bool = False) -> None:
        """``serial``: no background thread; each set-up runs when its module first asks for it."""
        self._executor = None if serial else ThreadPoolExecutor(1, thread_name_prefix="heimdall-test-prepare")
        self._jobs: dict[str, tuple[Preparation, Future[Any]]] = {}
        self._pending: dict[str, Callable[[Preparation], Any]] = {}

    def submit(self, preparation: Preparation, prepare: Callable[[Preparation], Any]) -> None:
        if self._executor is None:
            self._jobs[preparation.module] = (preparation, Future())
            self._pending[preparation.module] = prepare
        else:
            self._jobs[preparation.module] = (preparation, self._executor.submit(prepare, preparation))

    def has(self, module: str) -> bool:
        return module in self._jobs

    def result(self, module: str) -> Any:
        preparation, future = self._jobs[module]
        prepare = self._pending.pop(module, None)
        if prepare is not None:
            try:
                future.set_result(prepare(preparation))
            except BaseException as exc:  # skips too: they surface in the module, as from a fixture
                future.set_exception(exc)
        return future.result()

    def preparation(self, module: str) -> Preparation:
        return self._jobs[module][0]

    def close(self) -> list[Warehouse]:
        """Stop (pending set-ups are cancelled, a running one finishes); the warehouses they created."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        return [prep.created_warehouse for prep, _ in self._jobs.values() if prep.created_warehouse]
