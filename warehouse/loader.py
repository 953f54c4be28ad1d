"""Load source documents into ``raw`` with COPY, one transaction per batch.

Rules (docs/raw-layer.md): each batch is one (source, table, chunk) recorded in ``app.load_batches``;
a document that cannot be keyed goes to ``app.dead_letters`` with the reason while the rest of its batch
loads; any database error rolls the whole batch back and marks it failed; re-loading is idempotent
(upsert on ``source_id`` keeping the newest ``updated_at``). A ``webhook`` document carries fewer fields than
the API document of the same object, so it is merged onto the stored one (top-level keys: what the webhook
does not send keeps its API value); any other source replaces the stored document whole.

Deletions are tombstones (``app.deleted_documents`` rows with ``restored_at`` null): a document whose object
was deleted is stored again only when it is newer than the deletion (its ``updated_at`` after
``deleted_at``), and a child document (a change history) not while its parent is deleted. A batch records
the database session loading it, so a batch left ``running`` by a killed process is recognised
(:func:`mark_interrupted_batches`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from warehouse.errors import HeimdallError
from warehouse.records import RAW_TABLES, SOURCES, RawRecord
from warehouse.timestamps import parse_source_timestamp

DEFAULT_BATCH_SIZE = 5000


class LoadError(HeimdallError):
    """A batch failed and was rolled back whole; the message names the batch and the cause."""


class RejectedDocument(ValueError):
    """A document that cannot be stored in its raw table (kept as a dead letter)."""


def _dig(payload: dict[str, Any], dotted: str) -> Any:
    value: Any = payload
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise RejectedDocument(f"missing required key '{dotted}'")
        value = value[part]
    return value


def _first_present(payload: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = payload.get(key)
        if value is not None:
            return value
    return None


@dataclass(frozen=True)
class TableSpec:
    """How to key one raw table's documents."""

    table: str
    id_key: str
    updated_keys: tuple[str, ...] = ()
    requires_parent: bool = False
    id_prefixed_by_parent: bool = False
    required_keys: tuple[str, ...] = ()
    # the raw table of the document ``parent_id`` names, when a deletion of that parent covers this one
    parent_table: str | None = None

    def key(self, record: RawRecord) -> tuple[str, str | None, datetime | None]:
        if record.problem:
            raise RejectedDocument(record.problem)
        payload = record.payload
        if not isinstance(payload, dict):
            raise RejectedDocument(f"document is not a JSON object (got {type(payload).__name__})")
        raw_id = _dig(payload, self.id_key)
        if raw_id is None or isinstance(raw_id, dict | list | bool) or str(raw_id).strip() == "":
            raise RejectedDocument(f"'{self.id_key}' must be a non-empty string or number, got {raw_id!r}")
        for required in self.required_keys:
            _dig(payload, required)
        if self.requires_parent and not record.parent_id:
            raise RejectedDocument(f"{self.table} documents need a parent_id (see docs/raw-layer.md)")
        source_id = f"{record.parent_id}:{raw_id}" if self.id_prefixed_by_parent else str(raw_id)
        updated_raw = None
        if self.updated_keys:
            if "." in self.updated_keys[0]:
                updated_raw = _dig(payload, self.updated_keys[0])
            else:
                updated_raw = _first_present(payload, self.updated_keys)
        try:
            updated_at = parse_source_timestamp(updated_raw)
        except ValueError as exc:
            raise RejectedDocument(f"unparseable timestamp in '{self.updated_keys[0]}': {exc}") from exc
        return source_id, record.parent_id, updated_at


