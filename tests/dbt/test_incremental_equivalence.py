"""Incremental builds equal a full refresh (issue 15, docs/operations.md "Incremental builds").

A small generated organisation is loaded day by day through the real loader, with an incremental dbt run
after each load: documents that arrive late and out of order (change histories, notes, jobs held back for
days), documents updated after they were first loaded (an earlier version of some issues and merge requests
first, their current version later), deletions through the tombstone path (an issue with its histories, a
merge request with its notes and commits: ``connectors.state.mark_deleted``), later versions that change
what other entities read (a merge request title gaining an issue key, then losing it; a project moved to
another team), and as_of moves (every build
has its own as_of; the last two move it without any new document, forward and then back before the newest
documents). Then every table and view the project
builds (staging, intermediate, marts) is copied aside, the project is rebuilt with ``--full-refresh`` on
the same raw data, and both are compared row for row (EXCEPT ALL both ways, every column: nothing is left
out, since the raw data and as_of are the same)."""

from __future__ import annotations

import copy
import random
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from connectors.state import mark_deleted
from generator import GeneratorOptions, generate
from tests.support import Preparation, Warehouse
from warehouse.dbt_vars import vars_args
from warehouse.loader import TABLE_SPECS, RejectedDocument
from warehouse.records import RawRecord

AS_OF = date(2026, 3, 20)
# the incremental days: documents last updated on or before each day are loaded, then a build at its end
DAYS = [AS_OF - timedelta(days=3), AS_OF - timedelta(days=2), AS_OF - timedelta(days=1), AS_OF]
SCHEMAS = ("staging", "intermediate", "marts")
SNAPSHOT = "incremental_snapshot"
LATE_TABLES = {"jira_changelogs", "gitlab_mr_notes", "gitlab_jobs", "gitlab_mr_commits"}


def _as_of(day: date) -> str:
    return f"{day.isoformat()}T23:59:59+00:00"


def _day(record: RawRecord) -> date | None:
    try:
        _, _, updated_at = TABLE_SPECS[record.table].key(record)
    except RejectedDocument:
        return None
    return updated_at.date() if updated_at is not None else None


def _earlier_version(record: RawRecord, day: date) -> RawRecord:
    """The same object as it looked on ``day``: another status or state and an older update time."""
    payload = copy.deepcopy(record.payload)
    stamp = f"{day.isoformat()}T08:00:00.000+0000"
    if record.table == "jira_issues":
        payload["fields"]["updated"] = stamp
        payload["fields"]["status"] = {
            "id": "3",
            "name": "In Progress",
            "statusCategory": {"key": "indeterminate"},
        }
        payload["fields"]["resolutiondate"] = None
        payload["fields"]["summary"] = f"{payload['fields'].get('summary')} (draft)"
    else:
        payload["updated_at"] = f"{day.isoformat()}T08:00:00Z"
        payload["state"] = "opened"
        payload["merged_at"] = None
        payload["closed_at"] = None
    return RawRecord(record.table, payload, record.parent_id, record.origin)


def _batches(records: list[RawRecord]) -> list[list[RawRecord]]:
    """One list of documents per entry of DAYS (see the module docstring)."""
    rng = random.Random(15)
    batches: list[list[RawRecord]] = [[] for _ in DAYS]
    for record in records:
        day = _day(record)
        index = 0 if day is None or day <= DAYS[0] else next(i for i, d in enumerate(DAYS) if day <= d)
        if index == 0 and record.table in LATE_TABLES and rng.random() < 0.15:
            index = rng.choice([1, 2])  # late and out of order: delivered days after newer documents
        elif index > 0 and record.table in ("jira_issues", "gitlab_merge_requests") and rng.random() < 0.5:
            batches[index - 1].append(_earlier_version(record, DAYS[index - 1]))
        batches[index].append(record)
    return batches


