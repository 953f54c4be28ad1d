"""Build variables: one set of values reaches dbt and the Python steps that run after it.

dbt reads its vars from ``dbt_project.yml`` and ``--vars``; the verification step (Python) must use the
same values, e.g. ``roi_baseline_weeks`` and ``as_of``. Everything that passes vars to dbt builds the
argument with :func:`vars_args`, and everything that needs a var's value after a build asks
:func:`effective_vars` with the same dbt arguments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import yaml

from warehouse.errors import UsageError


def as_of_value(day: date | datetime | str) -> str:
    """The ``as_of`` var for a day (its last second, UTC) or an exact timestamp (ISO 8601)."""
    if isinstance(day, str):
        day = datetime.fromisoformat(day) if "T" in day or " " in day else date.fromisoformat(day)
    if isinstance(day, datetime):
        moment = day if day.tzinfo else day.replace(tzinfo=UTC)
    else:
        moment = datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
    return moment.isoformat()


def vars_args(values: Mapping[str, Any] | None = None, **more: Any) -> list[str]:
    """``["--vars", "<json>"]`` for dbt; an ``as_of`` date or datetime is written with :func:`as_of_value`."""
    merged = {**(values or {}), **more}
    if merged.get("as_of") is not None:
        merged["as_of"] = as_of_value(merged["as_of"])
    return ["--vars", json.dumps(merged, sort_keys=True, default=str)]


def project_vars(dbt_project_dir: Path) -> dict[str, Any]:
    """The ``vars:`` block of ``dbt_project.yml`` (the defaults)."""
    try:
        project = yaml.safe_load((dbt_project_dir / "dbt_project.yml").read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read {dbt_project_dir / 'dbt_project.yml'}: {exc}") from exc
    found = project.get("vars") or {}
    return dict(found) if isinstance(found, dict) else {}


def cli_vars(args: Sequence[str]) -> dict[str, Any]:
    """The values given with ``--vars`` (YAML or JSON, as dbt accepts them) in dbt arguments."""
    values: dict[str, Any] = {}
    for index, arg in enumerate(args):
        if arg == "--vars" and index + 1 < len(args):
            text = args[index + 1]
        elif arg.startswith("--vars="):
            text = arg.split("=", 1)[1]
        else:
            continue
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise UsageError(f"--vars is not valid YAML/JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise UsageError(f'--vars must be a mapping like \'{{"as_of": "2026-11-20"}}\', got {text!r}')
        values.update(parsed)
    return values


def with_defaults(args: Sequence[str], defaults: Mapping[str, Any]) -> list[str]:
    """``args`` whose ``--vars`` also carry ``defaults`` (values the user gave win)."""
    if not defaults:
        return list(args)
    given = cli_vars(args)
    rest: list[str] = []
    skip = False
    for index, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg == "--vars" and index + 1 < len(args):
            skip = True
            continue
        if arg.startswith("--vars="):
            continue
        rest.append(arg)
    return [*rest, *vars_args({**defaults, **given})]


def effective_vars(args: Sequence[str], dbt_project_dir: Path) -> dict[str, Any]:
    """The vars a dbt run with ``args`` sees: the project's defaults overridden by ``--vars``."""
    return {**project_vars(dbt_project_dir), **cli_vars(args)}


def jira_field_ids(
    sprint: str | None, flagged: str | None, team: str | None, dbt_project_dir: Path
) -> dict[str, str]:
    """The Jira custom-field ids the connector must fetch: the settings where given, else the dbt vars dbt
    reads them with (``jira_sprint_field``, ``jira_flagged_field``, ``jira_team_field``)."""
    defaults = project_vars(dbt_project_dir)
    return {
        "sprint": sprint or str(defaults.get("jira_sprint_field", "customfield_10020")),
        "flagged": flagged or str(defaults.get("jira_flagged_field", "customfield_10021")),
        "team": team or str(defaults.get("jira_team_field", "customfield_10001")),
    }
