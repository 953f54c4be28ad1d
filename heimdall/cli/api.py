"""`heimdall api serve / openapi`: the read-only HTTP API (heimdall/api/, docs/ask.md).

`serve` reaches (or starts) the warehouse, applies pending migrations, creates Guarded Ask's login role
(HEIMDALL_API_LOGIN, member of heimdall_ask) and runs the API with uvicorn on
HEIMDALL_API_HOST:HEIMDALL_API_PORT
(127.0.0.1:8600). Only the login's URL reaches the app; it is never printed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from heimdall.cli._output import console
from heimdall.pipeline import ready_warehouse
from warehouse.errors import HeimdallError
from warehouse.settings import PROJECT_ROOT, get_api_settings, get_settings

OPENAPI_FILE = PROJECT_ROOT / "docs" / "api-openapi.yaml"

app = typer.Typer(
    help="Read-only HTTP API: POST /api/ask, GET /api/recommendations, GET /api/health.", no_args_is_help=True
)


class OpenApiOutdated(HeimdallError):
    """docs/api-openapi.yaml differs from what the code describes."""


@app.command("serve")
def serve_command(
    host: Annotated[
        Optional[str], typer.Option(help="Interface (default HEIMDALL_API_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default HEIMDALL_API_PORT, 8600).")] = None,
) -> None:
    """Serve the read-only API with uvicorn (Ctrl-C stops it)."""
    import uvicorn

    from heimdall.api.app import create_app
    from insights.ask.execute import ask_login_url

    settings, api = get_settings(), get_api_settings()
    host, port = host or api.host, port or api.port
    login_url = ask_login_url(settings, api, ready_warehouse(settings).url)
    console.print(f"Heimdall API at http://{host}:{port}/api (OpenAPI: /api/openapi.json; Ctrl-C stops it)")
    uvicorn.run(create_app(login_url, api), host=host, port=port, log_level="info", access_log=False)


@app.command("openapi")
def openapi_command(
    write: Annotated[bool, typer.Option("--write", help=f"Write {OPENAPI_FILE.name} under docs/.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Fail when the committed file is outdated.")] = False,
    out: Annotated[Optional[Path], typer.Option(help="Write to this file instead.")] = None,
) -> None:
    """Print (or write, or check) the API's OpenAPI description as YAML."""
    from heimdall.api.openapi import openapi_yaml

    text = openapi_yaml()
    target = out or OPENAPI_FILE
    if check:
        if not target.is_file() or target.read_text() != text:
            raise OpenApiOutdated(f"{target} is outdated: run `heimdall api openapi --write`")
        console.print(f"{target} is current")
        return
    if write or out:
        target.write_text(text)
        console.print(f"wrote {target}")
        return
    typer.echo(text, nl=False)