TABLE_SPECS: dict[str, TableSpec] = {
    spec.table: spec
    for spec in (
        TableSpec("jira_issues", "id", ("fields.updated",), required_keys=("key", "fields")),
        TableSpec(
            "jira_changelogs",
            "id",
            ("created",),
            requires_parent=True,
            required_keys=("items",),
            parent_table="jira_issues",
        ),
        TableSpec("jira_sprints", "id", required_keys=("state",)),
        TableSpec("gitlab_projects", "id", ("last_activity_at", "updated_at")),
        TableSpec("gitlab_merge_requests", "id", ("updated_at",), required_keys=("iid", "project_id")),
        TableSpec(
            "gitlab_mr_notes",
            "id",
            ("updated_at", "created_at"),
            requires_parent=True,
            parent_table="gitlab_merge_requests",
        ),
        TableSpec(
            "gitlab_mr_commits",
            "id",
            ("committed_date",),
            requires_parent=True,
            id_prefixed_by_parent=True,
            parent_table="gitlab_merge_requests",
        ),
        TableSpec("gitlab_pipelines", "id", ("updated_at", "created_at"), required_keys=("status",)),
        TableSpec(
            "gitlab_jobs",
            "id",
            ("finished_at", "started_at", "created_at"),
            required_keys=("status",),
            parent_table="gitlab_pipelines",
        ),
        TableSpec("gitlab_deployments", "id", ("updated_at", "created_at"), required_keys=("status",)),
        TableSpec(
            "gitlab_deployment_merge_requests",
            "id",
            ("updated_at",),
            requires_parent=True,
            id_prefixed_by_parent=True,
            parent_table="gitlab_deployments",
        ),
        TableSpec("gitlab_issues", "id", ("updated_at", "created_at"), required_keys=("iid", "project_id")),
    )
}
assert set(TABLE_SPECS) == set(RAW_TABLES), "every raw table needs a TableSpec"
assert all(spec.parent_table in (None, *TABLE_SPECS) for spec in TABLE_SPECS.values())


@dataclass
class BatchResult:
    batch_id: int
    source: str
    table: str
    received: int
    loaded: int
    unchanged: int
    rejected: int
    # documents not stored because their object (or its parent) was deleted after they were written
    tombstoned: int = 0


