"""The `heimdall` command line."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from connectors.cli import connectors_app, sync_app, webhooks_app
from warehouse import db as warehouse_db
from warehouse.dbt_runner import DbtError, run_dbt
from warehouse.loader import BatchResult, LoadError, LoadSummary, load_records, purge_source
from warehouse.migrate import MigrationError, migrate
from warehouse.recommendations_cli import app as recommendations_app
from warehouse.recommendations_cli import verify_command
from warehouse.records import SOURCES
from warehouse.settings import get_settings, redact_url

app = typer.Typer(help="Heimdall: engineering-delivery intelligence warehouse.", no_args_is_help=True)
db_app = typer.Typer(help="Start, stop and inspect the warehouse database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(recommendations_app, name="recommendations")
app.add_typer(sync_app, name="sync")
app.add_typer(connectors_app, name="connectors")
app.add_typer(webhooks_app, name="webhooks")
app.command("verify")(verify_command)
console = Console()
err_console = Console(stderr=True)


def _fail(message: str, code: int = 1) -> None:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _ready_url() -> str:
    """Start (embedded) or reach the warehouse and apply pending migrations."""
    try:
        url = warehouse_db.database_url()
        with warehouse_db.connect(url) as conn:
            applied = migrate(conn)
    except (warehouse_db.WarehouseError, MigrationError) as exc:
        _fail(str(exc))
    if applied:
        console.print(f"applied migrations: {', '.join(applied)}")
    return url


@db_app.command("start")
def db_start() -> None:
    """Start the embedded warehouse (or check HEIMDALL_DATABASE_URL) and apply migrations."""
    url = _ready_url()
    console.print(f"warehouse ready: {redact_url(url)}", soft_wrap=True)


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded warehouse."""
    settings = get_settings()
    if not settings.uses_embedded_postgres:
        console.print("HEIMDALL_DATABASE_URL is set: the external server is not managed by heimdall")
        return
    stopped = warehouse_db.stop_embedded(settings)
    console.print("stopped" if stopped else "not running")


@db_app.command("status")
def db_status() -> None:
    """Say where the warehouse is and whether it is up."""
    status = warehouse_db.status()
    kind = "embedded PostgreSQL" if status.embedded else "external PostgreSQL"
    state = "[green]running[/]" if status.running else "[yellow]not running[/]"
    console.print(f"{kind} at {status.location}: {state}")
    if not status.running:
        raise typer.Exit(1)