def _edits(records: list[RawRecord], batches: list[list[RawRecord]]) -> dict[str, str]:
    """Versions of documents that change what other entities read: a merge request loaded on the first day
    whose title gains another issue's key on day 1 and loses it on day 2 (a link added, then removed, by a
    title edit); the projects (all last active on the final day) loaded on the first day too, one of them in
    another team's namespace, so the final day moves it (its merge requests, pipelines and jobs change team
    with no document of theirs)."""
    first_day = {id(record) for record in batches[0]}
    merge_request = next(
        record
        for record in records
        if record.table == "gitlab_merge_requests" and id(record) in first_day and record.payload.get("title")
    )
    issue_keys = sorted(
        str(record.payload["key"])
        for record in records
        if record.table == "jira_issues" and "key" in record.payload
    )
    added_key = next(key for key in reversed(issue_keys) if key not in str(merge_request.payload))
    title = str(merge_request.payload["title"])
    for index, edited_title in ((1, f"{title} ({added_key})"), (2, title)):
        payload = copy.deepcopy(merge_request.payload)
        payload["title"] = edited_title
        payload["updated_at"] = f"{DAYS[index].isoformat()}T09:00:00Z"
        batches[index].append(
            RawRecord(merge_request.table, payload, merge_request.parent_id, merge_request.origin)
        )
    projects = [record for record in records if record.table == "gitlab_projects"]
    with_merge_requests = {
        str(record.payload.get("project_id")) for record in records if record.table == "gitlab_merge_requests"
    }
    moved = next(record for record in projects if str(record.payload["id"]) in with_merge_requests)
    other = next(record for record in projects if record.payload["namespace"] != moved.payload["namespace"])
    for project in projects:
        payload = copy.deepcopy(project.payload)
        payload["last_activity_at"] = f"{DAYS[0].isoformat()}T09:00:00Z"
        if project is moved:
            payload["namespace"] = copy.deepcopy(other.payload["namespace"])
        batches[0].append(RawRecord(project.table, payload, project.parent_id, project.origin))
    return {
        "merge_request_id": str(merge_request.payload["id"]),
        "added_key": added_key,
        "project_id": str(moved.payload["id"]),
        "team_path": str(moved.payload["namespace"]["path"]),
    }


def _tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema = any(%s) order by 1, 2",
        (list(SCHEMAS),),
    ).fetchall()
    return [(str(schema), str(name)) for schema, name in rows]


def _snapshot(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        tables = _tables(conn)
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(SNAPSHOT)))
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(SNAPSHOT)))
        for schema, name in tables:
            conn.execute(
                sql.SQL("create table {} as select * from {}").format(
                    sql.Identifier(SNAPSHOT, f"{schema}__{name}"), sql.Identifier(schema, name)
                )
            )
    return tables


