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

A batch is staged in a temporary table (COPY) and keyed in SQL (:func:`_keying_sql`): ``source_id``,
``parent_id``, ``updated_at`` and whether the document can be keyed at all, from the table's
:class:`TableSpec`. :meth:`TableSpec.key` stays the definition of the rules: the SQL keys only what it reads
exactly as that method does, and every other document is keyed, or rejected with the reason, by it. Lines of
JSON-lines files reach PostgreSQL as they are (no parsing in Python; a batch PostgreSQL cannot read is read
line by line in Python instead), and a folder's tables load side by side (:func:`_load_folder`).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from warehouse.errors import HeimdallError
from warehouse.jsonl import JsonlFolder, LineBatch
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


# JSON-lines files load in larger batches than in-memory records: the lines go to PostgreSQL as they are
FILE_BATCH_LINES = 50_000
FILE_BATCH_BYTES = 32 << 20
# tables of a folder loading side by side, each on its own connection (see _load_folder)
FILE_LOAD_WORKERS = 3

# The timestamps PostgreSQL reads exactly as parse_source_timestamp does, the forms Jira and GitLab send:
# `YYYY-MM-DDTHH:MM:SS` (a `T` or a space; years 1000 to 2999; no hour 24, no leap second), up to six
# fractional digits, then `Z`, GitLab's ` UTC` or an offset `+HHMM` / `+HH:MM` (PostgreSQL takes up to 15:59).
# Checked with string functions (a regular expression costs more than the rest of the keying together);
# tests/warehouse/test_loader_keying.py holds them to parse_source_timestamp. A document whose timestamp has
# any other form is keyed by parse_source_timestamp itself (see _key_rows).
_SQL_TIMESTAMP_FORMS = ("9999-99-99T99:99:99", "9999-99-99 99:99:99")
_SQL_ZONE_FORMS = ("Z", " UTC", "+9999", "-9999", "+99:99", "-99:99")
# what Python's str.strip() removes (the characters whose isspace() is true): an id of only these is blank
_PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

# COPY in csv form with quote and delimiter bytes that JSON text never holds unescaped: `<seq>\x02<line>`
_COPY_DOCS = "copy _heimdall_docs (seq, doc) from stdin with (format csv, quote e'\\x01', delimiter e'\\x02')"


def _json_path(dotted: str) -> sql.Composable:
    parts = ("payload", *dotted.split("."))
    assert all(part.isidentifier() for part in parts), dotted  # a text path step, never an array index
    return sql.Literal("{" + ",".join(parts) + "}")


