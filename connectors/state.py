"""Sync bookkeeping: per-scope watermarks in ``app.sync_state``, committed with the documents they cover.

A page of documents and the watermark it advances are written in ONE transaction (:func:`commit_page`), so a
sync killed at any point leaves either the page and its watermark, or neither: the rerun starts from the last
committed watermark minus the overlap window and loads nothing twice (the loader's upsert is idempotent).

Runs: :func:`mark_run` records which run owns a scope (a run id, the client's host and process id, and the
database session it syncs through). A scope still ``running`` whose session no longer exists belongs to a
run that was killed or lost its connection: the next run of any scope marks it ``interrupted``, and load
batches left ``running`` the same way (:func:`sweep_interrupted`). A run in progress keeps its session, so
it is never marked.

Deletions: :func:`mark_deleted` moves documents (and their children) to ``app.deleted_documents`` and leaves
a tombstone the loader respects: only a document newer than the deletion stores the object again.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql

from warehouse.loader import TABLE_SPECS, RejectedDocument, load_records, mark_interrupted_batches
from warehouse.records import RawRecord


@dataclass
class SyncSummary:
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    deleted: int = 0
    # items the source listed but no longer had when asked for them (a per-item 404): left out, with a note
    skipped: int = 0
    # documents older than a deletion of their object: not stored (see app.deleted_documents)
    tombstoned: int = 0
    errors: list[str] = field(default_factory=list)
    # what the user should know that is not an error (skipped items, interrupted runs found, ...)
    notes: list[str] = field(default_factory=list)

    def add(self, other: SyncSummary) -> None:
        self.fetched += other.fetched
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        self.deleted += other.deleted
        self.skipped += other.skipped
        self.tombstoned += other.tombstoned
        self.errors += other.errors
        self.notes += other.notes


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


RUN_ID = uuid.uuid4().hex[:12]  # one id per process: every scope a process syncs belongs to this run


def mark_run(
    conn: psycopg.Connection, source: str, scope: str, status: str, error: str | None = None
) -> list[str]:
    """Record a scope's run status (``running``, ``succeeded``, ``failed``, ``interrupted``). Starting a run
    first marks runs and load batches that were killed as ``interrupted`` (:func:`sweep_interrupted`) and
    returns notes about them; a finished status returns no notes."""
    started = status == "running"
    params = {"source": source, "scope": scope, "status": status, "error": error}
    notes: list[str] = []
    with conn.transaction():
        if started:
            notes = sweep_interrupted(conn)
            conn.execute(
                """
                insert into app.sync_state as s (
                    source, scope, last_status, last_error, last_run_started_at,
                    run_id, run_client, run_backend_pid, run_backend_started
                )
                values (
                    %(source)s, %(scope)s, %(status)s, %(error)s, now(), %(run_id)s, %(client)s,
                    pg_backend_pid(),
                    (select backend_start from pg_stat_activity where pid = pg_backend_pid())
                )
                on conflict (source, scope) do update set
                    last_status = excluded.last_status,
                    last_error = excluded.last_error,
                    last_run_started_at = excluded.last_run_started_at,
                    run_id = excluded.run_id,
                    run_client = excluded.run_client,
                    run_backend_pid = excluded.run_backend_pid,
                    run_backend_started = excluded.run_backend_started,
                    updated_at = now()
                """,
                {**params, "run_id": RUN_ID, "client": f"{socket.gethostname()} pid {os.getpid()}"},
            )
        else:
            conn.execute(
                """
                insert into app.sync_state as s (source, scope, last_status, last_error, last_run_finished_at)
                values (%(source)s, %(scope)s, %(status)s, %(error)s, now())
                on conflict (source, scope) do update set
                    last_status = excluded.last_status,
                    last_error = excluded.last_error,
                    last_run_finished_at = excluded.last_run_finished_at,
                    updated_at = now()
                """,
                params,
            )
    _durable(conn)
    return notes


def database_now(conn: psycopg.Connection) -> datetime:
    """The database's clock (raw's ``ingested_at`` and the tombstones' ``deleted_at`` are on it), read without
    leaving a transaction open: a run compares what it stored with what others stored while it ran."""
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    row = conn.execute("select clock_timestamp()").fetchone()
    if idle and not conn.autocommit:
        conn.commit()
    assert row is not None
    moment: datetime = row[0]
    return moment


def mark_stopped(conn: psycopg.Connection, source: str, scope: str, exc: BaseException) -> None:
    """Record why a scope's run stopped: ``failed`` with the error, or ``interrupted`` on Ctrl-C (any
    ``BaseException`` that is not an ``Exception``). Never hides ``exc``: when the database cannot be told
    (the connection is gone), the next run marks the scope interrupted instead."""
    status = "failed" if isinstance(exc, Exception) else "interrupted"
    message = str(exc)[:1000] if isinstance(exc, Exception) else f"interrupted: {type(exc).__name__}"
    try:
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            conn.rollback()
        mark_run(conn, source, scope, status, message)
    except psycopg.Error:
        pass


def sweep_interrupted(conn: psycopg.Connection) -> list[str]:
    """Mark as ``interrupted`` every sync scope and load batch still ``running`` whose database session has
    ended: the process running it was killed or lost its connection (a live run keeps its session, however
    slow it is). Returns one note per row marked."""
    rows = conn.execute(
        """
        update app.sync_state s set
            last_status = 'interrupted',
            last_error = 'interrupted: run ' || coalesce(s.run_id, '(unknown)')
                || ' (' || coalesce(s.run_client, 'unknown client') || ', started '
                || coalesce(to_char(s.last_run_started_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '?')
                || ' UTC) ended without finishing; the committed pages and their watermark are kept',
            last_run_finished_at = now(),
            updated_at = now()
        where s.last_status = 'running'
          and not exists (
              select 1 from pg_stat_activity a
              where a.pid = s.run_backend_pid
                and (a.backend_start = s.run_backend_started
                     or a.backend_start is null or s.run_backend_started is null)
          )
        returning s.source, s.scope, s.last_error
        """
    ).fetchall()
    notes = [f"{source} {scope}: {error}" for source, scope, error in rows]
    notes += [
        f"load batch {batch_id} ({source} -> raw.{table}) was interrupted; none of its documents were stored"
        for batch_id, source, table in mark_interrupted_batches(conn)
    ]
    return notes


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
        summary.tombstoned = result.tombstoned
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
            insert into app.sync_state (source, scope, watermark, documents_loaded)
            values (%(source)s, %(scope)s, %(watermark)s, %(loaded)s)
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
    source_ids: Iterable[str],
    detected_by: str,
    *,
    children: str | Iterable[str] | None = None,
    deleted_at: datetime | None = None,
) -> int:
    """Record that documents no longer exist at the source, atomically: each id gets a tombstone in
    app.deleted_documents (with its raw payload when raw has it; an id raw never had still gets one, so a late
    delivery cannot create it), the rows of the ``children`` tables (one name or several) whose parent_id
    points at them are archived there too (``parent_table``/``parent_id`` name the parent), and all of them
    are removed from raw. ``deleted_at`` (default: now) is when the object was deleted: the loader stores it
    again only from a document newer than that. Returns how many documents were removed from raw."""
    ids = sorted({str(source_id) for source_id in source_ids})
    if not ids:
        return 0
    child_tables = [children] if isinstance(children, str) else list(children or ())
    params = {"table": table, "by": detected_by, "at": deleted_at, "ids": ids}
    with conn.transaction():
        conn.execute(
            sql.SQL(
                """
                insert into app.deleted_documents as d
                    (table_name, source_id, detected_by, payload, deleted_at)
                select %(table)s, wanted.id, %(by)s, r.payload, coalesce(%(at)s::timestamptz, now())
                from unnest(%(ids)s::text[]) as wanted (id)
                left join raw.{table} r on r.source_id = wanted.id
                on conflict (table_name, source_id) do update set
                    detected_by = excluded.detected_by,
                    payload = coalesce(excluded.payload, d.payload),
                    deleted_at = excluded.deleted_at,
                    restored_at = null,
                    parent_table = null,
                    parent_id = null
                where d.restored_at is not null or d.parent_table is not null
                """
            ).format(table=sql.Identifier(table)),
            params,
        )
        for child in child_tables:
            conn.execute(
                sql.SQL(
                    """
                    insert into app.deleted_documents as d
                        (table_name, source_id, detected_by, payload, deleted_at, parent_table, parent_id)
                    select %(child)s, c.source_id, %(by)s, c.payload, coalesce(%(at)s::timestamptz, now()),
                        %(table)s, c.parent_id
                    from raw.{child} c
                    where c.parent_id = any(%(ids)s)
                    on conflict (table_name, source_id) do update set
                        detected_by = excluded.detected_by,
                        payload = excluded.payload,
                        deleted_at = excluded.deleted_at,
                        restored_at = null,
                        parent_table = excluded.parent_table,
                        parent_id = excluded.parent_id
                    """
                ).format(child=sql.Identifier(child)),
                {**params, "child": child},
            )
            conn.execute(
                sql.SQL("delete from raw.{} where parent_id = any(%(ids)s)").format(sql.Identifier(child)),
                params,
            )
        delete = sql.SQL("delete from raw.{} where source_id = any(%(ids)s)").format(sql.Identifier(table))
        cur = conn.execute(delete, params)
    _durable(conn)
    return cur.rowcount
