"""`heimdall generate` and `heimdall load`: put source documents into raw."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from connectors.state import sweep_interrupted
from heimdall.cli._output import console, parse_date, progress
from heimdall.cli.db import ready_url
from warehouse import db as warehouse_db
from warehouse.errors import UsageError
from warehouse.loader import BatchResult, LoadSummary, load_records
from warehouse.records import RAW_TABLES, SOURCES, RawRecord
from warehouse.settings import get_settings


def sweep_interrupted_runs(url: str) -> None:
    """What a sync does at its start: mark load batches and sync scopes left ``running`` by a process that
    was killed (its database session is gone) as ``interrupted``, and say so. Live ones are left alone."""
    with warehouse_db.connect(url) as conn:
        notes = sweep_interrupted(conn)
    for note in notes:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


def load_with_progress(url: str, records: Iterable[RawRecord], source: str, description: str) -> LoadSummary:
    sweep_interrupted_runs(url)
    with progress() as bar:
        task = bar.add_task(description, total=None, detail="")
        seen = 0

        def on_batch(batch: BatchResult) -> None:
            nonlocal seen
            seen += batch.received
            bar.update(task, completed=seen, detail=f"raw.{batch.table}")

        with warehouse_db.connect(url) as conn:
            summary = load_records(conn, records, source, on_batch=on_batch)
        bar.update(task, total=seen, completed=seen, detail="done")
    return summary


def print_load_summary(summary: LoadSummary) -> None:
    table = Table(title="loaded into raw")
    for column in ("table", "received", "new/updated", "unchanged", "rejected"):
        table.add_column(column, justify="right" if column != "table" else "left")
    for name, counts in sorted(summary.by_table().items()):
        table.add_row(
            f"raw.{name}",
            str(counts["received"]),
            str(counts["loaded"]),
            str(counts["unchanged"]),
            str(counts["rejected"]),
        )
    console.print(table)
    if summary.rejected:
        console.print(
            f"[yellow]{summary.rejected} documents were rejected and kept in app.dead_letters "
            "with the reason (select * from app.dead_letters order by dead_letter_id desc)[/]"
        )


def as_of_day(value: Optional[str]) -> date:
    """The ``--as-of`` option: a date, default today (UTC)."""
    return datetime.now(UTC).date() if value is None else parse_date(value, "--as-of")


def generate(
    seed: Annotated[int, typer.Option(help="Random seed: same seed and options give identical data.")] = 42,
    scale: Annotated[str, typer.Option(help="small | medium | large")] = "small",
    teams: Annotated[Optional[int], typer.Option(help="Override the preset's team count.")] = None,
    engineers: Annotated[Optional[int], typer.Option(help="Override the preset's engineer count.")] = None,
    weeks: Annotated[Optional[int], typer.Option(help="Override the preset's number of weeks.")] = None,
    scenario: Annotated[Optional[Path], typer.Option(help="Scenario YAML planting effects.")] = None,
    as_of: Annotated[Optional[str], typer.Option(help="Last day of data (default: today, UTC).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Write JSON lines here instead of loading.")] = None,
    ground_truth: Annotated[
        Optional[Path], typer.Option(help="Where to write ground_truth.json (default beside the output).")
    ] = None,
) -> None:
    """Generate a seeded synthetic Jira/GitLab organisation and load it into raw (or write --out)."""
    from generator import GeneratorOptions, load_scenario
    from generator import generate as run_generator
    from generator.ground_truth import write_ground_truth
    from warehouse.jsonl import write_jsonl

    try:
        options = GeneratorOptions(
            seed=seed,
            scale=scale,
            teams=teams,
            engineers=engineers,
            weeks=weeks,
            scenario=load_scenario(scenario) if scenario else None,
            as_of=as_of_day(as_of),
        )
        run = run_generator(options)
    except (ValueError, FileNotFoundError) as exc:
        raise UsageError(str(exc)) from exc
    if out is not None:
        counts = write_jsonl(run.records, out)
        truth_path = ground_truth or out / "ground_truth.json"
        for table, count in sorted(counts.items()):
            console.print(f"{out / (table + '.jsonl')}: {count} documents")
    else:
        url = ready_url()
        print_load_summary(load_with_progress(url, run.records, "synthetic", "generate + load"))
        truth_path = ground_truth or get_settings().home / "ground_truth.json"
    write_ground_truth(run.ground_truth(), truth_path)
    console.print(f"ground truth: {truth_path}")


def load(
    directory: Annotated[Path, typer.Argument(help="Folder of <table>.jsonl files (from generate --out).")],
    source: Annotated[str, typer.Option(help=f"One of {', '.join(SOURCES)}.")] = "synthetic",
) -> None:
    """Load a folder of JSON-lines source documents into raw."""
    from warehouse.jsonl import read_jsonl, unknown_files

    if not directory.is_dir():
        raise UsageError(f"{directory} is not a folder")
    url = ready_url()
    summary = load_with_progress(url, read_jsonl(directory), source, "load")
    print_load_summary(summary)
    if summary.rejected:
        _print_dead_letters(url, [batch.batch_id for batch in summary.batches if batch.rejected])
    ignored = unknown_files(directory)
    if ignored:
        raise UsageError(
            f"not loaded: {', '.join(ignored)} (a file must be named <raw table>.jsonl; "
            f"raw tables: {', '.join(RAW_TABLES)})"
        )


def _print_dead_letters(url: str, batch_ids: list[int], limit: int = 10) -> None:
    with warehouse_db.connect(url) as conn:
        rows = conn.execute(
            "select coalesce(origin, table_name), reason from app.dead_letters where batch_id = any(%s) "
            "order by dead_letter_id limit %s",
            (batch_ids, limit),
        ).fetchall()
    for origin, reason in rows:
        console.print(f"  [yellow]{origin}[/]: {reason}", highlight=False)