def _keying_sql(spec: TableSpec) -> sql.Composed:
    """The keying of ``spec`` in SQL, over the documents in ``_heimdall_docs``: one ``_heimdall_keys`` row per
    document, ``ok`` when PostgreSQL can key it exactly as :meth:`TableSpec.key` does (``source_id``,
    ``parent_id``, ``updated_at`` then hold that key). A row that is not ``ok`` is keyed, or rejected with the
    reason, by :meth:`TableSpec.key` itself. Each ``offset 0`` level computes its values once per row."""
    dotted = bool(spec.updated_keys) and "." in spec.updated_keys[0]
    if not spec.updated_keys:
        updated: sql.Composable = sql.SQL("null::jsonb")
    elif dotted:
        updated = sql.SQL("d #> {}").format(_json_path(spec.updated_keys[0]))
    else:
        updated = sql.SQL("coalesce({})").format(
            sql.SQL(", ").join(
                sql.SQL("nullif(d #> {}, 'null')").format(_json_path(key)) for key in spec.updated_keys
            )
        )
    present = [sql.SQL("d #> {} is not null").format(_json_path(key)) for key in spec.required_keys]
    checks = [sql.SQL("shape_ok"), sql.SQL("id_ok"), sql.SQL("(u_null or updated_at is not null)")]
    if dotted:
        checks.append(sql.SQL("u_present"))  # a dotted timestamp key must be there (null is fine)
    if spec.requires_parent:
        checks.append(sql.SQL("coalesce(parent_id, '') <> ''"))
    source_id = (
        sql.SQL("coalesce(parent_id, 'None') || ':' || id_text")
        if spec.id_prefixed_by_parent
        else sql.SQL("id_text")
    )
    return sql.SQL(
        """
        insert into _heimdall_keys (seq, source_id, parent_id, updated_at, ok)
        select seq, {source_id}, parent_id, updated_at, {checks}
        from (
            select seq, shape_ok, parent_id, id_text, id_ok, u_null, u_present,
                   case
                       when translate(left(u_text, 19), '0123456789', '9999999999') in ({forms})
                        and left(u_text, 1) in ('1', '2')
                        and substr(u_text, 12, 2) <> '24' and substr(u_text, 18, 2) <> '60'
                        and length(u_text) <= 32
                        and translate(zone, '0123456789', '9999999999') in ({zones})
                        and (substr(u_text, 20, 1) <> '.' or length(u_text) - length(zone) between 21 and 26)
                        and pg_input_is_valid(u_text, 'timestamptz')
                           then u_text::timestamptz
                       when strpos(u_number, '.') = 0 and left(u_number, 1) <> '-' and length(u_number) <= 13
                           then 'epoch'::timestamptz + u_number::bigint * interval '1 ms'
                   end as updated_at
            from (
                select *,
                       case
                           when substr(u_text, 20, 1) = '.' then ltrim(substr(u_text, 21), '0123456789')
                           else substr(u_text, 20)
                       end as zone
                from (
                    select seq, u is not null as u_present,
                           object_ok and {present} and (
                               coalesce(jsonb_typeof(p) in ('null', 'string'), true)
                               or (jsonb_typeof(p) = 'number' and strpos(p::text, '.') = 0)
                           ) as shape_ok,
                           case
                               when jsonb_typeof(p) in ('string', 'number') then p #>> '{{}}'
                           end as parent_id,
                           i #>> '{{}}' as id_text,
                           case jsonb_typeof(i)
                               when 'string' then btrim(i #>> '{{}}', {whitespace}) <> ''
                               when 'number' then strpos(i::text, '.') = 0
                               else false
                           end as id_ok,
                           coalesce(jsonb_typeof(u) = 'null', true) as u_null,
                           case when jsonb_typeof(u) = 'string' then u #>> '{{}}' end as u_text,
                           case when jsonb_typeof(u) = 'number' then u::text end as u_number
                    from (
                        select seq, d, d -> 'parent_id' as p, d #> '{{payload,id}}' as i, {updated} as u,
                               jsonb_typeof(d) = 'object' and d ? 'payload' as object_ok
                        from (select seq, doc as d from _heimdall_docs) as docs
                        offset 0
                    ) as extracted
                    offset 0
                ) as typed
                offset 0
            ) as zoned
            offset 0
        ) as keyed
        """
    ).format(
        source_id=source_id,
        checks=sql.SQL(" and ").join(checks),
        present=sql.SQL(" and ").join(present) if present else sql.SQL("true"),
        forms=sql.SQL(", ").join(map(sql.Literal, _SQL_TIMESTAMP_FORMS)),
        zones=sql.SQL(", ").join(map(sql.Literal, _SQL_ZONE_FORMS)),
        whitespace=sql.Literal(_PYTHON_WHITESPACE),
        updated=updated,
    )


class _RecordBatch:
    """In-memory records as a batch: the same interface as :class:`warehouse.jsonl.LineBatch`."""

    def __init__(self, table: str, records: list[RawRecord]) -> None:
        self.table = table
        self.records = records

    def __len__(self) -> int:
        return len(self.records)

    def record(self, index: int) -> RawRecord:
        return self.records[index]


_Batch = _RecordBatch | LineBatch


def load_batch(conn: psycopg.Connection, table: str, records: list[RawRecord], source: str) -> BatchResult:
    """Load one batch of documents for one raw table in one transaction."""
    return _load_batch(conn, table, _RecordBatch(table, records), source)


def _load_batch(conn: psycopg.Connection, table: str, batch: _Batch, source: str) -> BatchResult:
    if table not in TABLE_SPECS:
        raise LoadError(f"unknown raw table {table!r}; known: {', '.join(RAW_TABLES)}")
    if source not in SOURCES:
        raise LoadError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    spec = TABLE_SPECS[table]
    received = len(batch)
    with conn.transaction():
        batch_id = conn.execute(
            "insert into app.load_batches (source, table_name, rows_received, backend_pid, backend_started) "
            "values (%s, %s, %s, pg_backend_pid(), "
            "(select backend_start from pg_stat_activity where pid = pg_backend_pid())) "
            "returning batch_id",
            (source, table, received),
        ).fetchone()[0]  # type: ignore[index]
    try:
        with conn.transaction():
            result = _load_rows(conn, spec, batch, received, source, batch_id)
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
            f"batch {batch_id} ({source} → raw.{table}, {received} documents) failed and was rolled back "
            f"whole: {message}"
        ) from exc
    return result


class _FastPathRefused(Exception):
    """PostgreSQL did not take a batch's lines as they are (one is not JSON it can store)."""


# dead letter: (position in the batch, reason, document, origin)
_Rejection = tuple[int, str, str, str | None]


