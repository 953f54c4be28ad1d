from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import psycopg
import pytest

from warehouse.migrate import MigrationError, discover, migrate


def test_migrations_are_recorded_and_safe_to_rerun(warehouse_url: str, query) -> None:
    with psycopg.connect(warehouse_url) as conn:
        assert migrate(conn) == []  # the fixture already applied everything
    versions = [row["version"] for row in query("select version from app.schema_migrations order by 1")]
    assert versions == [m.version for m in discover()]
    tables = {
        row["t"]
        for row in query(
            "select table_schema || '.' || table_name as t from information_schema.tables "
            "where table_schema in ('raw', 'app')"
        )
    }
    assert {
        "raw.jira_issues",
        "raw.jira_changelogs",
        "raw.gitlab_jobs",
        "app.load_batches",
        "app.dead_letters",
    } <= tables


def test_new_migrations_apply_once_and_edited_ones_are_refused(warehouse_url: str, tmp_path: Path) -> None:
    for migration in discover():
        shutil.copy(migration.path, tmp_path / migration.path.name)
    probe = tmp_path / "9001_probe.sql"
    probe.write_text("create table app.mig_probe (x int);")
    with psycopg.connect(warehouse_url) as conn:
        assert migrate(conn, tmp_path) == ["9001"]
        assert migrate(conn, tmp_path) == []
    probe.write_text("create table app.mig_probe (x int, y int);")
    with (
        psycopg.connect(warehouse_url) as conn,
        pytest.raises(MigrationError, match=r"9001_probe\.sql changed"),
    ):
        migrate(conn, tmp_path)
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("drop table app.mig_probe")
        conn.execute("delete from app.schema_migrations where version = '9001'")


def test_a_failing_migration_applies_nothing(warehouse_url: str, tmp_path: Path, query) -> None:
    for migration in discover():
        shutil.copy(migration.path, tmp_path / migration.path.name)
    (tmp_path / "9002_good.sql").write_text("create table app.mig_good (x int);")
    (tmp_path / "9003_bad.sql").write_text("create table app.mig_bad (x no_such_type);")
    with psycopg.connect(warehouse_url) as conn, pytest.raises(psycopg.errors.UndefinedObject):
        migrate(conn, tmp_path)
    assert query("select to_regclass('app.mig_good') as t")[0]["t"] is None
    assert query("select count(*) as n from app.schema_migrations where version >= '9000'")[0]["n"] == 0


def test_a_role_updated_by_another_database_at_the_same_time_is_retried(
    warehouse_url: str, tmp_path: Path
) -> None:
    """Role settings are shared by every database of the server: a migration altering a role that another
    session updates at the same moment fails with "tuple concurrently updated" in PostgreSQL; the runner
    rolls the whole transaction back and tries again, so the migration applies once and nothing is lost."""
    probe = tmp_path / "9002_role_probe.sql"
    probe.write_text(
        "do $$ begin if not exists (select 1 from pg_roles where rolname = 'heimdall_race_probe') then "
        "create role heimdall_race_probe nologin; end if; end $$;\n"
        "alter role heimdall_race_probe set statement_timeout = '7s';\n"
        "create table app.race_probe (x int);\n"
    )
    with psycopg.connect(warehouse_url, autocommit=True) as setup:
        setup.execute(
            "do $$ begin if not exists (select 1 from pg_roles where rolname = 'heimdall_race_probe') then "
            "create role heimdall_race_probe nologin; end if; end $$"
        )
        setup.execute("alter role heimdall_race_probe set statement_timeout = '5s'")
    other = psycopg.connect(warehouse_url)  # another database's migration, still open
    other.execute("alter role heimdall_race_probe set statement_timeout = '6s'")
    applied: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with psycopg.connect(warehouse_url) as conn:
                applied.append(migrate(conn, _only(tmp_path, probe)))
        except BaseException as exc:  # reported below
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    with psycopg.connect(warehouse_url, autocommit=True) as watch:
        for _ in range(200):  # until the migration waits on the other session's update of the role
            waiting = watch.execute(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock' "
                "and pid <> pg_backend_pid() and query like '%alter role heimdall_race_probe%'"
            ).fetchone()
            if waiting and waiting[0]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the migration never waited on the concurrent role update")
    other.commit()  # the waiting update now fails with "tuple concurrently updated" and is retried
    other.close()
    worker.join(timeout=60)
    assert not errors, errors
    assert applied == [["9002"]]
    with psycopg.connect(warehouse_url) as conn:
        setting = conn.execute(
            "select setconfig from pg_db_role_setting where setrole = 'heimdall_race_probe'::regrole"
        ).fetchone()
        assert setting == (["statement_timeout=7s"],)
        assert conn.execute("select count(*) from app.race_probe").fetchone() == (0,)
        conn.execute("drop table app.race_probe")
        conn.execute("delete from app.schema_migrations where version = '9002'")
        conn.execute("alter role heimdall_race_probe reset all")
        conn.execute("drop role heimdall_race_probe")


def _only(folder: Path, probe: Path) -> Path:
    """A migrations folder with the project's migrations (all applied already) and ``probe``."""
    target = folder / "migrations"
    target.mkdir()
    for migration in discover():
        shutil.copy(migration.path, target / migration.path.name)
    shutil.copy(probe, target / probe.name)
    return target
