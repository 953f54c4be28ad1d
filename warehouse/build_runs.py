"""A record of every dbt build in ``app.build_runs``: a failed build never leaves old marts looking current.

dbt keeps the previous build's tables when a model fails or is skipped; readers (summary, dashboards, apps,
report) read ``marts.rpt_build_runs`` — a view, so it is live even when the build that should refresh the
marts failed — to say how fresh the marts are and which models the last build could not refresh.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from warehouse.settings import Settings


@dataclass(frozen=True)
class BuildOutcome:
    """What dbt did, from its ``run_results.json``."""

    built: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    tests_failed: list[str] = field(default_factory=list)


def run_results_path(settings: Settings) -> Path:
    """Where dbt wrote ``run_results.json`` (``DBT_TARGET_PATH`` or the project's ``target/``)."""
    target = os.environ.get("DBT_TARGET_PATH")
    base = Path(target) if target else settings.dbt_project_dir / "target"
    if not base.is_absolute():
        base = settings.dbt_project_dir / base
    return base / "run_results.json"


def read_outcome(path: Path, since: datetime | None = None) -> BuildOutcome:
    """Models built / failed / skipped and tests failed in the run that wrote ``path`` (an empty outcome when
    the file is missing or older than ``since``: dbt stopped before running anything)."""
    try:
        if since is not None and path.stat().st_mtime < since.timestamp():
            return BuildOutcome()
        results: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return BuildOutcome()
    outcome = BuildOutcome()
    for result in results.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        kind, _, rest = unique_id.partition(".")
        name = rest.split(".", 1)[-1] if rest else unique_id
        status = str(result.get("status", ""))
        if kind in ("model", "snapshot", "seed"):
            if status in ("success", "pass"):
                outcome.built.append(name)
            elif status == "skipped":
                outcome.skipped.append(name)
            elif status == "error":
                outcome.failed.append(name)
        elif kind in ("test", "unit_test") and status in ("fail", "error"):
            outcome.tests_failed.append(name)
    return outcome


def start_run(conn: psycopg.Connection, *, dbt_args: Sequence[str], whole_project: bool, as_of: Any) -> int:
    """Record a build starting; earlier runs still 'running' (killed) become 'interrupted'."""
    with conn.transaction():
        conn.execute(
            "update app.build_runs set status = 'interrupted', finished_at = clock_timestamp() "
            "where status = 'running'"
        )
        row = conn.execute(
            "insert into app.build_runs (is_whole_project, as_of, dbt_command) values (%s, %s, %s) "
            "returning build_run_id",
            (whole_project, as_of, "dbt " + " ".join(dbt_args)),
        ).fetchone()
    assert row is not None
    return int(row[0])


def finish_run(
    conn: psycopg.Connection, build_run_id: int, outcome: BuildOutcome, *, error: str | None = None
) -> None:
    status = "failed" if error or outcome.failed or outcome.skipped or outcome.tests_failed else "succeeded"
    with conn.transaction():
        conn.execute(
            "update app.build_runs set status = %s, finished_at = clock_timestamp(), models_built = %s, "
            "models_failed = %s, models_skipped = %s, tests_failed = %s, error = %s where build_run_id = %s",
            (
                status,
                sorted(outcome.built),
                sorted(outcome.failed),
                sorted(outcome.skipped),
                sorted(outcome.tests_failed),
                error,
                build_run_id,
            ),
        )
