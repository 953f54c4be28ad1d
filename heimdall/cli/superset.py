"""`heimdall superset ...`: the dashboards (Superset 6.1 in its own virtualenv, `make superset-venv`)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from heimdall.cli._output import console
from heimdall.cli.db import ready_url
from heimdall.superset import runtime
from heimdall.superset.client import SupersetClient
from heimdall.superset.provision import ProvisionResult, provision
from heimdall.superset.runtime import SupersetError
from warehouse.settings import Settings, SupersetSettings, get_settings, get_superset_settings

app = typer.Typer(
    help="Superset dashboards: provision them (idempotent), serve them, write the assets bundle.",
    no_args_is_help=True,
)


@app.command("provision")
def provision_command() -> None:
    """Bootstrap what is missing (metadata database, read-only login, db upgrade, admin, init), then import
    the dashboards from superset/assets/ (overwriting in place, same ids)."""
    url = ready_url()
    result = provision(get_settings(), get_superset_settings(), url)
    report_provisioning(result)


def report_provisioning(result: ProvisionResult) -> None:
    for step in result.steps:
        console.print(f"  {step}")
    console.print(
        f"Superset provisioned: {len(result.dashboards)} dashboards, {len(result.charts)} charts, "
        f"{result.datasets} datasets"
    )
    if result.admin_password:
        console.print(
            f"[bold]Superset admin login:[/] {result.admin_username} / {result.admin_password} "
            "(generated now and shown once; kept in HEIMDALL_HOME/superset/admin_password)",
            soft_wrap=True,
        )


@app.command("serve")
def serve_command(
    host: Annotated[
        Optional[str], typer.Option(help="Interface (default HEIMDALL_SUPERSET_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default HEIMDALL_SUPERSET_PORT, 8088).")] = None,
    background: Annotated[
        bool, typer.Option("--background", help="Detach; `heimdall superset stop` ends it.")
    ] = False,
) -> None:
    """Serve Superset with gunicorn (one worker, threads) on 127.0.0.1 and the configured port."""
    url = ready_url()
    settings, superset = get_settings(), get_superset_settings()
    found = runtime.secrets(settings, superset)
    env = runtime.environment(settings, superset, found, url)
    home = runtime.state_dir(settings)
    host, port = host or superset.host, port or superset.port
    if background:
        serve_in_background(settings, superset, env, host=host, port=port)
        console.print(f"Superset running at {public_url(superset, host, port)} (log: {home / 'server.log'})")
        return
    console.print(f"Superset at {public_url(superset, host, port)} (Ctrl-C stops it)")
    runtime.exec_server(superset, env, cwd=home, host=host, port=port)


@app.command("stop")
def stop_command() -> None:
    """Stop a Superset started with `heimdall superset serve --background`."""
    console.print("stopped" if stop_background(get_settings()) else "not running")


@app.command("assets")
def assets_command(
    check: Annotated[bool, typer.Option("--check", help="Only check superset/assets/ is current.")] = False,
) -> None:
    """Write superset/assets/ (the import bundle) from the dashboard definitions in heimdall/superset/."""
    from heimdall.superset.bundle import write_bundle

    superset = get_superset_settings()
    changed = write_bundle(superset.assets_dir, dry_run=check)
    if check:
        if changed:
            raise SupersetError(
                f"{len(changed)} asset files are out of date ({', '.join(changed[:5])}...): "
                "run `heimdall superset assets`"
            )
        console.print("superset/assets is current")
        return
    console.print(
        f"wrote {len(changed)} changed files under {superset.assets_dir}" if changed else "unchanged"
    )


def public_url(superset: SupersetSettings, host: str, port: int) -> str:
    if superset.public_url:
        return superset.url
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}"


def _pid_file(settings: Settings) -> Path:
    return runtime.state_dir(settings) / "server.pid"


def serve_in_background(
    settings: Settings, superset: SupersetSettings, env: dict[str, str], *, host: str, port: int
) -> None:
    """Start gunicorn detached (pid in HEIMDALL_HOME/superset/server.pid) and wait until it answers; a server
    already answering there is left as it is."""
    home = runtime.state_dir(settings)
    probe = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"
    with SupersetClient(probe) as client:
        if client.healthy():
            return
        process = runtime.start_server(superset, env, cwd=home, log=home / "server.log", host=host, port=port)
        _pid_file(settings).write_text(f"{process.pid}\n")
        client.wait_until_healthy(300, alive=lambda: process.poll() is None)


def stop_background(settings: Settings) -> bool:
    pid_file = _pid_file(settings)
    if not pid_file.is_file():
        return False
    pid = int(pid_file.read_text().strip() or 0)
    pid_file.unlink()
    try:
        os.killpg(pid, signal.SIGTERM)  # its own session: gunicorn and its worker
    except (ProcessLookupError, PermissionError):
        return False
    for _ in range(60):
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.5)
    os.killpg(pid, signal.SIGKILL)
    return True
