"""The demo's planted decisions: a scenario plants interventions (e.g. a review SLO for checkout from week
16);
the demo records their approval the way a manager would (`heimdall recommendations approve`, through
``insights.recommendations.decide``), so the verification has something to verify and the dashboards show a
verified outcome. Dates and names come from the generator's ground truth, never from code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg

from insights.recommendations import RecommendationError, decide, decision_history

# The diagnosis rule that names the bottleneck a knob plants (the knob an intervention turns back): one
# mapping for the demo's approvals, the ground-truth tests and bench/diagnosis_accuracy.py.
RULE_OF_KNOB = {
    "review_pickup_multiplier": "slow_review_pickup",
    "review_duration_multiplier": "long_review",
    "ci_flaky_rate": "ci_retry_waste",
    "ci_failure_rate": "high_ci_failure_rate",
    "blocked_probability": "blocked_not_escalated",
    "blocked_duration_multiplier": "blocked_not_escalated",
    "unlinked_work_rate": "unlinked_work",
    "sprint_overcommit_ratio": "sprint_overcommitment",
    "deploy_delay_multiplier": "slow_deploy_after_merge",
    "arrival_rate_multiplier": "wip_overload",
    # causes (docs/generator.md): the bottleneck each one shows as
    "reviewer_capacity": "slow_review_pickup",
    "vendor_block_rate": "blocked_not_escalated",
    "unplanned_work_rate": "sprint_overcommitment",
}
# The other rules a knob's effect really moves (side effects of the cause, neither right nor wrong to diagnose
# while it lasts): blocked and interrupted work leaves more items in progress, reviewers leaving lengthen
# reviews too.
SIDE_EFFECTS_OF_KNOB: dict[str, tuple[str, ...]] = {
    "blocked_probability": ("wip_overload",),
    "blocked_duration_multiplier": ("wip_overload",),
    "reviewer_capacity": ("long_review", "wip_overload"),
    "vendor_block_rate": ("wip_overload",),
    "unplanned_work_rate": ("wip_overload",),
}


@dataclass(frozen=True)
class PlantedApproval:
    recommendation_id: str
    start: date
    decided_by: str
    note: str


def planted_approvals(truth: dict[str, Any]) -> list[PlantedApproval]:
    """One approval per planted intervention whose knob a diagnosis rule watches."""
    scenario = (truth.get("scenario") or {}).get("name") or "unnamed"
    approvals = []
    for intervention in truth.get("interventions") or []:
        rule = RULE_OF_KNOB.get(intervention["knob"])
        if rule is None:
            continue
        approvals.append(
            PlantedApproval(
                recommendation_id=f"{intervention['team']}:{rule}",
                start=date.fromisoformat(intervention["start_date"]),
                decided_by=f"{scenario} scenario (planted {intervention['id']}, start week "
                f"{intervention['from_week']})",
                note=f"recorded by `heimdall demo`: {intervention.get('description') or intervention['id']}",
            )
        )
    return approvals


@dataclass(frozen=True)
class RecordedApprovals:
    recorded: list[PlantedApproval]  # recorded now (none on a re-run)
    skipped: list[tuple[PlantedApproval, str]]  # not recordable, with the reason (e.g. never diagnosed)


def record_planted_approvals(conn: psycopg.Connection, truth: dict[str, Any]) -> RecordedApprovals:
    """Approve each planted intervention unless its latest decision already is this approval."""
    recorded: list[PlantedApproval] = []
    skipped: list[tuple[PlantedApproval, str]] = []
    for approval in planted_approvals(truth):
        history = decision_history(conn, approval.recommendation_id)
        latest = history[-1] if history else None
        if (
            latest is not None
            and latest["decision"] == "approved"
            and latest["intervention_start_date"] == approval.start
            and latest["decided_by"] == approval.decided_by
        ):
            continue
        try:
            decide(
                conn,
                approval.recommendation_id,
                "approved",
                decided_by=approval.decided_by,
                note=approval.note,
                start=approval.start,
            )
        except RecommendationError as exc:  # e.g. the planted bottleneck was never diagnosed
            skipped.append((approval, str(exc)))
            continue
        recorded.append(approval)
    return RecordedApprovals(recorded, skipped)
