"""`heimdall build`, `heimdall summary` and `heimdall demo`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from heimdall import pipeline
from heimdall.cli import data
from heimdall.cli._output import console
from heimdall.cli.db import ready_url
from heimdall.cli.db import start as db_start
from warehouse import db as warehouse_db
from warehouse.loader import purge_source
from warehouse.settings import get_settings


def build(ctx: typer.Context) -> None:
    """Run dbt against the warehouse: `heimdall build` = `dbt build`; other arguments pass through
    (e.g. `heimdall build run --select marts`, `heimdall build source freshness`)."""
    url = ready_url()
    _build_and_verify(pipeline.dbt_build_args(ctx.args), url)


def _build_and_verify(args: list[str], url: str) -> None:
    result = pipeline.build_and_verify(args, url, get_settings())
    if result.verified:
        console.print(f"verified {result.verified} approved intervention(s): `heimdall verify` shows them")


def summary() -> None:
    """Row counts per mart and the headline numbers."""
    from insights.summary import print_summary

    with warehouse_db.connect() as conn:
        print_summary(conn, console)


def demo(
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    scale: Annotated[str, typer.Option(help="small | medium | large")] = "medium",
    scenario: Annotated[Path, typer.Option(help="Scenario YAML.")] = Path("generator/scenarios/demo.yml"),
    as_of: Annotated[Optional[str], typer.Option(help="Last day of data (default: today, UTC).")] = None,
    fresh: Annotated[bool, typer.Option(help="Replace the synthetic data even if unchanged.")] = False,
    approve_planted: Annotated[
        bool,
        typer.Option(
            "--approve-planted",
            help="Approve the interventions the scenario plants (as `heimdall recommendations approve`, from "
            "the ground truth), rebuild and verify.",
        ),
    ] = False,
    dashboards: Annotated[
        bool,
        typer.Option(
            "--dashboards", help="Provision the Superset dashboards and serve them in the background."
        ),
    ] = False,
    apps: Annotated[
        bool, typer.Option("--apps", help="Serve the Streamlit investigation tools in the background.")
    ] = False,
    report: Annotated[
        bool, typer.Option("--report", help="Write the weekly report of the last complete demo week.")
    ] = False,
) -> None:
    """The whole demo: start the warehouse, generate and load the demo org, dbt build, summary; with
    --approve-planted the planted intervention is approved and verified, with --dashboards Superset serves
    the six dashboards, with --apps the investigation tools are served, with --report the weekly report of the
    last complete week is written (`make demo` does all of it).

    Re-running with the same options changes nothing. With other options (another day, seed, scale or
    scenario) the previous synthetic organisation is purged first and the marts fully rebuilt, because
    two generated organisations share natural keys and must never be mixed.
    """
    from generator import GeneratorOptions, load_scenario
    from generator import generate as run_generator

    scenario_path = scenario if scenario.is_absolute() else pipeline.project_path(scenario)
    as_of_date = data.as_of_day(as_of)
    console.rule("1/8 warehouse")
    db_start()
    console.rule("2/8 generate and load the demo organisation")
    planned = run_generator(
        GeneratorOptions(seed=seed, scale=scale, scenario=load_scenario(scenario_path), as_of=as_of_date)
    ).ground_truth()
    truth_path = get_settings().home / "ground_truth.json"
    previous = json.loads(truth_path.read_text()) if truth_path.is_file() else None
    replace = (
        fresh
        or previous is None
        or pipeline.organisation_signature(previous) != pipeline.organisation_signature(planned)
    )
    url = warehouse_db.database_url()
    if replace:
        with warehouse_db.connect(url) as conn:
            deleted = purge_source(conn, "synthetic")
        if any(deleted.values()):
            console.print(
                f"replaced the previous synthetic organisation ({sum(deleted.values()):,} documents)"
            )
    data.generate(
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
    console.rule("3/8 dbt build")
    _build_and_verify(pipeline.demo_build_args(as_of_date, full_refresh=replace), url)
    console.rule("4/8 summary")
    summary()
    if approve_planted:
        console.rule("5/8 approve the planted intervention")
        _approve_planted(planned, as_of_date, url)
    if dashboards:
        console.rule("6/8 dashboards")
        _dashboards(url)
    if apps:
        console.rule("7/8 investigation tools")
        _apps(url)
    if report:
        console.rule("8/8 weekly report")
        _report(url)


def _apps(url: str) -> None:
    """Serve the Streamlit investigation tools in the background and print where."""
    from heimdall.cli.apps import start_apps_server

    address = start_apps_server(warehouse_url=url)
    console.print(
        f"[bold]Investigation tools:[/] {address}  (`heimdall apps stop` stops them)", soft_wrap=True
    )


def _report(url: str) -> None:
    """Write the weekly report of the last complete week before the build's as_of; print its files."""
    from reports import write_weekly_report

    written = write_weekly_report(url, progress=lambda message: console.print(f"  {message}"))
    for kind, path in written.files.items():
        console.print(f"[bold]Weekly report {written.week} ({kind}):[/] {path}", soft_wrap=True)


def _approve_planted(truth: dict, as_of_date: date, url: str) -> None:
    """Record the scenario's planted approvals (insights.recommendations.decide, the code path of
    `heimdall recommendations approve`), then rebuild and verify so the outcome is in the marts."""
    from heimdall.planted import planted_approvals, record_planted_approvals

    with warehouse_db.connect(url) as conn:
        result = record_planted_approvals(conn, truth)
    skipped = dict((approval, reason) for approval, reason in result.skipped)
    for approval in planted_approvals(truth):
        if approval in skipped:
            console.print(f"not approved: {approval.recommendation_id}: {skipped[approval]}", soft_wrap=True)
            continue
        state = "recorded" if approval in result.recorded else "already recorded"
        console.print(
            f"{state}: approve {approval.recommendation_id} from {approval.start.isoformat()} "
            f"--by {approval.decided_by!r}",
            soft_wrap=True,
        )
    if result.recorded:
        _build_and_verify(pipeline.demo_build_args(as_of_date, full_refresh=False), url)


def _dashboards(url: str) -> None:
    """Provision Superset (idempotent) and serve it in the background; print where and how to log in."""
    from heimdall.cli.superset import public_url, report_provisioning, serve_in_background
    from heimdall.superset import runtime
    from heimdall.superset.provision import provision
    from warehouse.settings import get_superset_settings

    settings, superset = get_settings(), get_superset_settings()
    result = provision(settings, superset, url)
    report_provisioning(result)
    found = runtime.secrets(settings, superset)
    serve_in_background(
        settings,
        superset,
        runtime.environment(settings, superset, found, url),
        host=superset.host,
        port=superset.port,
    )
    password = (
        found.admin_password
        if result.admin_password
        else f"(in {runtime.state_dir(settings) / 'admin_password'}, or HEIMDALL_SUPERSET_ADMIN_PASSWORD)"
    )
    console.print(
        f"[bold]Dashboards:[/] {public_url(superset, superset.host, superset.port)}/dashboard/list/  "
        f"[bold]login:[/] {superset.admin_username} {password}  (`heimdall superset stop` stops it)",
        soft_wrap=True,
    )
