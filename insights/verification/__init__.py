"""Intervention verification: statistics in Python, written back to the warehouse for dbt.

Rules: docs/metrics.md, "Intervention outcomes (verification)".
"""

from __future__ import annotations

from datetime import date

from insights.verification.outcomes import VerificationError, compute_outcomes
from warehouse import db as warehouse_db

__all__ = ["VerificationError", "compute_outcomes", "run_after_build"]


def run_after_build(url: str, *, baseline_weeks: int, resamples: int, as_of: date | None = None) -> int:
    """Recompute analysis.intervention_outcomes after a dbt build; returns the number of approved
    interventions verified (each has an outcome per metric it watches: its watched metric and any guard).

    ``baseline_weeks`` must be the ``roi_baseline_weeks`` var the build used (see warehouse.dbt_vars), so
    the verification and ``fct_roi_comparison`` compare the same windows.
    """
    with warehouse_db.connect(url) as conn:
        rows = compute_outcomes(conn, as_of, baseline_weeks=baseline_weeks, resamples=resamples)
    return len({row["recommendation_id"] for row in rows})
