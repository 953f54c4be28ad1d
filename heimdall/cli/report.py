"""``heimdall report``: the weekly delivery report (Markdown, self-contained HTML, PDF) from the marts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from heimdall.cli._output import console, parse_date
from heimdall.cli.db import ready_url


def report(
    week: Annotated[
        Optional[str],
        typer.Option(
            help="ISO week, e.g. 2026-W46 (default: the last complete week before the data's as_of)."
        ),
    ] = None,
    team: Annotated[Optional[str], typer.Option(help="Team slug (default: the whole organisation).")] = None,
    format: Annotated[str, typer.Option("--format", help="Comma-separated: md, html, pdf.")] = "md,html,pdf",
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default: reports/out/<week>/).")] = None,
    as_of: Annotated[
        Optional[str],
        typer.Option(help="Pick the default week as of this date (default: the build's as_of)."),
    ] = None,
) -> None:
    """Write the weekly delivery report: executive summary, headline metrics with deltas and 8-week medians,
    charts, teams, risks, the recommendation of the week and the interventions' verdicts (docs/report.md)."""
    from reports import parse_formats, write_weekly_report

    formats = parse_formats(format)
    day = parse_date(as_of, "--as-of") if as_of else None
    url = ready_url()
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]report[/] {task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=None)
        written = write_weekly_report(
            url,
            day,
            out,
            week=week,
            team=team,
            formats=formats,
            progress=lambda message: bar.update(task, description=message),
        )
        bar.update(task, description="done")
    console.print(f"weekly report {written.week} written to {written.folder}")
    for kind, path in written.files.items():
        console.print(f"  {kind:<4} {path}", soft_wrap=True, highlight=False)
