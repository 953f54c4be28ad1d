from __future__ import annotations

import shutil
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
