"""Orchestration shared by the commands: get the warehouse ready, build and verify, the demo's plan.

No terminal output here: functions return what happened and raise :class:`~warehouse.errors.HeimdallError`
subclasses; the CLI prints.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warehouse import db as warehouse_db
from warehouse.build_runs import BuildOutcome, finish_run, read_outcome, run_results_path, start_run
from warehouse.dbt_runner import DbtError, run_dbt
from warehouse.dbt_vars import cli_vars, effective_vars, vars_args, with_defaults
from warehouse.errors import HeimdallError
from warehouse.migrate import migrate
from warehouse.settings import PROJECT_ROOT, Settings

# dbt arguments that build part of the project: verification then does not run.
SELECTION_FLAGS = ("-s", "--select", "--exclude", "-m", "--models", "--selector", "--resource-type")


@dataclass(frozen=True)
class ReadyWarehouse:
    url: str
    applied_migrations: list[str] = field(default_factory=list)


def ready_warehouse(settings: Settings | None = None) -> ReadyWarehouse:
    """Start (embedded) or reach the warehouse and apply pending migrations."""
    url = warehouse_db.database_url(settings)
    with warehouse_db.connect(url) as conn:
        applied = migrate(conn)
    return ReadyWarehouse(url, applied)


def settings_vars(settings: Settings) -> dict[str, Any]:
    """Build vars that come from Heimdall's settings (environment), passed to dbt unless --vars sets them."""
    values: dict[str, Any] = {}
    if settings.roi_baseline_weeks is not None:
        values["roi_baseline_weeks"] = settings.roi_baseline_weeks
    for var, value in jira_field_overrides(settings).items():
        values[var] = value
    return values


def jira_field_overrides(settings: Settings) -> dict[str, str]:
    """Jira custom-field ids set in the environment, as the dbt vars that read those fields."""
    fields = {
        "jira_sprint_field": settings.jira.sprint_field,
        "jira_flagged_field": settings.jira.flagged_field,
        "jira_team_field": settings.jira.team_field,
    }
    return {var: value for var, value in fields.items() if value}


def dbt_build_args(args: Sequence[str]) -> list[str]:
    """`heimdall build [args]`: no arguments = `dbt build`; options alone are `dbt build` options."""
    result = list(args) or ["build"]
    if result[0].startswith("-"):
        result = ["build", *result]
    return result


def is_whole_project_build(args: Sequence[str]) -> bool:
    return bool(args) and args[0] == "build" and not any(a.split("=")[0] in SELECTION_FLAGS for a in args)


@dataclass(frozen=True)
class BuildResult:
    verified: int | None  # approved interventions verified; None when verification did not run
    vars: dict[str, Any]
    outcome: BuildOutcome = field(default_factory=BuildOutcome)


class BuildFailed(DbtError):
    """dbt failed: the message names the models that failed or were skipped (their marts are stale)."""


def build_and_verify(args: Sequence[str], url: str, settings: Settings) -> BuildResult:
    """Run dbt; after a whole-project ``build``, recompute the intervention outcomes (Python statistics on
    the fresh marts, with the same build vars) and rebuild the mart that reads them.

    Builds and runs are recorded in ``app.build_runs`` (live in ``marts.rpt_build_runs``): a failed build
    says which models it could not refresh, so stale marts never look current.
    """
    dbt_args = with_defaults(args, settings_vars(settings))
    values = effective_vars(dbt_args, settings.dbt_project_dir)
    whole = is_whole_project_build(dbt_args)
    if not dbt_args or dbt_args[0] not in ("build", "run"):
        run_dbt(dbt_args, url, settings)
        return BuildResult(None, values)
    with warehouse_db.connect(url) as conn:
        run_id = start_run(conn, dbt_args=dbt_args, whole_project=whole, as_of=values.get("as_of"))
        started = datetime.now(UTC)
        outcome = BuildOutcome()
        try:
            try:
                run_dbt(dbt_args, url, settings)
            finally:
                outcome = read_outcome(run_results_path(settings), since=started)
            verified = _verify(dbt_args, url, settings, values) if whole else None
        except HeimdallError as exc:
            finish_run(conn, run_id, outcome, error=str(exc))
            raise BuildFailed(_failure_message(exc, outcome)) from exc
        finish_run(conn, run_id, outcome)
    return BuildResult(verified, values, outcome)


def _verify(dbt_args: Sequence[str], url: str, settings: Settings, values: dict[str, Any]) -> int:
    from insights.verification import run_after_build

    verified = run_after_build(
        url,
        baseline_weeks=int(values["roi_baseline_weeks"]),
        resamples=settings.bootstrap_resamples,
        build_vars=values,
    )
    if verified:
        given = cli_vars(dbt_args)
        run_dbt(
            ["build", "--select", "stg_analysis__intervention_outcomes+", *vars_args(given)], url, settings
        )
    return verified


def _failure_message(error: Exception, outcome: BuildOutcome) -> str:
    lines = [str(error)]
    if outcome.failed:
        lines.append(f"models that failed: {', '.join(sorted(outcome.failed))}")
    if outcome.tests_failed:
        lines.append(f"tests that failed: {', '.join(sorted(outcome.tests_failed))}")
    if outcome.skipped:
        lines.append(
            f"{len(outcome.skipped)} models skipped, their marts keep the previous build's data: "
            + ", ".join(sorted(outcome.skipped))
        )
    lines.append("app.build_runs / marts.rpt_build_runs record this build as failed")
    return "\n".join(lines)


def verification_baseline_weeks(settings: Settings) -> int:
    """The ROI baseline a build without --vars uses (the same value `heimdall build` passes to dbt)."""
    values = {**effective_vars([], settings.dbt_project_dir), **settings_vars(settings)}
    return int(values["roi_baseline_weeks"])


def demo_build_args(as_of: Any, *, full_refresh: bool) -> list[str]:
    args = ["build", *vars_args(as_of=as_of)]
    return [*args, "--full-refresh"] if full_refresh else args


def organisation_signature(truth: dict[str, Any]) -> str:
    """What identifies a generated organisation: its options, as-of date and scenario."""
    return json.dumps(
        {key: truth.get(key) for key in ("options", "as_of", "scenario", "effects", "interventions")},
        sort_keys=True,
        default=str,
    )


def project_path(relative: Path) -> Path:
    """A path given relative to the working directory, else to the project checkout."""
    candidate = Path.cwd() / relative
    return candidate if candidate.exists() else PROJECT_ROOT / relative
