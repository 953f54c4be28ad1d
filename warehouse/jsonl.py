"""JSON-lines files, one per raw table: `<table>.jsonl` with `{"parent_id": ..., "payload": ...}` lines."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from warehouse.records import RAW_TABLES, RawRecord


def write_jsonl(records: Iterable[RawRecord], out_dir: str | Path) -> dict[str, int]:
    """Write records to ``out_dir/<table>.jsonl`` (every table gets a file); returns counts per table."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    handles: dict[str, IO[str]] = {}
    counts = {t: 0 for t in RAW_TABLES}
    try:
        for t in RAW_TABLES:
            handles[t] = (out / f"{t}.jsonl").open("w", encoding="utf-8", newline="\n")
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


def read_jsonl(out_dir: str | Path) -> Iterator[RawRecord]:
    """Stream the records back, table by table (in ``RAW_TABLES`` order), lines in file order."""
    out = Path(out_dir)
    for t in RAW_TABLES:
        path = out / f"{t}.jsonl"
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    yield RawRecord(t, row["payload"], row.get("parent_id"))
