"""The ``heimdall`` command: one Typer app assembled from the command groups in this package."""

from __future__ import annotations

import sys

import typer

from heimdall.cli import api as api_cli
from heimdall.cli import apps as apps_cli
from heimdall.cli import ask as ask_cli
from heimdall.cli import build, data, db, recommendations
from heimdall.cli import connectors as connectors_cli
from heimdall.cli import report as report_cli
from heimdall.cli import superset as superset_cli
from heimdall.cli._output import print_error
from warehouse.errors import HeimdallError

app = typer.Typer(
    help="Heimdall: engineering-delivery intelligence warehouse.",
    no_args_is_help=True,
    # Tracebacks never show local variables: they can hold credentials.
    pretty_exceptions_show_locals=False,
)
app.add_typer(db.app, name="db")
app.command()(data.generate)
app.command()(data.load)
app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(build.build)
app.command()(build.summary)
app.command()(build.demo)
app.add_typer(recommendations.app, name="recommendations")
app.command("verify")(recommendations.verify_command)
app.add_typer(connectors_cli.sync_app, name="sync")
app.add_typer(connectors_cli.connectors_app, name="connectors")
app.add_typer(connectors_cli.webhooks_app, name="webhooks")
app.add_typer(superset_cli.app, name="superset")
app.command("report")(report_cli.report)
app.add_typer(apps_cli.app, name="apps")
app.command("ask")(ask_cli.ask_command)
app.add_typer(api_cli.app, name="api")


def main() -> None:
    """Entry point: run the app; a :class:`HeimdallError` is printed by the one error printer."""
    try:
        app(standalone_mode=True)
    except HeimdallError as error:
        print_error(error)
        sys.exit(error.exit_code)