@dataclass
class LoadSummary:
    batches: list[BatchResult] = field(default_factory=list)

    def _total(self, attr: str) -> int:
        return sum(getattr(batch, attr) for batch in self.batches)

    @property
    def received(self) -> int:
        return self._total("received")

    @property
    def loaded(self) -> int:
        return self._total("loaded")

    @property
    def unchanged(self) -> int:
        return self._total("unchanged")

    @property
    def rejected(self) -> int:
        return self._total("rejected")

    @property
    def tombstoned(self) -> int:
        return self._total("tombstoned")

    def by_table(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for batch in self.batches:
            row = out.setdefault(batch.table, {"received": 0, "loaded": 0, "unchanged": 0, "rejected": 0})
            row["received"] += batch.received
            row["loaded"] += batch.loaded
            row["unchanged"] += batch.unchanged
            row["rejected"] += batch.rejected
        return out


def document_text(payload: Any) -> str:
    """A rejected document as text a PostgreSQL ``text`` column can hold (no NUL, valid UTF-8), whatever it
    is: bytes, text, or a parsed document (as JSON; one too deeply nested to serialise is described, not
    shown, rather than costing its batch)."""
    if isinstance(payload, bytes):
        text = payload.decode("utf-8", errors="replace")
    elif isinstance(payload, str):
        text = payload
    else:
        try:
            text = json.dumps(payload, default=str)
        except (TypeError, ValueError, RecursionError):
            try:
                text = repr(payload)
            except RecursionError:
                text = f"<a {type(payload).__name__} nested too deeply to show>"
    return _storable_text(text)


def _storable_text(text: str) -> str:
    """NUL → U+FFFD and lone surrogates → U+FFFD: what ``text`` and ``jsonb`` can store."""
    text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")
    return text


def _without_nul(value: Any) -> Any:
    """Replace NUL characters (which jsonb cannot hold) with U+FFFD, recursively. Recurses twice per level
    (the call and its comprehension), so it runs out of stack sooner than ``json.dumps``: callers guard it."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


# json.dumps with these options builds a new encoder per call; one encoder serves every document the same way
_PAYLOAD_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def payload_json(payload: Any) -> str:
    """Serialise a document for jsonb, or raise :class:`RejectedDocument` saying why it cannot be stored (not
    JSON: NaN, Infinity, a value JSON has no form for; a lone surrogate; nested too deeply). NUL characters,
    which real Jira text sometimes contains and jsonb cannot store, become U+FFFD on the parsed object rather
    than costing the whole document; a literal backslash-u0000 typed in a text is kept as typed."""
    try:
        text = _PAYLOAD_ENCODER.encode(payload)
        if "\\u0000" in text:
            # json.dumps escapes a real NUL as \u0000, which jsonb refuses: replace NULs in the parsed object
            # (a literal backslash-u0000 typed in a text also matches here; it is left as it is). Inside the
            # RecursionError guard: this recursion is deeper than json.dumps's.
            text = json.dumps(_without_nul(payload), ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise RejectedDocument(f"document is not valid JSON: {exc}") from exc
    except RecursionError:
        raise RejectedDocument("document is nested too deeply to store") from None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RejectedDocument(f"document holds invalid Unicode (a lone surrogate at {exc.start})") from None
    return text


def load_batch(conn: psycopg.Connection, table: str, records: list[RawRecord], source: str) -> BatchResult:
    """Load one batch of documents for one raw table in one transaction."""
    if table not in TABLE_SPECS:
        raise LoadError(f"unknown raw table {table!r}; known: {', '.join(RAW_TABLES)}")
    if source not in SOURCES:
        raise LoadError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    spec = TABLE_SPECS[table]
    with conn.transaction():
        batch_id = conn.execute(
            "insert into app.load_batches (source, table_name, rows_received, backend_pid, backend_started) "
            "values (%s, %s, %s, pg_backend_pid(), "
            "(select backend_start from pg_stat_activity where pid = pg_backend_pid())) "
            "returning batch_id",
            (source, table, len(records)),
        ).fetchone()[0]  # type: ignore[index]
    try:
        with conn.transaction():
            result = _load_rows(conn, spec, records, source, batch_id)
            conn.execute(
                "update app.load_batches set status = 'succeeded', rows_loaded = %s, rows_unchanged = %s, "
                "rows_rejected = %s, rows_tombstoned = %s, finished_at = clock_timestamp() "
                "where batch_id = %s",
                (result.loaded, result.unchanged, result.rejected, result.tombstoned, batch_id),
            )
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}".strip()
        with conn.transaction():
            conn.execute(
                "update app.load_batches set status = 'failed', error = %s, finished_at = clock_timestamp() "
                "where batch_id = %s",
                (message, batch_id),
            )
        raise LoadError(
            f"batch {batch_id} ({source} → raw.{table}, {len(records)} documents) failed and was rolled back "
            f"whole: {message}"
        ) from exc
    return result


def _load_rows(
    conn: psycopg.Connection, spec: TableSpec, records: list[RawRecord], source: str, batch_id: int
) -> BatchResult:
    conn.execute(
        "create temp table if not exists _heimdall_load (seq integer, source_id text, parent_id text, "
        "updated_at timestamptz, payload jsonb, tombstoned boolean not null default false) "
        "on commit delete rows"
    )
    # A caller may load several batches inside one transaction of its own (a connector commits a page of
    # documents with its watermark): the rows of the previous batch are still here then.
    conn.execute("delete from _heimdall_load")
    rejected: list[tuple[str, str, str | None]] = []
    with conn.cursor().copy(
        "copy _heimdall_load (seq, source_id, parent_id, updated_at, payload) from stdin"
    ) as copy:
        for seq, record in enumerate(records):
            try:
                source_id, parent_id, updated_at = spec.key(record)
                copy.write_row((seq, source_id, parent_id, updated_at, payload_json(record.payload)))
            except RejectedDocument as exc:
                rejected.append((str(exc), document_text(record.payload), record.origin))
    if rejected:
        with conn.cursor() as cur:
            cur.executemany(
                "insert into app.dead_letters (batch_id, source, table_name, reason, document, origin) "
                "values (%s, %s, %s, %s, %s, %s)",
                [(batch_id, source, spec.table, reason, doc, origin) for reason, doc, origin in rejected],
            )
    tombstoned = _apply_tombstones(conn, spec)
    upsert = sql.SQL(
        """
        insert into raw.{table} as t (source_id, parent_id, updated_at, payload, source, batch_id)
        select distinct on (source_id) source_id, parent_id, updated_at, payload, %(source)s, %(batch_id)s
        from _heimdall_load
        where not tombstoned
        order by source_id, updated_at desc nulls first, seq desc
        on conflict (source_id) do update set
            parent_id = coalesce(excluded.parent_id, t.parent_id),
            updated_at = excluded.updated_at,
            payload = case
                when %(source)s = 'webhook' then t.payload || excluded.payload else excluded.payload
            end,
            source = excluded.source,
            batch_id = excluded.batch_id,
            ingested_at = now()
        where (t.updated_at is null or excluded.updated_at is null or excluded.updated_at >= t.updated_at)
          and t.payload is distinct from (
              case when %(source)s = 'webhook' then t.payload || excluded.payload else excluded.payload end
          )
        """
    ).format(table=sql.Identifier(spec.table))
    cur = conn.execute(upsert, {"source": source, "batch_id": batch_id})
    loaded = cur.rowcount
    accepted = len(records) - len(rejected)
    return BatchResult(
        batch_id=batch_id,
        source=source,
        table=spec.table,
        received=len(records),
        loaded=loaded,
        unchanged=accepted - loaded - tombstoned,
        rejected=len(rejected),
        tombstoned=tombstoned,
    )


def _apply_tombstones(conn: psycopg.Connection, spec: TableSpec) -> int:
    """Respect deletions for the documents in ``_heimdall_load``. A tombstone is an ``app.deleted_documents``
    row with ``restored_at`` null and no ``parent_table`` (deleted in its own right). A document newer than
    its deletion restores it: the tombstone, and the children archived with it, get ``restored_at``. Every
    other document whose object, or whose parent (``spec.parent_table``), has a tombstone is flagged
    ``tombstoned`` and not stored. Returns how many documents were flagged."""
    params = {"table": spec.table, "parent_table": spec.parent_table}
    conn.execute(
        """
        with newest as (
            select source_id, max(updated_at) as updated_at from _heimdall_load group by source_id
        ), restored as (
            update app.deleted_documents d set restored_at = clock_timestamp()
            from newest l
            where d.table_name = %(table)s and d.source_id = l.source_id
              and d.restored_at is null and d.parent_table is null
              and l.updated_at > d.deleted_at
            returning d.source_id
        )
        update app.deleted_documents c set restored_at = clock_timestamp()
        from restored r
        where c.parent_table = %(table)s and c.parent_id = r.source_id and c.restored_at is null
        """,
        params,
    )
    cur = conn.execute(
        """
        update _heimdall_load l set tombstoned = true
        where exists (
                select 1 from app.deleted_documents d
                where d.table_name = %(table)s and d.source_id = l.source_id
                  and d.restored_at is null and d.parent_table is null
            )
           or exists (
                select 1 from app.deleted_documents d
                where d.table_name = %(parent_table)s and d.source_id = l.parent_id
                  and d.restored_at is null and d.parent_table is null
            )
        """,
        params,
    )
    return cur.rowcount


def mark_interrupted_batches(conn: psycopg.Connection) -> list[tuple[int, str, str]]:
    """Batches still ``running`` whose database session no longer exists (the loading process was killed or
    lost its connection; their rows were rolled back) become ``interrupted``. A batch whose session is alive
    is in progress and left alone. Returns (batch_id, source, table) of the batches marked."""
    rows = conn.execute(
        """
        update app.load_batches b set
            status = 'interrupted',
            finished_at = clock_timestamp(),
            error = 'interrupted: the database session loading this batch ended before it finished '
                || '(process killed or connection lost); none of its documents were stored'
        where b.status = 'running'
          and not exists (
              select 1 from pg_stat_activity a
              where a.pid = b.backend_pid
                and (a.backend_start = b.backend_started
                     or a.backend_start is null or b.backend_started is null)
          )
        returning b.batch_id, b.source, b.table_name
        """
    ).fetchall()
    return [(int(batch_id), str(source), str(table)) for batch_id, source, table in rows]


def _chunks(records: Iterable[RawRecord], batch_size: int) -> Iterator[tuple[str, list[RawRecord]]]:
    """Group a mixed stream into per-table chunks, holding at most batch_size records per table."""
    buffers: dict[str, list[RawRecord]] = {}
    for record in records:
        buffer = buffers.setdefault(record.table, [])
        buffer.append(record)
        if len(buffer) >= batch_size:
            yield record.table, buffer
            buffers[record.table] = []
    for table, buffer in buffers.items():
        if buffer:
            yield table, buffer


def load_records(
    conn: psycopg.Connection,
    records: Iterable[RawRecord],
    source: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[BatchResult], None] | None = None,
) -> LoadSummary:
    """Stream records (any mix of tables) into raw, batch by batch. Stops at the first failed batch."""
    summary = LoadSummary()
    for table, chunk in _chunks(records, batch_size):
        result = load_batch(conn, table, chunk, source)
        summary.batches.append(result)
        if on_batch is not None:
            on_batch(result)
    return summary


def purge_source(conn: psycopg.Connection, source: str) -> dict[str, int]:
    """Delete every raw document that came from ``source`` (one transaction). Returns rows per table.

    Used to replace a synthetic organisation wholesale: documents of two different generated orgs
    share natural keys and must never be mixed.
    """
    if source not in SOURCES:
        raise LoadError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    deleted: dict[str, int] = {}
    with conn.transaction():
        for table in RAW_TABLES:
            cur = conn.execute(
                sql.SQL("delete from raw.{} where source = %s").format(sql.Identifier(table)), (source,)
            )
            deleted[table] = cur.rowcount
    return deleted
