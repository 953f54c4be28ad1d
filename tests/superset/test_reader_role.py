"""The dashboards' login (member of heimdall_reader, migration 0013) may only SELECT from marts: it cannot
read raw, app or analysis, cannot write anywhere, cannot become another role, and its statements time out."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from warehouse.reader_role import READER_ROLE, ensure_reader_login, reader_settings

PASSWORD = "test-only-password"


@pytest.fixture(scope="module")
def reader_url(warehouse_url: str) -> Iterator[str]:
    """A login made by the provisioning code, on this module's database, with a mart table and raw rows."""
    login = f"heimdall_reader_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse_url, autocommit=True) as owner:
        owner.execute(
            "create table if not exists marts.fct_reader_probe (x integer)"
        )  # a table dbt would make
        owner.execute("insert into marts.fct_reader_probe values (1)")
        ensure_reader_login(owner, login, PASSWORD)
        ensure_reader_login(owner, login, PASSWORD)  # idempotent
    info = conninfo_to_dict(warehouse_url)
    info.update(user=login, password=PASSWORD)
    yield make_conninfo(**info)
    with psycopg.connect(warehouse_url, autocommit=True) as owner:
        owner.execute("drop table if exists marts.fct_reader_probe")
        owner.execute(sql.SQL("drop owned by {}").format(sql.Identifier(login)))
        owner.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(login)))


def _fails(url: str, statement: str) -> psycopg.Error:
    with psycopg.connect(url, autocommit=True) as conn, pytest.raises(psycopg.Error) as caught:
        conn.execute(statement)
    return caught.value


def test_the_role_exists_nologin_with_its_session_settings(warehouse_url: str) -> None:
    with psycopg.connect(warehouse_url) as conn:
        row = conn.execute(
            "select rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls from pg_roles "
            "where rolname = %s",
            (READER_ROLE,),
        ).fetchone()
        assert row == (False, False, False, False, False)
        settings = dict(item.split("=", 1) for item in reader_settings(conn))
    assert settings["statement_timeout"] == "60s"
    assert settings["default_transaction_read_only"] == "on"


def test_reads_marts(reader_url: str) -> None:
    with psycopg.connect(reader_url) as conn:
        assert conn.execute("select x from marts.fct_reader_probe").fetchall() == [(1,)]
        assert conn.execute("show statement_timeout").fetchone() == ("1min",)
        assert conn.execute("show transaction_read_only").fetchone() == ("on",)


@pytest.mark.parametrize(
    "table",
    [
        "raw.jira_issues",
        "app.recommendation_decisions",
        "app.schema_migrations",
        "analysis.intervention_outcomes",
    ],
)
def test_cannot_read_outside_marts(reader_url: str, table: str) -> None:
    error = _fails(reader_url, f"select * from {table} limit 1")
    assert isinstance(error, psycopg.errors.InsufficientPrivilege), error


@pytest.mark.parametrize(
    "statement",
    [
        "insert into marts.fct_reader_probe values (2)",
        "update marts.fct_reader_probe set x = 3",
        "delete from marts.fct_reader_probe",
        "truncate marts.fct_reader_probe",
        "create table marts.reader_made (x integer)",
        "create table public.reader_made (x integer)",
        "drop table marts.fct_reader_probe",
        "insert into app.recommendation_decisions (recommendation_id, decision, decided_by, team_id, "
        "rule_id, metric_name) values ('x:y', 'rejected', 'reader', 'x', 'y', 'z')",
    ],
)
def test_cannot_write(reader_url: str, statement: str) -> None:
    _fails(reader_url, statement)


def test_cannot_write_even_in_a_read_write_transaction(reader_url: str) -> None:
    """Read-only is a default the session can lift; the privileges still refuse every write."""
    with psycopg.connect(reader_url, autocommit=True) as conn:
        conn.execute("set default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into marts.fct_reader_probe values (2)")


def test_cannot_escape_via_set_role(reader_url: str, warehouse_url: str) -> None:
    owner = str(conninfo_to_dict(warehouse_url).get("user") or "postgres")
    for target in (owner, "postgres", "pg_read_all_data", "pg_write_server_files"):
        error = _fails(reader_url, f'set role "{target}"')
        assert isinstance(error, psycopg.errors.InsufficientPrivilege), (target, error)
    error = _fails(reader_url, f'set session authorization "{owner}"')
    assert isinstance(error, psycopg.errors.InsufficientPrivilege), error
    with psycopg.connect(reader_url, autocommit=True) as conn:
        conn.execute(f"set role {READER_ROLE}")  # its only group: still read-only
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from raw.jira_issues limit 1")
        member_of = conn.execute(
            "select b.rolname from pg_auth_members m join pg_roles b on b.oid = m.roleid "
            "join pg_roles u on u.oid = m.member where u.rolname = session_user"
        ).fetchall()
    assert member_of == [(READER_ROLE,)]
