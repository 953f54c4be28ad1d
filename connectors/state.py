"""Sync bookkeeping: per-scope watermarks in ``app.sync_state``, committed with the documents they cover.

A page of documents and the watermark it advances are written in ONE transaction (:func:`commit_page`), so a
sync killed at any point leaves either the page and its watermark, or neither: the rerun starts from the last
committed watermark minus the overlap window and loads nothing twice (the loader's upsert is idempotent).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql

from warehouse.loader import TABLE_SPECS, RejectedDocument, load_records
from warehouse.records import RawRecord


@dataclass
class SyncSummary:
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    deleted: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: SyncSummary) -> None:
        self.fetched += other.fetched
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        self.deleted += other.deleted
        self.errors += other.errors


def _durable(conn: psycopg.Connection) -> None:
    """Make what was just written durable even on a non-autocommit connection, where an earlier statement
    may have opened an implicit transaction that would turn our transaction blocks into savepoints."""
    if not conn.autocommit:
        conn.commit()


def watermark(conn: psycopg.Connection, source: str, scope: str) -> datetime | None:
    row = conn.execute(
        "select watermark from app.sync_state where source = %s and scope = %s", (source, scope)
    ).fetchone()
    return row[0] if row else None


def mark_run(
    conn: psycopg.Connection, source: str, scope: str, status: str, error: str | None = None
) -> None:
    started = status == "running"
    with conn.transaction():
        conn.execute(
            """
            insert into app.sync_state (source, scope, last_status, last_error, last_run_started_at)
            values (%(source)s, %(scope)s, %(status)s, %(error)s, case when %(started)s then now() end)
            on conflict (source, scope) do update set
                last_status = excluded.last_status,
                last_error = excluded.last_error,
                last_run_started_at
                    = coalesce(excluded.last_run_started_at, app.sync_state.last_run_started_at),
                last_run_finished_at
                    = case when %(started)s then app.sync_state.last_run_finished_at else now() end,
                updated_at = now()
            """,
            {"source": source, "scope": scope, "status": status, "error": error, "started": started},
        )
    _durable(conn)


def _existing(conn: psycopg.Connection, records: list[RawRecord]) -> set[tuple[str, str]]:
    by_table: dict[str, list[str]] = {}
    for record in records:
        try:
            source_id = TABLE_SPECS[record.table].key(record)[0]
        except RejectedDocument:
            continue
        by_table.setdefault(record.table, []).append(source_id)
    found: set[tuple[str, str]] = set()
    for table, ids in by_table.items():
        query = sql.SQL("select source_id from raw.{} where source_id = any(%s)").format(
            sql.Identifier(table)
        )
        rows = conn.execute(query, (ids,)).fetchall()
        found |= {(table, row[0]) for row in rows}
    return found


def commit_page(
    conn: psycopg.Connection,
    source: str,
    scope: str,
    records: Iterable[RawRecord],
    new_watermark: datetime | None,
) -> SyncSummary:
    """Load one page of documents and advance the scope's watermark, atomically."""
    page = list(records)
    summary = SyncSummary(fetched=len(page))
    with conn.transaction():
        existing = _existing(conn, page)
        result = load_records(conn, page, source)
        summary.unchanged = result.unchanged
        summary.rejected = result.rejected
        keys = set()
        for record in page:
            try:
                keys.add((record.table, TABLE_SPECS[record.table].key(record)[0]))
            except RejectedDocument:
                continue
        summary.new = min(result.loaded, len(keys - existing))
        summary.updated = result.loaded - summary.new
        conn.execute(
            """
            insert into app.sync_state (source, scope, watermark, documents_loaded, last_status)
            values (%(source)s, %(scope)s, %(watermark)s, %(loaded)s, 'running')
            on conflict (source, scope) do update set
                watermark = greatest(app.sync_state.watermark, excluded.watermark),
                documents_loaded = app.sync_state.documents_loaded + excluded.documents_loaded,
                updated_at = now()
            """,
            {"source": source, "scope": scope, "watermark": new_watermark, "loaded": result.loaded},
        )
    _durable(conn)
    return summary


def mark_deleted(
    conn: psycopg.Connection,
    table: str,
    source_ids: list[str],
    detected_by: str,
    *,
    children: str | None = None,
) -> int:
    """Move documents that no longer exist at the source into app.deleted_documents (payload kept) and remove
    them (with ``children``, also the rows of that raw table whose parent_id points at them), atomically."""
    if not source_ids:
        return 0
    with conn.transaction():
        conn.execute(
            sql.SQL(
                "insert into app.deleted_documents (table_name, source_id, detected_by, payload) "
                "select %s, source_id, %s, payload from raw.{} where source_id = any(%s) "
                "on conflict (table_name, source_id) do nothing"
            ).format(sql.Identifier(table)),
            (table, detected_by, source_ids),
        )
        if children:
            conn.execute(
                sql.SQL("delete from raw.{} where parent_id = any(%s)").format(sql.Identifier(children)),
                (source_ids,),
            )
        delete = sql.SQL("delete from raw.{} where source_id = any(%s)").format(sql.Identifier(table))
        cur = conn.execute(delete, (source_ids,))
    _durable(conn)
    return cur.rowcount