def _prepared_doc(spec: TableSpec, record: RawRecord) -> str:
    """The ``{"parent_id", "payload"}`` document a record stages as, or :class:`RejectedDocument`: the
    record's own problem, else its key's (as :meth:`TableSpec.key` says it), else its payload's."""
    if record.problem:
        raise RejectedDocument(record.problem)
    try:
        payload = payload_json(record.payload)
    except RejectedDocument:
        spec.key(record)  # a document that cannot be keyed says so first
        raise
    parent = "null" if record.parent_id is None else json.dumps(_storable_text(str(record.parent_id)))
    return '{"parent_id":' + parent + ',"payload":' + payload + "}"


def _needs_python(line: bytes) -> bool:
    """A line PostgreSQL must not read as it is: a NUL escape (jsonb has no NUL; Python makes it U+FFFD) or
    the csv quote byte (JSON never holds it unescaped; the line is malformed and Python says why)."""
    return b"\\u0000" in line or b"\x01" in line


def _staged_rows(
    spec: TableSpec, batch: _Batch, rejected: list[_Rejection], *, verbatim: bool
) -> Iterator[bytes]:
    """COPY rows of the batch: lines as they are (``verbatim``, where PostgreSQL can read them), every other
    document prepared in Python; the documents Python rejects go to ``rejected`` instead."""
    if verbatim and isinstance(batch, LineBatch):
        for index, line in enumerate(batch.lines):
            if not _needs_python(line):
                yield b"%d\x02%s\n" % (index, line.rstrip(b"\r\n"))
                continue
            yield from _prepared_row(spec, batch, index, rejected)
    else:
        for index in range(len(batch)):
            yield from _prepared_row(spec, batch, index, rejected)


def _prepared_row(spec: TableSpec, batch: _Batch, index: int, rejected: list[_Rejection]) -> Iterator[bytes]:
    record = batch.record(index)
    try:
        text = _prepared_doc(spec, record)
    except RejectedDocument as exc:
        rejected.append((index, str(exc), document_text(record.payload), record.origin))
        return
    yield b"%d\x02%s\n" % (index, text.encode("utf-8"))


def _copy_docs(conn: psycopg.Connection, rows: Iterable[bytes]) -> int:
    """COPY the rows into ``_heimdall_docs`` (written in 1 MiB pieces); returns how many PostgreSQL stored."""
    with conn.cursor() as cur:
        with cur.copy(_COPY_DOCS) as copy:
            pending: list[bytes] = []
            size = 0
            for row in rows:
                pending.append(row)
                size += len(row)
                if size >= 1 << 20:
                    copy.write(b"".join(pending))
                    pending.clear()
                    size = 0
            if pending:
                copy.write(b"".join(pending))
        return cur.rowcount


def _prepare_staging(conn: psycopg.Connection) -> None:
    exists = conn.execute("select to_regclass('pg_temp._heimdall_docs') is not null").fetchone()
    if exists and exists[0]:
        # A caller may load several batches inside one transaction of its own (a connector commits a page of
        # documents with its watermark): the rows of the previous batch are still here then.
        conn.execute("delete from _heimdall_docs")
        conn.execute("delete from _heimdall_keys")
        return
    # documents up to 8 kB stay in the row, larger ones are stored aside uncompressed: read once, soon dropped
    conn.execute(
        "create temp table _heimdall_docs (seq integer, doc jsonb) with (toast_tuple_target = 8160) "
        "on commit delete rows"
    )
    conn.execute("alter table _heimdall_docs alter column doc set storage external")
    conn.execute(
        "create temp table _heimdall_keys (seq integer, source_id text, parent_id text, "
        "updated_at timestamptz, ok boolean, tombstoned boolean not null default false) on commit delete rows"
    )


