"""Intervention verification: statistics in Python, written back to the warehouse for dbt.

Rules: docs/metrics.md, "Intervention outcomes (verification)".
"""

from __future__ import annotations

from datetime import date

from warehouse import db as warehouse_db
from warehouse.verification.outcomes import VerificationError, compute_outcomes

__all__ = ["VerificationError", "compute_outcomes", "run_after_build"]


def run_after_build(url: str, as_of: date | None = None) -> int:
    """Recompute analysis.intervention_outcomes after a dbt build; returns the number of outcomes."""
    from warehouse.settings import get_settings

    settings = get_settings()
    with warehouse_db.connect(url) as conn:
        rows = compute_outcomes(
            conn, as_of, baseline_weeks=settings.roi_baseline_weeks, resamples=settings.bootstrap_resamples
        )
    return len(rows)
