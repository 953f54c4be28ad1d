"""The loader keys documents in SQL and leaves to :meth:`TableSpec.key` the ones PostgreSQL cannot key exactly
as it does (docs/raw-layer.md, "How documents are keyed"). Against a real PostgreSQL: every document the SQL
keys gets exactly the key, parent and ``updated_at`` Python gives it, whatever the timestamp, id or parent
looks like; the forms Jira and GitLab send are keyed in SQL; and a whole load gives, document for document,
what the Python rules say (stored with that key, or a dead letter with that reason)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from warehouse.jsonl import LineBatch, parse_line, read_jsonl
from warehouse.loader import (
    TABLE_SPECS,
    RejectedDocument,
    _copy_docs,
    _keying_sql,
    _prepare_staging,
    _staged_rows,
    load_records,
)

# the forms the sources send: PostgreSQL must key these itself (the fast path)
SOURCE_FORMS: list[Any] = [
    "2026-03-05T09:12:44.000+0000",  # Jira REST
    "2026-03-05T09:12:44.000Z",  # GitLab REST
    "2026-03-05T09:12:44Z",
    "2026-03-05T09:12:44.123456+10:00",
    "2026-03-05T09:12:44.5-0330",
    "2016-08-12 15:23:28 UTC",  # GitLab webhooks
    "2016-08-12 15:23:28.25 UTC",
    "2026-03-05 09:12:44+01:00",
    "2026-03-05T09:12:44-15:59",
    1709630000000,  # Jira webhooks: epoch milliseconds
    1709630000123,
    0,
    None,
]
# everything else a document may hold: PostgreSQL keys it exactly as Python does, or leaves it to Python
ODD_FORMS: list[Any] = [
    "2026-03-05T09:12:44+16:00",  # Python takes offsets up to 23:59, PostgreSQL up to 15:59
    "2026-03-05T09:12:44+00:75",  # Python reads 75 minutes, PostgreSQL refuses
    "2026-03-05T09:12:44+05",
    "2026-03-05T09:12:44",  # no time zone
    "2026-03-05",
    "2026-02-30T00:00:00Z",
    "2024-02-29T00:00:00Z",
    "2026-01-01T24:00:00Z",  # PostgreSQL reads midnight of the next day, Python refuses
    "2026-01-01T23:59:60Z",  # a leap second: the same
    "2026-01-01T10:00:00.1234567Z",  # PostgreSQL rounds the 7th digit, Python cuts it
    "2026-01-01T10:00:00.Z",
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
    "0999-01-01T00:00:00Z",
    " 2026-03-05T09:12:44Z ",
    "2026-03-05t09:12:44z",
    "2026-03-05T09:12:44.5z",
    "２０２６-03-05T09:12:44Z",  # full-width digits
    "2026-03-05T09:12:44 PST",
    "2026-03-05T09:12:44+00:00 UTC",
    "20260305T091244Z",
    "2026-W10-4T09:12:44Z",
    "now",
    "epoch",
    "infinity",
    "",
    "   ",
    "last tuesday",
    "1709630000000",
    -1000,
    99_999_999_999_999,
    10**30,
    1709630000000.5,
    1.5,
    True,
    False,
    [],
    {},
]
IDS: list[Any] = [
    "10001",
    "abc",
    "  padded  ",
    "",
    "   ",
    "\u3000\u00a0",  # whitespace to Python's str.strip()
    "\x1c",  # also whitespace to Python
    "\u200b",  # not whitespace to Python
    "-",
    42,
    -5,
    0,
    1.5,
    1.0,
    12345678901234567890123,
    True,
    None,
    [],
    {"a": 1},
]
PARENTS: list[Any] = [None, "7", 7, -7, "", 7.5, 7.0, True, [], {"id": 1}]


def _line(parent: Any, payload: Any) -> bytes:
    return json.dumps({"parent_id": parent, "payload": payload}, ensure_ascii=False).encode() + b"\n"


def _documents(table: str) -> list[tuple[Any, Any]]:
    """(parent_id, payload) covering every timestamp form, id and parent for one table."""
    spec = TABLE_SPECS[table]
    out: list[tuple[Any, Any]] = []

    def document(doc_id: Any, stamp: Any, drop_stamp: bool = False) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": doc_id, **{key: 1 for key in spec.required_keys if key != "fields"}}
        if table == "jira_issues":
            doc["fields"] = {} if drop_stamp else {"updated": stamp}
        elif spec.updated_keys and not drop_stamp:
            doc[spec.updated_keys[0]] = stamp
        return doc

    for n, stamp in enumerate(SOURCE_FORMS + ODD_FORMS):
        out.append(("9", document(f"t{n}", stamp)))
    out.append(("9", document("missing-stamp", None, drop_stamp=True)))
    for doc_id in IDS:
        out.append(("9", document(doc_id, "2026-03-05T09:12:44Z")))
    for parent in PARENTS:
        out.append((parent, document(f"p{json.dumps(parent)}", "2026-03-05T09:12:44Z")))
    if spec.updated_keys[1:]:  # a fallback key: the first present non-null one is the timestamp
        first, second = spec.updated_keys[:2]
        out.append(("9", {"id": "fb1", first: None, second: "2026-03-05T09:12:44Z"}))
        out.append(("9", {"id": "fb2", second: "2026-03-05T09:12:44Z"}))
        out.append(("9", {"id": "fb3", first: "garbage", second: "2026-03-05T09:12:44Z"}))
    out.append(("9", ["not", "an", "object"]))
    out.append(("9", "a string"))
    out.append(("9", {"no": "id"}))
    return out


def _python_key(table: str, line: bytes) -> tuple[str, str | None, datetime | None] | str:
    """What the Python rules make of one line: its key, or the reason it is rejected."""
    record = parse_line(line, table, origin="test")
    try:
        return TABLE_SPECS[table].key(record)
    except RejectedDocument as exc:
        return str(exc)


TABLES = ["jira_issues", "jira_changelogs", "gitlab_jobs", "gitlab_mr_commits", "jira_sprints"]


@pytest.mark.parametrize("table", TABLES)
def test_what_sql_keys_it_keys_exactly_as_python_does(warehouse_url: str, table: str) -> None:
    spec = TABLE_SPECS[table]
    lines = [_line(parent, payload) for parent, payload in _documents(table)]
    batch = LineBatch(table, f"{table}.jsonl", list(range(1, len(lines) + 1)), lines)
    with psycopg.connect(warehouse_url) as conn, conn.transaction(force_rollback=True):
        _prepare_staging(conn)
        rejected: list[Any] = []
        assert _copy_docs(conn, _staged_rows(spec, batch, rejected, verbatim=True)) == len(lines)
        conn.execute(_keying_sql(spec))
        rows = conn.execute(
            "select seq, ok, source_id, parent_id, updated_at from _heimdall_keys order by seq"
        ).fetchall()
    assert [row[0] for row in rows] == list(range(len(lines)))
    sql_keyed = 0
    for seq, ok, source_id, parent_id, updated_at in rows:
        expected = _python_key(table, lines[seq])
        if ok:
            sql_keyed += 1
            assert (source_id, parent_id, updated_at) == expected, lines[seq]
    # the forms the sources send are keyed by PostgreSQL itself, not handed to Python
    for n, stamp in enumerate(SOURCE_FORMS):
        seq = n
        if not spec.updated_keys and stamp is not None:
            continue
        assert rows[seq][1], (stamp, _python_key(table, lines[seq]))
    assert sql_keyed > len(SOURCE_FORMS)


@pytest.mark.parametrize("table", TABLES)
def test_a_load_gives_what_the_python_rules_say_line_for_line(
    warehouse_url: str, tmp_path: Path, table: str
) -> None:
    lines = [_line(parent, payload) for parent, payload in _documents(table)]
    (tmp_path / f"{table}.jsonl").write_bytes(b"".join(lines))
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(f"truncate raw.{table}")
        conn.commit()
        summary = load_records(conn, read_jsonl(tmp_path), "synthetic")
        (batch,) = summary.batches
        stored = {
            source_id: (parent_id, updated_at)
            for source_id, parent_id, updated_at in conn.execute(
                f"select source_id, parent_id, updated_at from raw.{table}"
            ).fetchall()
        }
        letters = conn.execute(
            "select origin, reason from app.dead_letters where batch_id = %s order by dead_letter_id",
            (batch.batch_id,),
        ).fetchall()
    expected_keys: dict[str, tuple[str | None, datetime | None]] = {}
    expected_letters: list[tuple[str, str]] = []
    for number, line in enumerate(lines, start=1):
        outcome = _python_key(table, line)
        if isinstance(outcome, str):
            expected_letters.append((f"{table}.jsonl line {number}", outcome))
        else:
            source_id, parent_id, updated_at = outcome
            expected_keys[source_id] = (parent_id, updated_at)  # each id of the corpus is unique
    assert stored == expected_keys
    assert letters == expected_letters
    assert (batch.received, batch.loaded, batch.rejected) == (len(lines), len(stored), len(letters))


def test_hand_checked_keys(warehouse_url: str, tmp_path: Path) -> None:
    """A few outcomes written out, so the comparison above cannot agree with a wrong rule."""
    lines = [
        _line("5", {"id": "h1", "created": "2026-03-05T09:12:44.000+0200", "items": []}),
        _line(5, {"id": 77, "created": 1709630000123, "items": []}),
        _line("5", {"id": "h3", "created": "2016-08-12 15:23:28 UTC", "items": []}),
        _line("5", {"id": "h4", "created": "2026-03-05T09:12:44+05", "items": []}),  # keyed by Python
        _line("5", {"id": "h5", "created": "2026-03-05T09:12:44", "items": []}),
        _line("5", {"id": "   ", "created": "2026-03-05T09:12:44Z", "items": []}),
        _line(None, {"id": "h7", "created": "2026-03-05T09:12:44Z", "items": []}),
        _line("5", {"id": "h8", "created": True, "items": []}),
        _line("5", {"id": "h9", "created": "2026-03-05T09:12:44Z"}),
    ]
    (tmp_path / "jira_changelogs.jsonl").write_bytes(b"".join(lines))
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("truncate raw.jira_changelogs")
        conn.commit()
        (batch,) = load_records(conn, read_jsonl(tmp_path), "jira_cloud").batches
        stored = conn.execute(
            "select source_id, parent_id, updated_at from raw.jira_changelogs order by source_id"
        ).fetchall()
        letters = conn.execute(
            "select origin, reason from app.dead_letters where batch_id = %s order by dead_letter_id",
            (batch.batch_id,),
        ).fetchall()
    assert stored == [
        ("77", "5", datetime(2024, 3, 5, 9, 13, 20, 123000, tzinfo=UTC)),
        ("h1", "5", datetime(2026, 3, 5, 7, 12, 44, tzinfo=UTC)),
        ("h3", "5", datetime(2016, 8, 12, 15, 23, 28, tzinfo=UTC)),
        ("h4", "5", datetime(2026, 3, 5, 4, 12, 44, tzinfo=UTC)),
    ]
    assert letters == [
        (
            "jira_changelogs.jsonl line 5",
            "unparseable timestamp in 'created': timestamp has no time zone: '2026-03-05T09:12:44'",
        ),
        ("jira_changelogs.jsonl line 6", "'id' must be a non-empty string or number, got '   '"),
        (
            "jira_changelogs.jsonl line 7",
            "jira_changelogs documents need a parent_id (see docs/raw-layer.md)",
        ),
        ("jira_changelogs.jsonl line 8", "unparseable timestamp in 'created': not a timestamp: True"),
        ("jira_changelogs.jsonl line 9", "missing required key 'items'"),
    ]


def test_the_sql_whitespace_is_pythons() -> None:
    from warehouse.loader import _PYTHON_WHITESPACE

    pythons = "".join(char for char in map(chr, range(0x110000)) if char.isspace())
    assert pythons == _PYTHON_WHITESPACE
