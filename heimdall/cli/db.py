"""`heimdall db ...`: run and inspect the warehouse."""

from __future__ import annotations

import subprocess
from typing import Annotated

import typer

from heimdall.cli._output import console
from heimdall.pipeline import ready_warehouse
from warehouse import db as warehouse_db
from warehouse.settings import get_settings, redact_url

app = typer.Typer(help="Start, stop and inspect the warehouse database.", no_args_is_help=True)


def ready_url() -> str:
    """Start (embedded) or reach the warehouse, apply pending migrations and say which were applied."""
    ready = ready_warehouse(get_settings())
    if ready.applied_migrations:
        console.print(f"applied migrations: {', '.join(ready.applied_migrations)}")
    return ready.url


@app.command("start")
def start() -> None:
    """Start the embedded warehouse (or check HEIMDALL_DATABASE_URL) and apply migrations."""
    url = ready_url()
    console.print(f"warehouse ready: {redact_url(url)}", soft_wrap=True)


@app.command("stop")
def stop() -> None:
    """Stop the embedded warehouse."""
    settings = get_settings()
    if not settings.uses_embedded_postgres:
        console.print("HEIMDALL_DATABASE_URL is set: the external server is not managed by heimdall")
        return
    stopped = warehouse_db.stop_embedded(settings)
    console.print("stopped" if stopped else "not running")


@app.command("status")
def status() -> None:
    """Say where the warehouse is and whether it is up."""
    found = warehouse_db.status()
    kind = "embedded PostgreSQL" if found.embedded else "external PostgreSQL"
    state = "[green]running[/]" if found.running else "[yellow]not running[/]"
    console.print(f"{kind} at {found.location}: {state}")
    if not found.running:
        raise typer.Exit(1)


@app.command("url")
def url(
    show_password: Annotated[bool, typer.Option(help="Print the password instead of ***.")] = False,
) -> None:
    """Print the warehouse's libpq URL."""
    found = warehouse_db.database_url()
    typer.echo(found if show_password else redact_url(found))


@app.command("migrate")
def migrate() -> None:
    """Apply pending schema migrations (safe to re-run)."""
    ready_url()
    console.print("schema up to date")


@app.command("psql", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def psql(ctx: typer.Context) -> None:
    """Open psql on the warehouse (extra arguments go to psql)."""
    found = warehouse_db.database_url()
    raise typer.Exit(subprocess.call([warehouse_db.psql_binary(), found, *ctx.args]))
