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
APPS_ROLE = "heimdall_apps"  # the Streamlit tools' group role (migration 0014)
ASK_ROLE = "heimdall_ask"  # Guarded Ask's group role (migration 0015)
_MIGRATION_OF = {
    READER_ROLE: "0013_superset_reader.sql",
    APPS_ROLE: "0014_apps_role.sql",
    ASK_ROLE: "0015_ask_role.sql",
}
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


def reader_settings(conn: psycopg.Connection, group: str = READER_ROLE) -> list[str]:
    """The session settings its migration gave ``group`` (``name=value``), server-wide ones."""
    row = conn.execute(
        """
        select s.setconfig from pg_catalog.pg_db_role_setting s
        join pg_catalog.pg_roles r on r.oid = s.setrole
        where r.rolname = %s and s.setdatabase = 0
        """,
        (group,),
    ).fetchone()
    return list(row[0]) if row and row[0] else []


def ensure_reader_login(
    conn: psycopg.Connection, login: str, password: str, *, group: str = READER_ROLE
) -> None:
    """Create or update ``login``: LOGIN with ``password``, member of ``group`` (heimdall_reader, or
    heimdall_apps
    for the Streamlit tools) and of nothing else, no other attribute, the group's session settings.
    Idempotent."""
    if not _ROLE_NAME.match(login) or login in _MIGRATION_OF:
        raise ReaderRoleError(f"not a usable login role name: {login!r}")
    exists = conn.execute("select 1 from pg_catalog.pg_roles where rolname = %s", (group,)).fetchone()
    if not exists:
        migration = _MIGRATION_OF.get(group, "")
        raise ReaderRoleError(
            f"the role {group} does not exist: migration {migration[:4]} could not create it (the warehouse "
            f"user may not create roles). Run warehouse/migrations/{migration} as a user with CREATEROLE, "
            "then try again (docs/dashboards.md, docs/apps.md)"
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
            (login, group),
        ).fetchall()
        for (other,) in others:
            conn.execute(sql.SQL("revoke {} from {}").format(sql.Identifier(other), role))
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(group), role))
        for setting in reader_settings(conn, group):
            name, _, value = setting.partition("=")
            conn.execute(
                sql.SQL("alter role {} set {} = {}").format(role, sql.Identifier(name), sql.Literal(value))
            )