@db_app.command("url")
def db_url(
    show_password: Annotated[bool, typer.Option(help="Print the password instead of ***.")] = False,
) -> None:
    """Print the warehouse's libpq URL."""
    url = warehouse_db.database_url()
    typer.echo(url if show_password else redact_url(url))


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending schema migrations (safe to re-run)."""
    _ready_url()
    console.print("schema up to date")


@db_app.command("psql", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def db_psql(ctx: typer.Context) -> None:
    """Open psql on the warehouse (extra arguments go to psql)."""
    url = warehouse_db.database_url()
    raise typer.Exit(subprocess.call([warehouse_db.psql_binary(), url, *ctx.args]))


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _load_with_progress(url: str, records: object, source: str, description: str) -> LoadSummary:
    with _progress() as progress:
        task = progress.add_task(description, total=None, detail="")
        seen = 0

        def on_batch(batch: BatchResult) -> None:
            nonlocal seen
            seen += batch.received
            progress.update(task, completed=seen, detail=f"raw.{batch.table}")

        with warehouse_db.connect(url) as conn:
            summary = load_records(conn, records, source, on_batch=on_batch)  # type: ignore[arg-type]
        progress.update(task, total=seen, completed=seen, detail="done")
    return summary


def _print_load_summary(summary: LoadSummary) -> None:
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


def _as_of(value: Optional[str]) -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"--as-of must be a date like 2026-11-20, got {value!r}")
        raise  # unreachable


@app.command()
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
    from generator import GeneratorOptions, load_scenario, write_jsonl
    from generator import generate as run_generator
    from generator.ground_truth import write_ground_truth

    try:
        options = GeneratorOptions(
            seed=seed,
            scale=scale,
            teams=teams,
            engineers=engineers,
            weeks=weeks,
            scenario=load_scenario(scenario) if scenario else None,
            as_of=_as_of(as_of),
        )
        run = run_generator(options)
    except (ValueError, FileNotFoundError) as exc:
        _fail(str(exc))
        return
    settings = get_settings()
    if out is not None:
        counts = write_jsonl(run.records, out)
        truth_path = ground_truth or out / "ground_truth.json"
        for table, count in sorted(counts.items()):
            console.print(f"{out / (table + '.jsonl')}: {count} documents")
    else:
        url = _ready_url()
        try:
            summary = _load_with_progress(url, run.records, "synthetic", "generate + load")
        except LoadError as exc:
            _fail(str(exc))
            return
        _print_load_summary(summary)
        truth_path = ground_truth or settings.home / "ground_truth.json"
    write_ground_truth(run.ground_truth(), truth_path)
    console.print(f"ground truth: {truth_path}")


@app.command()
def load(
    directory: Annotated[Path, typer.Argument(help="Folder of <table>.jsonl files (from generate --out).")],
    source: Annotated[str, typer.Option(help=f"One of {', '.join(SOURCES)}.")] = "synthetic",
) -> None:
    """Load a folder of JSON-lines source documents into raw."""
    from generator import read_jsonl

    if not directory.is_dir():
        _fail(f"{directory} is not a folder")
    url = _ready_url()
    try:
        records: object = read_jsonl(directory)
        summary = _load_with_progress(url, records, source, "load")
    except LoadError as exc:
        _fail(str(exc))
        return
    _print_load_summary(summary)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def build(ctx: typer.Context) -> None:
    """Run dbt against the warehouse: `heimdall build` = `dbt build`; other arguments pass through
    (e.g. `heimdall build run --select marts`)."""
    url = _ready_url()
    args = list(ctx.args) or ["build"]
    if args[0].startswith("-"):
        args = ["build", *args]
    _build_and_verify(args, url)


SELECTION_FLAGS = ("-s", "--select", "--exclude", "-m", "--models", "--selector", "--resource-type")


def _build_and_verify(args: list[str], url: str) -> None:
    """Run dbt; after a whole-project `build`, recompute the intervention outcomes (Python statistics on the
    fresh marts, written to analysis.intervention_outcomes) and rebuild the mart that reads them."""
    from warehouse.verification import VerificationError, run_after_build

    try:
        run_dbt(args, url)
        if args[0] != "build" or any(arg.split("=")[0] in SELECTION_FLAGS for arg in args):
            return
        verified = run_after_build(url)
        if verified:
            vars_args = ["--vars", args[args.index("--vars") + 1]] if "--vars" in args else []
            run_dbt(["build", "--select", "stg_analysis__intervention_outcomes+", *vars_args], url)
            console.print(f"verified {verified} approved intervention(s): `heimdall verify` shows them")
    except (DbtError, VerificationError) as exc:
        _fail(str(exc))


@app.command()
def summary() -> None:
    """Row counts per mart and the headline numbers."""
    from warehouse.summary import print_summary

    url = warehouse_db.database_url()
    with warehouse_db.connect(url) as conn:
        print_summary(conn, console)


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    scale: Annotated[str, typer.Option(help="small | medium | large")] = "medium",
    scenario: Annotated[Path, typer.Option(help="Scenario YAML.")] = Path("generator/scenarios/demo.yml"),
    as_of: Annotated[Optional[str], typer.Option(help="Last day of data (default: today, UTC).")] = None,
    fresh: Annotated[bool, typer.Option(help="Replace the synthetic data even if unchanged.")] = False,
) -> None:
    """The whole demo: start the warehouse, generate and load the demo org, dbt build, summary.

    Re-running with the same options changes nothing. With other options (another day, seed, scale or
    scenario) the previous synthetic organisation is purged first and the marts fully rebuilt, because
    two generated organisations share natural keys and must never be mixed.
    """
    from generator import GeneratorOptions, load_scenario
    from generator import generate as run_generator

    scenario_path = scenario if scenario.is_absolute() else _project_path(scenario)
    as_of_date = _as_of(as_of)
    console.rule("1/4 warehouse")
    db_start()
    console.rule("2/4 generate and load the demo organisation")
    planned = run_generator(
        GeneratorOptions(seed=seed, scale=scale, scenario=load_scenario(scenario_path), as_of=as_of_date)
    ).ground_truth()
    truth_path = get_settings().home / "ground_truth.json"
    previous = json.loads(truth_path.read_text()) if truth_path.is_file() else None
    replace = fresh or previous is None or _signature(previous) != _signature(planned)
    url = warehouse_db.database_url()
    if replace:
        with warehouse_db.connect(url) as conn:
            deleted = purge_source(conn, "synthetic")
        if any(deleted.values()):
            console.print(
                f"replaced the previous synthetic organisation ({sum(deleted.values()):,} documents)"
            )
    generate(
        seed=seed,
        scale=scale,
        teams=None,
        engineers=None,
        weeks=None,
        scenario=scenario_path,
        as_of=as_of_date.isoformat(),
        out=None,
        ground_truth=None,
    )
    console.rule("3/4 dbt build")
    dbt_args = ["build", "--vars", json.dumps({"as_of": f"{as_of_date.isoformat()}T23:59:59+00:00"})]
    if replace:
        dbt_args.append("--full-refresh")
    _build_and_verify(dbt_args, url)
    console.rule("4/4 summary")
    summary()


def _signature(truth: dict[str, object]) -> str:
    """What identifies a generated organisation: its options, as-of date and scenario."""
    return json.dumps(
        {key: truth.get(key) for key in ("options", "as_of", "scenario", "effects", "interventions")},
        sort_keys=True,
        default=str,
    )


def _project_path(relative: Path) -> Path:
    from warehouse.settings import PROJECT_ROOT

    candidate = Path(os.getcwd()) / relative
    return candidate if candidate.exists() else PROJECT_ROOT / relative


if __name__ == "__main__":  # pragma: no cover
    app()
