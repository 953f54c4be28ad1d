"""The read-only login of dashboards: a role that signs in with a generated password and can do exactly what
``heimdall_reader`` (migration 0013) may do — SELECT from ``marts`` — under the same session settings.

The password is generated on this machine and kept in a file readable by its owner only (under
``HEIMDALL_HOME``); it is never written to git, printed or logged.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import psycopg
from psycopg import sql

from warehouse.errors import HeimdallError

READER_ROLE = "heimdall_reader"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class ReaderRoleError(HeimdallError):
    """The read-only role is missing or cannot be set up (the message says what to do)."""


def stored_secret(path: Path, *, length: int = 32) -> str:
    """The secret kept in ``path`` (created once, mode 0600, URL-safe characters only)."""
    if path.is_file():
        value = path.read_text().strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(length)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def reader_settings(conn: psycopg.Connection) -> list[str]:
    """The session settings migration 0013 gave heimdall_reader (``name=value``), server-wide ones."""
    row = conn.execute(
        """
        select s.setconfig from pg_catalog.pg_db_role_setting s
        join pg_catalog.pg_roles r on r.oid = s.setrole
        where r.rolname = %s and s.setdatabase = 0
        """,
        (READER_ROLE,),
    ).fetchone()
    return list(row[0]) if row and row[0] else []


def ensure_reader_login(conn: psycopg.Connection, login: str, password: str) -> None:
    """Create or update ``login``: LOGIN with ``password``, member of heimdall_reader and of nothing else,
    no other attribute, heimdall_reader's session settings. Idempotent."""
    if not _ROLE_NAME.match(login) or login == READER_ROLE:
        raise ReaderRoleError(f"not a usable login role name: {login!r}")
    exists = conn.execute("select 1 from pg_catalog.pg_roles where rolname = %s", (READER_ROLE,)).fetchone()
    if not exists:
        raise ReaderRoleError(
            f"the role {READER_ROLE} does not exist: migration 0013 could not create it (the warehouse user "
            "may not create roles). Run warehouse/migrations/0013_superset_reader.sql as a user with "
            "CREATEROLE, "
            "then provision again (docs/dashboards.md)"
        )
    role = sql.Identifier(login)
    attributes = sql.SQL(
        "login nosuperuser nocreatedb nocreaterole noreplication nobypassrls inherit connection limit 30 "
        "password {}"
    ).format(sql.Literal(password))
    with conn.transaction():
        found = conn.execute("select 1 from pg_catalog.pg_roles where rolname = %s", (login,)).fetchone()
        verb = sql.SQL("alter role" if found else "create role")
        conn.execute(sql.SQL("{} {} with {}").format(verb, role, attributes))
        others = conn.execute(
            """
            select g.rolname from pg_catalog.pg_auth_members m
            join pg_catalog.pg_roles g on g.oid = m.roleid
            join pg_catalog.pg_roles u on u.oid = m.member
            where u.rolname = %s and g.rolname <> %s
            """,
            (login, READER_ROLE),
        ).fetchall()
        for (other,) in others:
            conn.execute(sql.SQL("revoke {} from {}").format(sql.Identifier(other), role))
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(READER_ROLE), role))
        for setting in reader_settings(conn):
            name, _, value = setting.partition("=")
            conn.execute(
                sql.SQL("alter role {} set {} = {}").format(role, sql.Identifier(name), sql.Literal(value))
            )
