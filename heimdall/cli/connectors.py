"""`heimdall sync ...`, `heimdall connectors check` and `heimdall webhooks serve`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from connectors.http import ConnectorError
from connectors.state import SyncSummary
from heimdall.cli._output import console, parse_moment
from warehouse.errors import UsageError

sync_app = typer.Typer(
    help="Fetch from the live sources into raw (incremental by default).", no_args_is_help=True
)
connectors_app = typer.Typer(help="Inspect the live-source configuration.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Receive Jira and GitLab webhooks.", no_args_is_help=True)

FullOption = Annotated[
    bool,
    typer.Option(
        "--full",
        help=(
            "Ignore watermarks and list everything again, then look for deletions: Jira issues and GitLab "
            "merge requests, pipelines, deployments and incidents no longer listed are asked for one by one "
            "and removed (kept in app.deleted_documents) only when the source answers 404. "
            "Cannot be combined with --since."
        ),
    ),
]
SinceOption = Annotated[Optional[str], typer.Option(help="Fetch what changed since this date (YYYY-MM-DD).")]


def _run(which: str, full: bool, since: Optional[str]) -> None:
    from warehouse import db as warehouse_db
    from warehouse.migrate import migrate
    from warehouse.settings import get_settings

    if full and since:
        # --full is the complete listing that deletion detection needs; --since bounds the listing, and
        # everything it leaves out would look deleted
        raise UsageError(
            "--full and --since cannot be combined: --full lists everything to find what was deleted at the "
            "source, --since lists only what changed since a date (everything older would look deleted). "
            "Use --since DATE to refetch what changed since then, or --full alone for a complete listing "
            "with deletion detection."
        )
    settings = get_settings()
    start = parse_moment(since, "--since") if since else None
    names: tuple[str, ...] = ("jira", "gitlab") if which == "all" else (which,)
    configured = {"jira": settings.jira.is_configured, "gitlab": settings.gitlab.is_configured}
    if which == "all":
        names = tuple(name for name in names if configured[name])
        if not names:
            raise UsageError(
                "no connector is configured (see `heimdall connectors check` and docs/connectors.md)"
            )
    total = SyncSummary()
    rows: list[tuple[str, SyncSummary]] = []
    with warehouse_db.connect(autocommit=True) as conn:
        migrate(conn)
        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed} items"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            for name in names:
                task = progress.add_task(f"sync {name}", total=None, rate="")
                started = datetime.now(UTC)

                def advance(label: str, count: int, task: TaskID = task, started: datetime = started) -> None:
                    progress.update(task, advance=count, description=label)
                    seconds = max((datetime.now(UTC) - started).total_seconds(), 1e-6)
                    done = progress.tasks[task].completed
                    progress.update(task, rate=f"{done / seconds:.1f}/s")

                connector = _connector(name, settings)
                summary = connector.sync(conn, full=full, since=start, progress=advance)
                rows.append((name, summary))
                total.add(summary)
    table = Table(title="sync summary")
    for column in ("source", "fetched", "new", "updated", "unchanged", "rejected", "deleted", "errors"):
        table.add_column(column, justify="left" if column == "source" else "right")
    for name, summary in [*rows, ("total", total)]:
        table.add_row(
            name,
            *(
                str(getattr(summary, key))
                for key in ("fetched", "new", "updated", "unchanged", "rejected", "deleted")
            ),
            str(len(summary.errors)),
        )
    console.print(table)
    if total.rejected:
        console.print("[yellow]rejected documents are kept in app.dead_letters with the reason[/]")
    for note in total.notes[:20]:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    if len(total.notes) > 20:
        console.print(f"[yellow]... and {len(total.notes) - 20} more notes[/]")


def _connector(name: str, settings):  # type: ignore[no-untyped-def]
    if name == "jira":
        from connectors.jira import JiraConnector

        return JiraConnector(settings.jira, settings.connectors, dbt_project_dir=settings.dbt_project_dir)
    from connectors.gitlab import GitlabConnector

    return GitlabConnector(settings.gitlab, settings.connectors)


@sync_app.command("jira")
def sync_jira(full: FullOption = False, since: SinceOption = None) -> None:
    """Jira Cloud: issues, full change histories, sprints."""
    _run("jira", full, since)


@sync_app.command("gitlab")
def sync_gitlab(full: FullOption = False, since: SinceOption = None) -> None:
    """GitLab: merge requests (notes, approvals, commits), pipelines, jobs, deployments."""
    _run("gitlab", full, since)


@sync_app.command("all")
def sync_all(full: FullOption = False, since: SinceOption = None) -> None:
    """Every configured source."""
    _run("all", full, since)


@connectors_app.command("check")
def check() -> None:
    """Say what is configured and test authentication, without fetching data."""
    from warehouse.settings import get_settings

    settings = get_settings()
    table = Table(title="connectors")
    for column in ("source", "configured", "scope", "authentication"):
        table.add_column(column)
    failed = False
    for name, configured, scope in (
        ("jira", settings.jira.is_configured, ", ".join(settings.jira.projects) or "—"),
        (
            "gitlab",
            settings.gitlab.is_configured,
            ", ".join(settings.gitlab.projects) or (settings.gitlab.group or "—"),
        ),
    ):
        if not configured:
            table.add_row(name, "no", scope, "not tried (see docs/connectors.md)")
            continue
        try:
            who = _connector(name, settings).check()
            table.add_row(name, "yes", scope, f"[green]ok[/] as {who}")
        except ConnectorError as exc:
            failed = True
            table.add_row(name, "yes", scope, f"[red]failed[/]: {exc}")
    console.print(table)
    if failed:
        raise typer.Exit(1)


@webhooks_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8787,
) -> None:
    """Run the webhook intake (POST /webhooks/gitlab, POST /webhooks/jira, GET /healthz) with uvicorn."""
    import uvicorn

    from connectors.webhooks.app import create_app
    from heimdall.cli.data import sweep_interrupted_runs
    from heimdall.cli.db import ready_url

    url = ready_url()
    sweep_interrupted_runs(url)  # like a sync does at its start
    uvicorn.run(create_app(url), host=host, port=port, log_level="info", access_log=False)
