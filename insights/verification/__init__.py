"""Intervention verification: statistics in Python, written back to the warehouse for dbt.

Rules: docs/metrics.md, "Intervention outcomes (verification)".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from insights.verification.outcomes import VerificationError, VerificationSettings, compute_outcomes
from warehouse import db as warehouse_db

__all__ = ["VerificationError", "VerificationSettings", "compute_outcomes", "run_after_build"]


def run_after_build(
    url: str,
    *,
    baseline_weeks: int,
    resamples: int,
    as_of: date | None = None,
    build_vars: Mapping[str, Any] | None = None,
) -> int:
    """Recompute analysis.intervention_outcomes after a dbt build; returns the number of approved
    interventions verified (each has an outcome per metric it watches: its watched metric and any guard).

    ``baseline_weeks`` must be the ``roi_baseline_weeks`` var the build used (see warehouse.dbt_vars), so
    the verification and ``fct_roi_comparison`` compare the same windows; ``build_vars`` (the build's
    effective vars) give ``verification_alpha`` and ``verification_power`` (default: dbt_project.yml's).
    """
    settings = VerificationSettings.from_vars(dict(build_vars) if build_vars is not None else None)
    with warehouse_db.connect(url) as conn:
        rows = compute_outcomes(
            conn, as_of, baseline_weeks=baseline_weeks, resamples=resamples, settings=settings
        )
    return len({row["recommendation_id"] for row in rows})
