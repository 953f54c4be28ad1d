"""JSON-lines files, one per raw table: `<table>.jsonl` with `{"parent_id": ..., "payload": ...}` lines.

Reading never stops at a bad line: a line that is not valid UTF-8, not valid JSON, or not a
``{"parent_id", "payload"}`` object becomes a :class:`RawRecord` with a ``problem`` and its file and line
as ``origin``, which the loader keeps as a dead letter while the rest of the file loads.

The loader does not parse the lines in Python: it takes them from :meth:`JsonlFolder.line_batches` as they
are and has PostgreSQL parse and key them, with the same outcome (docs/raw-layer.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
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


def read_jsonl(out_dir: str | Path) -> JsonlFolder:
    """Stream the records back, table by table (in ``RAW_TABLES`` order), lines in file order.

    The result iterates as :class:`RawRecord` (each line parsed in Python); the loader recognises it and
    streams the lines themselves instead (:meth:`JsonlFolder.line_batches`), parsing them in PostgreSQL."""
    return JsonlFolder(Path(out_dir))


@dataclass
class LineBatch:
    """Consecutive non-blank lines of one ``<table>.jsonl`` file, verbatim: ``lines[i]`` is line
    ``numbers[i]`` of ``file_name``."""

    table: str
    file_name: str
    numbers: list[int]
    lines: list[bytes]

    def __len__(self) -> int:
        return len(self.lines)

    def origin(self, index: int) -> str:
        return f"{self.file_name} line {self.numbers[index]}"

    def record(self, index: int) -> RawRecord:
        return parse_line(self.lines[index], self.table, origin=self.origin(index))


class JsonlFolder(Iterator[RawRecord]):
    """The ``<table>.jsonl`` files of a folder: an iterator of records, or batches of raw lines."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._records: Iterator[RawRecord] | None = None

    def files(self) -> Iterator[tuple[str, Path]]:
        for table in RAW_TABLES:
            path = self.folder / f"{table}{SUFFIX}"
            if path.exists():
                yield table, path

    def __iter__(self) -> JsonlFolder:
        return self

    def __next__(self) -> RawRecord:
        if self._records is None:
            self._records = (record for table, path in self.files() for record in _read_file(path, table))
        return next(self._records)

    def line_batches(self, max_lines: int, max_bytes: int) -> Iterator[LineBatch]:
        """Every file's non-blank lines in batches of at most ``max_lines`` lines and about ``max_bytes``
        bytes, streamed (one batch in memory at a time)."""
        for table, _ in self.files():
            yield from self.table_batches(table, max_lines, max_bytes)

    def table_batches(self, table: str, max_lines: int, max_bytes: int) -> Iterator[LineBatch]:
        """The batches of one table's file (none when the folder has no such file)."""
        path = self.folder / f"{table}{SUFFIX}"
        if not path.exists():
            return
        with path.open("rb") as fh:
            batch = LineBatch(table, path.name, [], [])
            size = 0
            for number, raw in enumerate(fh, start=1):
                if raw.isspace():
                    continue
                batch.numbers.append(number)
                batch.lines.append(raw)
                size += len(raw)
                if len(batch.lines) >= max_lines or size >= max_bytes:
                    yield batch
                    batch = LineBatch(table, path.name, [], [])
                    size = 0
            if batch.lines:
                yield batch


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
