"""Provisioning is idempotent: provisioning twice more leaves the same ids and counts (no duplicates), and
the server keeps answering with the same dashboards."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from heimdall.superset.dashboards import DASHBOARDS

TABLES = (
    "dashboards",
    "slices",
    "tables",
    "dbs",
    "table_columns",
    "sql_metrics",
    "dashboard_slices",
    "ab_user",
)


def _metadata(instance: Any) -> dict[str, Any]:
    info = conninfo_to_dict(instance.warehouse_url)
    info["dbname"] = instance.metadata_database
    with psycopg.connect(make_conninfo(**info)) as conn:
        state: dict[str, Any] = {
            table: conn.execute(f"select count(*) from {table}").fetchone()[0]  # type: ignore[index]
            for table in TABLES
        }
        for table, key in (("dashboards", "slug"), ("slices", "uuid"), ("tables", "uuid"), ("dbs", "uuid")):
            state[f"{table} ids"] = sorted(conn.execute(f"select id, {key}::text from {table}").fetchall())
    return state


def test_provisioning_twice_more_changes_no_id_or_count(superset_instance) -> None:
    before = _metadata(superset_instance)
    assert before["dashboards"] == len(DASHBOARDS)
    assert before["slices"] == sum(len(dashboard.charts) for dashboard in DASHBOARDS)
    assert before["dbs"] == 1 and before["ab_user"] == 1
    for _ in range(2):
        output = superset_instance.heimdall("superset", "provision")
        assert "superset db upgrade" not in output and "create-admin" not in output  # bootstrapped already
        assert f"{len(DASHBOARDS)} dashboards" in output
    assert _metadata(superset_instance) == before


def test_the_database_connection_is_the_read_only_login(superset_instance, superset_client) -> None:
    [database] = superset_client.get("/api/v1/database/")["result"]
    assert not database["allow_dml"] and not database["allow_file_upload"]
    connection = superset_client.get(f"/api/v1/database/{database['id']}/connection")["result"]
    # the read-only login; the password is never shown
    assert f"{superset_instance.reader_login}:XXXXXXXXXX@" in connection["sqlalchemy_uri"]
