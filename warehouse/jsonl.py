"""JSON-lines files, one per raw table: `<table>.jsonl` with `{"parent_id": ..., "payload": ...}` lines.

Reading never stops at a bad line: a line that is not valid UTF-8, not valid JSON, or not a
``{"parent_id", "payload"}`` object becomes a :class:`RawRecord` with a ``problem`` and its file and line
as ``origin``, which the loader keeps as a dead letter while the rest of the file loads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from warehouse.records import RAW_TABLES, RawRecord

SUFFIX = ".jsonl"


def write_jsonl(records: Iterable[RawRecord], out_dir: str | Path) -> dict[str, int]:
    """Write records to ``out_dir/<table>.jsonl`` (every table gets a file); returns counts per table."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    handles: dict[str, IO[str]] = {}
    counts = {t: 0 for t in RAW_TABLES}
    try:
        for t in RAW_TABLES:
            handles[t] = (out / f"{t}{SUFFIX}").open("w", encoding="utf-8", newline="\n")
        for rec in records:
            if rec.table not in handles:
                raise ValueError(f"unknown raw table {rec.table!r}")
            handles[rec.table].write(
                json.dumps(
                    {"parent_id": rec.parent_id, "payload": rec.payload},
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
            )
            handles[rec.table].write("\n")
            counts[rec.table] += 1
    finally:
        for h in handles.values():
            h.close()
    return counts


def unknown_files(out_dir: str | Path) -> list[str]:
    """``*.jsonl`` files in the folder that name no raw table (they would not be loaded)."""
    return sorted(
        p.name for p in Path(out_dir).glob(f"*{SUFFIX}") if p.name[: -len(SUFFIX)] not in RAW_TABLES
    )


def read_jsonl(out_dir: str | Path) -> Iterator[RawRecord]:
    """Stream the records back, table by table (in ``RAW_TABLES`` order), lines in file order."""
    out = Path(out_dir)
    for table in RAW_TABLES:
        path = out / f"{table}{SUFFIX}"
        if path.exists():
            yield from _read_file(path, table)


def _read_file(path: Path, table: str) -> Iterator[RawRecord]:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            yield parse_line(raw, table, origin=f"{path.name} line {number}")


def parse_line(raw: bytes, table: str, *, origin: str) -> RawRecord:
    """One line of a ``<table>.jsonl`` file as a record (with a ``problem`` when it cannot be one)."""

    def bad(problem: str, text: str | None = None) -> RawRecord:
        shown = text if text is not None else raw.decode("utf-8", errors="replace")
        return RawRecord(table, shown.rstrip("\r\n"), None, origin=origin, problem=problem)

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return bad(f"not valid UTF-8 ({exc.reason} at byte {exc.start})")
    try:
        row = json.loads(text)
    except json.JSONDecodeError as exc:
        return bad(f"malformed JSON: {exc.msg} at column {exc.colno}", text)
    except RecursionError:
        return bad("malformed JSON: nested too deeply", text)
    if not isinstance(row, dict) or "payload" not in row:
        kind = (
            "an object without a 'payload' key" if isinstance(row, dict) else f"a JSON {type(row).__name__}"
        )
        return bad(f'expected a {{"parent_id": ..., "payload": ...}} object, got {kind}', text)
    parent = row.get("parent_id")
    if parent is not None and (isinstance(parent, bool) or not isinstance(parent, str | int)):
        return bad(f"parent_id must be a string or a number, got {type(parent).__name__}", text)
    return RawRecord(table, row["payload"], None if parent is None else str(parent), origin=origin)