def _load_rows(
    conn: psycopg.Connection, spec: TableSpec, batch: _Batch, received: int, source: str, batch_id: int
) -> BatchResult:
    _prepare_staging(conn)
    rejected: list[_Rejection] = []
    staged = False
    if isinstance(batch, LineBatch):
        # a file batch's keys sort in memory (the setting ends with the batch's transaction)
        conn.execute("select set_config('work_mem', '64MB', true)")
        # the lines as they are; if PostgreSQL refuses one (not JSON, not UTF-8, ...), every line of the batch
        # goes through Python, which says which lines are bad and why
        try:
            with conn.transaction():
                copied = _copy_docs(conn, _staged_rows(spec, batch, rejected, verbatim=True))
                if copied != received - len(rejected):
                    raise _FastPathRefused(f"{copied} of {received - len(rejected)} lines stored")
            staged = True
        except (psycopg.Error, _FastPathRefused):
            rejected.clear()
    if not staged:
        copied = _copy_docs(conn, _staged_rows(spec, batch, rejected, verbatim=False))
        if copied != received - len(rejected):
            raise LoadError(f"{copied} of {received - len(rejected)} documents reached the staging table")
    rejected += _key_rows(conn, spec, batch)
    if rejected:
        rejected.sort()
        with conn.cursor() as cur:
            cur.executemany(
                "insert into app.dead_letters (batch_id, source, table_name, reason, document, origin) "
                "values (%s, %s, %s, %s, %s, %s)",
                [(batch_id, source, spec.table, reason, doc, origin) for _, reason, doc, origin in rejected],
            )
    tombstoned = _apply_tombstones(conn, spec)
    upsert = sql.SQL(
        """
        insert into raw.{table} as t (source_id, parent_id, updated_at, payload, source, batch_id)
        select k.source_id, k.parent_id, k.updated_at, l.doc -> 'payload', %(source)s, %(batch_id)s
        from (
            select distinct on (source_id collate "C") seq, source_id, parent_id, updated_at
            from _heimdall_keys
            where ok and not tombstoned
            order by source_id collate "C", updated_at desc nulls first, seq desc
        ) as k
        join _heimdall_docs as l on l.seq = k.seq
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
    accepted = received - len(rejected)
    return BatchResult(
        batch_id=batch_id,
        source=source,
        table=spec.table,
        received=received,
        loaded=loaded,
        unchanged=accepted - loaded - tombstoned,
        rejected=len(rejected),
        tombstoned=tombstoned,
    )


_KEYING_SQL: dict[str, sql.Composed] = {}


def _key_rows(conn: psycopg.Connection, spec: TableSpec, batch: _Batch) -> list[_Rejection]:
    """Key the staged documents in SQL; the few PostgreSQL cannot key as :meth:`TableSpec.key` does (a bad
    document, a timestamp form of its own) are keyed by :meth:`TableSpec.key`, which gives the reason of a
    rejection. Returns the rejections."""
    statement = _KEYING_SQL.get(spec.table)
    if statement is None:
        statement = _KEYING_SQL[spec.table] = _keying_sql(spec)
    conn.execute(statement)
    unsure = [row[0] for row in conn.execute("select seq from _heimdall_keys where not ok order by seq")]
    rejected: list[_Rejection] = []
    keyed: list[tuple[str, str | None, datetime | None, int]] = []
    for index in unsure:
        record = batch.record(index)
        try:
            source_id, parent_id, updated_at = spec.key(record)
        except RejectedDocument as exc:
            rejected.append((index, str(exc), document_text(record.payload), record.origin))
            continue
        parent = None if parent_id is None else _storable_text(str(parent_id))
        keyed.append((_storable_text(source_id), parent, updated_at, index))
    if keyed:
        with conn.cursor() as cur:
            cur.executemany(
                "update _heimdall_keys set source_id = %s, parent_id = %s, updated_at = %s, ok = true "
                "where seq = %s",
                keyed,
            )
    return rejected


def _apply_tombstones(conn: psycopg.Connection, spec: TableSpec) -> int:
    """Respect deletions for the documents keyed in ``_heimdall_keys``. A tombstone is an
    ``app.deleted_documents`` row with ``restored_at`` null and no ``parent_table`` (deleted in its own
    right). A document newer than its deletion restores it: the tombstone, and the children archived with it,
    get ``restored_at``. Every other document whose object, or whose parent (``spec.parent_table``), has a
    tombstone is flagged ``tombstoned`` and not stored. Returns how many documents were flagged."""
    params = {"table": spec.table, "parent_table": spec.parent_table}
    holds = conn.execute(
        "select exists (select 1 from app.deleted_documents "
        "where table_name in (%(table)s, %(parent_table)s) and restored_at is null and parent_table is null)",
        params,
    ).fetchone()
    if not (holds and holds[0]):
        return 0  # no tombstone of this table or its parent's: nothing to restore or hold back
    conn.execute(
        """
        with newest as (
            select source_id, max(updated_at) as updated_at from _heimdall_keys where ok
            group by source_id
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
        update _heimdall_keys l set tombstoned = true
        where l.ok and (exists (
                select 1 from app.deleted_documents d
                where d.table_name = %(table)s and d.source_id = l.source_id
                  and d.restored_at is null and d.parent_table is null
            )
           or exists (
                select 1 from app.deleted_documents d
                where d.table_name = %(parent_table)s and d.source_id = l.parent_id
                  and d.restored_at is null and d.parent_table is null
            ))
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
    batch_size: int | None = None,
    on_batch: Callable[[BatchResult], None] | None = None,
    workers: int | None = None,
) -> LoadSummary:
    """Stream records (any mix of tables) into raw, batch by batch. Stops at the first failed batch.

    ``records`` from :func:`warehouse.jsonl.read_jsonl` are loaded as lines: each file's lines go to
    PostgreSQL as they are, in batches of ``batch_size`` lines (default ``FILE_BATCH_LINES``, at most about
    ``FILE_BATCH_BYTES``), and are parsed and keyed there. Other records go in batches of ``batch_size``
    (default ``DEFAULT_BATCH_SIZE``) per table. The rules are the same either way."""
    summary = LoadSummary()
    if isinstance(records, JsonlFolder):
        if source not in SOURCES:
            raise LoadError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
        return _load_folder(conn, records, source, batch_size or FILE_BATCH_LINES, on_batch, workers)
    for table, chunk in _chunks(records, batch_size or DEFAULT_BATCH_SIZE):
        result = _load_batch(conn, table, _RecordBatch(table, chunk), source)
        summary.batches.append(result)
        if on_batch is not None:
            on_batch(result)
    return summary


def _load_folder(
    conn: psycopg.Connection,
    folder: JsonlFolder,
    source: str,
    batch_lines: int,
    on_batch: Callable[[BatchResult], None] | None,
    workers: int | None,
) -> LoadSummary:
    """A folder's files, one COPY stream per table. With ``workers`` > 1 (default ``FILE_LOAD_WORKERS``) and
    ``conn`` outside a transaction, tables load side by side on as many connections (``conn`` and new ones
    like it), a child table (change histories, notes, jobs, ...) only once its parent table has loaded, so a
    document that restores a deleted parent does so before the parent's children are checked. Every batch is
    its own transaction either way. Stops at the first failed batch (the other tables finish their batch)."""
    summary = LoadSummary()
    tables = [table for table, _ in folder.files()]
    width = min(workers or FILE_LOAD_WORKERS, len(tables))
    if width <= 1 or conn.info.transaction_status != TransactionStatus.IDLE:
        for table in tables:
            for batch in folder.table_batches(table, batch_lines, FILE_BATCH_BYTES):
                result = _load_batch(conn, table, batch, source)
                summary.batches.append(result)
                if on_batch is not None:
                    on_batch(result)
        return summary

    sizes = {table: (folder.folder / f"{table}.jsonl").stat().st_size for table in tables}
    pending = list(tables)
    active: set[str] = set()
    failures: list[BaseException] = []
    ready = threading.Condition()
    results: queue.Queue[BatchResult | None] = queue.Queue()

    def claim() -> str | None:
        """The next table whose parent table is not still to load, heaviest chain first; None when done."""
        with ready:
            while pending and not failures:
                blocked = set(pending) | active
                free = [table for table in pending if TABLE_SPECS[table].parent_table not in blocked]
                if free:
                    chain = {
                        table: sizes[table]
                        + sum(sizes[child] for child in pending if TABLE_SPECS[child].parent_table == table)
                        for table in free
                    }
                    table = max(free, key=lambda name: chain[name])
                    pending.remove(table)
                    active.add(table)
                    return table
                ready.wait()
            return None

    def work(own: psycopg.Connection | None) -> None:
        worker_conn = own or conn
        try:
            while (table := claim()) is not None:
                try:
                    for batch in folder.table_batches(table, batch_lines, FILE_BATCH_BYTES):
                        results.put(_load_batch(worker_conn, table, batch, source))
                        if failures:
                            break
                finally:
                    with ready:
                        active.discard(table)
                        ready.notify_all()
        except BaseException as exc:  # handed to the caller's thread below
            with ready:
                failures.append(exc)
                ready.notify_all()
        finally:
            if own is not None:
                own.close()
            results.put(None)

    extra: list[psycopg.Connection] = []
    for _ in range(width - 1):
        try:  # the connection parameters of ``conn`` (its dsn leaves the password out)
            extra.append(psycopg.Connection.connect(conn.info.dsn, password=conn.info.password or None))
        except psycopg.OperationalError:
            break  # no more connections to be had (max_connections): load on those there are
    threads = [threading.Thread(target=work, args=(own,), daemon=True) for own in (None, *extra)]
    for thread in threads:
        thread.start()
    running = len(threads)
    while running:
        done = results.get()
        if done is None:
            running -= 1
            continue
        summary.batches.append(done)
        if on_batch is not None:
            on_batch(done)
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
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
