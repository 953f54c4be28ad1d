"""Versioned schema migrations: ``warehouse/migrations/NNNN_name.sql`` applied in order, once each."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from warehouse.errors import HeimdallError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Serialises concurrent `migrate` runs against one database.
_ADVISORY_LOCK_KEY = 0x4E1D_A11


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


class MigrationError(HeimdallError):
    pass


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        version, _, name = path.stem.partition("_")
        if not version.isdigit():
            raise MigrationError(f"migration file name must start with digits: {path.name}")
        migrations.append(Migration(version=version, name=name, path=path))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {directory}")
    return migrations


# Roles and their settings live in catalogs shared by every database of a server, and the advisory lock below
# is per database: two databases migrating at once (two warehouses, or parallel test databases) can update the
# same role row, and PostgreSQL then fails the later one with "tuple concurrently updated". The whole
# transaction rolled back, so it is simply tried again.
_SHARED_CATALOG_RETRIES = 5


def migrate(conn: psycopg.Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations in one transaction (all or none). Returns the versions applied."""
    for attempt in range(_SHARED_CATALOG_RETRIES):
        try:
            return _migrate_once(conn, directory)
        except psycopg.errors.InternalError_ as exc:
            if "tuple concurrently updated" not in str(exc) or attempt == _SHARED_CATALOG_RETRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _migrate_once(conn: psycopg.Connection, directory: Path) -> list[str]:
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_ADVISORY_LOCK_KEY,))
        conn.execute("create schema if not exists app")
        conn.execute(
            """
            create table if not exists app.schema_migrations (
                version text primary key,
                name text not null,
                checksum text not null,
                applied_at timestamptz not null default now()
            )
            """
        )
        rows = conn.execute("select version, checksum from app.schema_migrations").fetchall()
        done = {version: checksum for version, checksum in rows}
        for migration in discover(directory):
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.path.name} changed after it was applied; "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            conn.execute(migration.sql)
            conn.execute(
                "insert into app.schema_migrations (version, name, checksum) values (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
            applied_now.append(migration.version)
    return applied_now