def _differences(url: str, tables: list[tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """(rows only in the incremental build, rows only in the full refresh) per table that differs."""
    found: dict[str, tuple[int, int]] = {}
    with psycopg.connect(url) as conn:
        for schema, name in tables:
            full = sql.Identifier(schema, name)
            incremental = sql.Identifier(SNAPSHOT, f"{schema}__{name}")
            counts = []
            for left, right in ((incremental, full), (full, incremental)):
                query = sql.SQL("select count(*) from (select * from {} except all select * from {}) as d")
                counts.append(conn.execute(query.format(left, right)).fetchone()[0])  # type: ignore[index]
            if any(counts):
                found[f"{schema}.{name}"] = (counts[0], counts[1])
    return found


def _delete_an_issue_and_a_merge_request(url: str) -> tuple[str, str]:
    with psycopg.connect(url) as conn:
        issue_id = conn.execute(
            "select i.source_id from raw.jira_issues i "
            "where exists (select 1 from raw.jira_changelogs c where c.parent_id = i.source_id) "
            "order by i.source_id limit 1"
        ).fetchone()[0]  # type: ignore[index]
        mr_id = conn.execute(
            "select m.source_id from raw.gitlab_merge_requests m "
            "where exists (select 1 from raw.gitlab_mr_notes n where n.parent_id = m.source_id) "
            "order by m.source_id limit 1"
        ).fetchone()[0]  # type: ignore[index]
        assert mark_deleted(conn, "jira_issues", [issue_id], "webhook", children="jira_changelogs") == 1
        assert (
            mark_deleted(
                conn,
                "gitlab_merge_requests",
                [mr_id],
                "reconciliation",
                children=["gitlab_mr_notes", "gitlab_mr_commits"],
            )
            == 1
        )
    return str(issue_id), str(mr_id)


def prepare_in_background(prep: Preparation) -> dict[str, Any]:
    """Load day by day with an incremental run after each load, snapshot, full refresh, compare."""
    warehouse: Warehouse = prep.warehouse()
    run = generate(GeneratorOptions(seed=15, scale="small", teams=2, engineers=8, weeks=8, as_of=AS_OF))
    records = list(run.records)
    batches = _batches(records)
    edits = _edits(records, batches)
    deleted: tuple[str, str] | None = None
    warehouse.dbt("seed")
    started = datetime.now()
    linked_on_day_1: list[dict[str, Any]] = []
    for index, (day, batch) in enumerate(zip(DAYS, batches, strict=True)):
        warehouse.load(batch)
        if index == 2:
            deleted = _delete_an_issue_and_a_merge_request(warehouse.url)
        warehouse.dbt("run", *vars_args(as_of=_as_of(day)))
        if index == 1:
            linked_on_day_1 = warehouse.query(
                "select issue_key from marts.fct_issue_merge_request_links where merge_request_id = %s",
                (edits["merge_request_id"],),
            )
    # as_of moves with no new document: forward, then back to before the newest documents
    warehouse.dbt("run", *vars_args(as_of=_as_of(AS_OF + timedelta(days=2))))
    final_as_of = _as_of(AS_OF - timedelta(days=1))
    warehouse.dbt("run", *vars_args(as_of=final_as_of))
    incremental_seconds = (datetime.now() - started).total_seconds()
    tables = _snapshot(warehouse.url)
    warehouse.dbt("run", "--full-refresh", *vars_args(as_of=final_as_of))
    return {
        "tables": tables,
        "differences": _differences(warehouse.url, tables),
        "deleted": deleted,
        "batches": [len(batch) for batch in batches],
        "edits": edits,
        "linked_on_day_1": [row["issue_key"] for row in linked_on_day_1],
        "incremental_seconds": incremental_seconds,
    }


@pytest.fixture(scope="module")
def compared(prepared: dict[str, Any]) -> dict[str, Any]:
    return prepared


def test_the_scenario_exercises_every_path(compared, query) -> None:
    assert all(size > 0 for size in compared["batches"]), compared["batches"]
    issue_id, mr_id = compared["deleted"]
    assert (
        query("select count(*) as n from staging.stg_jira__issues where issue_id = %s", (issue_id,))[0]["n"]
        == 0
    )
    assert (
        query("select count(*) as n from marts.fct_merge_requests where merge_request_id = %s", (mr_id,))[0][
            "n"
        ]
        == 0
    )
    edits = compared["edits"]
    assert edits["added_key"] in compared["linked_on_day_1"]  # the title edit added the link...
    linked_now = query(
        "select issue_key from marts.fct_issue_merge_request_links where merge_request_id = %s",
        (edits["merge_request_id"],),
    )
    # ...and the next one removed it
    assert edits["added_key"] not in [row["issue_key"] for row in linked_now]
    moved = query(
        "select distinct team_id from marts.fct_merge_requests where project_id = %s "
        "union select distinct team_id from marts.fct_pipelines where project_id = %s",
        (edits["project_id"], edits["project_id"]),
    )
    assert [row["team_id"] for row in moved] == [edits["team_path"]], moved
    materialized = {
        row["relname"]
        for row in query(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = any(%s) and c.relkind = 'r'",
            (list(SCHEMAS),),
        )
    }
    assert {"stg_jira__issues", "stg_jira__changelog_items", "int_status_intervals_derived"} <= materialized


def test_every_model_equals_a_full_refresh_row_for_row(compared) -> None:
    names = {f"{schema}.{name}" for schema, name in compared["tables"]}
    assert {
        "marts.fct_issue_lifecycle",
        "marts.fct_team_weekly_metrics",
        "intermediate.int_status_intervals_derived",
    } <= names
    assert compared["differences"] == {}, (
        "models whose incremental build differs from a full refresh (rows only incremental, rows only full): "
        f"{compared['differences']}"
    )
