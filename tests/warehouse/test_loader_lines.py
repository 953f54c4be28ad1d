"""Loading JSON-lines files (`heimdall load`): the lines go to PostgreSQL as they are and are parsed and keyed
there, with the same rules as in-memory records (docs/raw-layer.md). Against a real PostgreSQL, with the
outcomes written out by hand: bad lines are dead letters with their file, line and reason while the rest of
the batch loads; NUL escapes become U+FFFD; duplicates collapse to the newest (the last on ties); webhook
documents merge; tombstones hold; the batch counts add up; a reload changes nothing; tables load side by
side, children after their parents."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from connectors.state import mark_deleted
from warehouse.jsonl import read_jsonl
from warehouse.loader import LoadError, LoadSummary, load_records

STAMP = "2026-01-05T10:00:00.000+0000"


def _issue(issue_id: str, updated: str = STAMP, **fields: Any) -> dict[str, Any]:
    return {"id": issue_id, "key": f"LN-{issue_id}", "fields": {"updated": updated, **fields}}


def _line(payload: Any, parent: Any = None) -> bytes:
    return json.dumps({"parent_id": parent, "payload": payload}).encode() + b"\n"


def _load(url: str, folder: Path, source: str = "synthetic", **kwargs: Any) -> LoadSummary:
    with psycopg.connect(url) as conn:
        return load_records(conn, read_jsonl(folder), source, **kwargs)


def _rows(url: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(statement, params).fetchall()


@pytest.fixture(autouse=True)
def _clean(warehouse_url: str) -> None:
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            "truncate raw.jira_issues, raw.jira_changelogs, raw.gitlab_pipelines, raw.gitlab_jobs, "
            "app.dead_letters, app.deleted_documents"
        )


def test_bad_lines_are_dead_letters_with_file_line_and_reason(warehouse_url: str, tmp_path: Path) -> None:
    lines = [
        _line(_issue("1")),  # 1
        b"\n",  # 2: blank, skipped (not counted)
        b'{"parent_id": null, "payload": {"id": "3"\n',  # 3
        _line(_issue("4", summary="chart\x00 end")),  # 4: a NUL (escaped in JSON): stored as U+FFFD
        b'{"parent_id": null, "payload": {"id": "5\x01", "key": "X"}}\n',  # 5: a raw control byte
        b"\\.\n",  # 6: COPY's end-of-data marker, as a line
        b'{"parent_id": null, "payload": {"id": "\xff"}}\n',  # 7: not UTF-8
        json.dumps({"parent_id": None, "payload": _issue("8")}).encode() + b"\r\n",  # 8: CRLF
        _line(_issue("9", points=1), parent=[1]),  # 9: a list as parent_id
        b'{"parent_id": null, "payload": {"id": "10", "key": "K", "fields": {"updated": null, "x": NaN}}}\n',
        _line(["an", "array"]),  # 11 (10: NaN, which Python reads and jsonb cannot hold)
        _line({"key": "NO-ID", "fields": {"updated": STAMP}}),  # 12
        _line(_issue("13", updated="yesterday")),  # 13
        _line(_issue("14", comment="typed: \\u0000")),  # 14: a literal backslash-u0000, kept as typed
        _line(_issue("15")).rstrip(b"\n"),  # 15: the last line, without a newline
    ]
    folder = tmp_path / "lines"
    folder.mkdir()
    (folder / "jira_issues.jsonl").write_bytes(b"".join(lines))
    summary = _load(warehouse_url, folder)
    (batch,) = summary.batches
    assert (batch.received, batch.loaded, batch.unchanged, batch.rejected) == (14, 5, 0, 9)
    stored = dict(_rows(warehouse_url, "select source_id, payload from raw.jira_issues"))
    assert sorted(stored) == ["1", "14", "15", "4", "8"]
    assert stored["4"]["fields"]["summary"] == "chart\ufffd end"
    assert stored["14"]["fields"]["comment"] == "typed: \\u0000"
    letters = _rows(
        warehouse_url,
        "select origin, reason, document from app.dead_letters where batch_id = %s order by dead_letter_id",
        (batch.batch_id,),
    )
    assert [(origin, reason) for origin, reason, _ in letters] == [
        ("jira_issues.jsonl line 3", "malformed JSON: Expecting ',' delimiter at column 1"),
        ("jira_issues.jsonl line 5", "malformed JSON: Invalid control character at at column 41"),
        ("jira_issues.jsonl line 6", "malformed JSON: Expecting value at column 1"),
        ("jira_issues.jsonl line 7", "not valid UTF-8 (invalid start byte at byte 39)"),
        ("jira_issues.jsonl line 9", "parent_id must be a string or a number, got list"),
        (
            "jira_issues.jsonl line 10",
            "document is not valid JSON: Out of range float values are not JSON compliant",
        ),
        ("jira_issues.jsonl line 11", "document is not a JSON object (got list)"),
        ("jira_issues.jsonl line 12", "missing required key 'id'"),
        (
            "jira_issues.jsonl line 13",
            "unparseable timestamp in 'fields.updated': Invalid isoformat string: 'yesterday'",
        ),
    ]
    assert letters[0][2] == '{"parent_id": null, "payload": {"id": "3"'  # the line as it was
    assert letters[6][2] == '["an", "array"]'  # a document that cannot be keyed: the document
    assert all("\x00" not in document for _, _, document in letters)


def test_duplicates_collapse_to_the_newest_and_the_last_on_ties(warehouse_url: str, tmp_path: Path) -> None:
    day = datetime(2026, 1, 5, 10, tzinfo=UTC)

    def stamp(hours: int) -> str:
        return (day + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    lines = [
        _line(_issue("1", stamp(2), summary="newest")),
        _line(_issue("1", stamp(0), summary="old")),
        _line(_issue("2", stamp(1), summary="first of a tie")),
        _line(_issue("2", stamp(1), summary="last of a tie")),
        _line(_issue("3", stamp(1), summary="dated")),
        _line(_issue("3", None, summary="undated")),  # an unknown updated_at counts as newest
        _line(_issue("1", stamp(1), summary="middle")),
    ]
    (tmp_path / "jira_issues.jsonl").write_bytes(b"".join(lines))
    (batch,) = _load(warehouse_url, tmp_path).batches
    assert (batch.received, batch.loaded, batch.unchanged) == (7, 3, 4)
    summaries = dict(
        _rows(warehouse_url, "select source_id, payload->'fields'->>'summary' from raw.jira_issues")
    )
    assert summaries == {"1": "newest", "2": "last of a tie", "3": "undated"}

    # across batches (two lines a batch) the same rules hold, and a reload changes nothing
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("truncate raw.jira_issues")
    first = _load(warehouse_url, tmp_path, batch_size=2)
    assert [b.received for b in first.batches] == [2, 2, 2, 1]
    summaries = dict(
        _rows(warehouse_url, "select source_id, payload->'fields'->>'summary' from raw.jira_issues")
    )
    assert summaries == {"1": "newest", "2": "last of a tie", "3": "undated"}
    again = _load(warehouse_url, tmp_path)
    assert (again.received, again.loaded, again.unchanged, again.rejected) == (7, 0, 7, 0)


def test_webhook_lines_merge_onto_the_stored_document(warehouse_url: str, tmp_path: Path) -> None:
    api = tmp_path / "api"
    hook = tmp_path / "hook"
    api.mkdir()
    hook.mkdir()
    (api / "gitlab_pipelines.jsonl").write_bytes(
        _line(
            {"id": 50, "status": "running", "ref": "main", "updated_at": "2026-01-05T10:00:00.000Z"}, parent=8
        )
    )
    (hook / "gitlab_pipelines.jsonl").write_bytes(
        _line({"id": 50, "status": "success", "updated_at": "2026-01-05 10:05:00 UTC"})
        + _line({"id": 50, "status": "failed", "updated_at": "2026-01-05 09:00:00 UTC"})  # older: ignored
    )
    _load(warehouse_url, api, "gitlab")
    summary = _load(warehouse_url, hook, "webhook")
    assert (summary.loaded, summary.unchanged) == (1, 1)
    ((parent_id, updated_at, payload, source),) = _rows(
        warehouse_url, "select parent_id, updated_at, payload, source from raw.gitlab_pipelines"
    )
    assert parent_id == "8"  # kept: the webhook line has none
    assert updated_at == datetime(2026, 1, 5, 10, 5, tzinfo=UTC)
    assert payload == {"id": 50, "status": "success", "ref": "main", "updated_at": "2026-01-05 10:05:00 UTC"}
    assert source == "webhook"


def test_tombstones_hold_against_older_lines_and_yield_to_newer_ones(
    warehouse_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)

    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    with psycopg.connect(warehouse_url) as conn:
        mark_deleted(conn, "jira_issues", ["61", "62"], "webhook", children="jira_changelogs")
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "jira_issues.jsonl").write_bytes(
        _line(_issue("61", stamp(now - timedelta(hours=1)))) + _line(_issue("63", stamp(now)))
    )
    (old / "jira_changelogs.jsonl").write_bytes(
        _line({"id": "610", "created": stamp(now - timedelta(hours=1)), "items": []}, parent="61")
    )
    summary = _load(warehouse_url, old)
    assert (summary.loaded, summary.tombstoned, summary.unchanged) == (1, 2, 0)
    assert _rows(warehouse_url, "select source_id from raw.jira_issues") == [("63",)]
    assert _rows(warehouse_url, "select count(*) from raw.jira_changelogs") == [(0,)]
    assert _rows(
        warehouse_url,
        "select sum(rows_tombstoned) from app.load_batches where batch_id = any(%s)",
        ([b.batch_id for b in summary.batches],),
    ) == [(2,)]

    (new / "jira_issues.jsonl").write_bytes(_line(_issue("62", stamp(now + timedelta(hours=1)))))
    (new / "jira_changelogs.jsonl").write_bytes(
        _line({"id": "620", "created": stamp(now + timedelta(hours=1)), "items": []}, parent="62")
    )
    summary = _load(warehouse_url, new)
    assert (summary.loaded, summary.tombstoned) == (2, 0)  # the issue restored first, then its history
    restored = _rows(
        warehouse_url,
        "select source_id, restored_at is not null from app.deleted_documents order by source_id",
    )
    assert restored == [("61", False), ("62", True)]


def test_tables_load_side_by_side_and_a_failed_batch_stops_the_load(
    warehouse_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    (folder / "jira_issues.jsonl").write_bytes(b"".join(_line(_issue(str(n))) for n in range(30)))
    (folder / "jira_changelogs.jsonl").write_bytes(
        b"".join(_line({"id": f"h{n}", "created": STAMP, "items": []}, parent=str(n)) for n in range(30))
    )
    (folder / "gitlab_pipelines.jsonl").write_bytes(
        b"".join(_line({"id": n, "status": "success", "updated_at": STAMP}, parent=1) for n in range(30))
    )
    (folder / "gitlab_jobs.jsonl").write_bytes(
        b"".join(_line({"id": n, "status": "success", "finished_at": STAMP}, parent=n) for n in range(30))
    )
    summary = _load(warehouse_url, folder, batch_size=7, workers=2)
    assert summary.received == summary.loaded == 120
    assert {b.table for b in summary.batches} == {
        "jira_issues",
        "jira_changelogs",
        "gitlab_pipelines",
        "gitlab_jobs",
    }
    finished = dict(
        _rows(
            warehouse_url,
            "select table_name, max(finished_at) from app.load_batches where batch_id = any(%s) group by 1",
            ([b.batch_id for b in summary.batches],),
        )
    )
    started = dict(
        _rows(
            warehouse_url,
            "select table_name, min(started_at) from app.load_batches where batch_id = any(%s) group by 1",
            ([b.batch_id for b in summary.batches],),
        )
    )
    assert started["jira_changelogs"] >= finished["jira_issues"]
    assert started["gitlab_jobs"] >= finished["gitlab_pipelines"]
    assert _load(warehouse_url, folder, workers=2).unchanged == 120


def test_a_failed_batch_fails_the_load_whichever_table_it_is(warehouse_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "boom"
    folder.mkdir()
    (folder / "jira_issues.jsonl").write_bytes(b"".join(_line(_issue(str(n))) for n in range(10)))
    (folder / "gitlab_pipelines.jsonl").write_bytes(
        b"".join(_line({"id": n, "status": "success", "updated_at": STAMP}, parent=1) for n in range(10))
    )
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            """
            create function raw.refuse_boom() returns trigger language plpgsql as $$
            begin
                if new.source_id = '7' then raise exception 'disk on fire at %', new.source_id; end if;
                return new;
            end $$;
            create trigger boom before insert on raw.gitlab_pipelines
                for each row execute function raw.refuse_boom();
            """
        )
    try:
        with pytest.raises(LoadError, match=r"raw.gitlab_pipelines.*rolled back whole: .*disk on fire at 7"):
            _load(warehouse_url, folder, workers=2)
        assert _rows(warehouse_url, "select count(*) from raw.gitlab_pipelines") == [(0,)]
        statuses = _rows(
            warehouse_url,
            "select status from app.load_batches where table_name = 'gitlab_pipelines' "
            "order by batch_id desc limit 1",
        )
        assert statuses == [("failed",)]
    finally:
        with psycopg.connect(warehouse_url) as conn:
            conn.execute("drop trigger boom on raw.gitlab_pipelines")
