"""Connector tests: a fresh database per test, so sync state never leaks between tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from warehouse.migrate import migrate


@pytest.fixture
def db(pg_server_url: str) -> Iterator[str]:
    name = f"t_conn_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    info = conninfo_to_dict(pg_server_url)
    info["dbname"] = name
    url = make_conninfo(**info)
    with psycopg.connect(url) as conn:
        migrate(conn)
    yield url
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
