"""The executive summary's wording rules (reports/summary.py, docs/report.md) on hand-computed inputs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from reports import summary


def row(
    metric: str, value: Any, previous: Any, *, unit: str = "days", better: bool = False, **extra: Any
) -> dict:
    return {
        "metric_name": metric,
        "label": extra.pop("label", metric.replace("_", " ").capitalize()),
        "unit": unit,
        "higher_is_better": better,
        "value": None if value is None else Decimal(str(value)),
        "previous_value": None if previous is None else Decimal(str(previous)),
        "is_thin_sample": extra.pop("thin", False),
        "is_previous_thin_sample": extra.pop("previous_thin", False),
        "dora_band": extra.pop("band", None),
        **extra,
    }


@pytest.mark.parametrize(
    ("delta", "delta_pct", "unit", "expected"),
    [
        (0.4, 0.04, "days", "flat"),  # 4 % < 5 %
        (0.5, 0.05, "days", "slightly"),  # 5 % is the first "slightly"
        (1.9, 0.19, "days", "slightly"),
        (2.0, 0.20, "days", "sharply"),  # 20 % is the first "sharply"
        (-3.0, -0.5, "issues", "sharply"),
        (0.9, 0.5, "%", "flat"),  # % metrics move by points: 0.9 pp is flat however large relatively
        (1.0, 0.01, "%", "slightly"),
        (4.9, 0.9, "%", "slightly"),
        (-5.0, -0.2, "%", "sharply"),
        (3.0, None, "minutes", "sharply"),  # from zero: any change is sharp
        (0.0, None, "minutes", "flat"),
    ],
)
def test_strength_thresholds(delta: float, delta_pct: float | None, unit: str, expected: str) -> None:
    assert summary.strength_of(delta, delta_pct, unit)[0] == expected


def test_movement_direction_follows_the_metric() -> None:
    # cycle time 5.0 -> 6.5 days: +30 %, lower is better -> worsened sharply
    up = summary.movement(row("cycle_time_p50", 6.5, 5.0))
    assert up is not None and (up.strength, up.direction) == ("sharply", "worsened")
    # throughput 40 -> 44: +10 %, higher is better -> improved slightly
    more = summary.movement(row("throughput", 44, 40, unit="issues", better=True))
    assert more is not None and (more.strength, more.direction) == ("slightly", "improved")
    # blocked share 20.0 % -> 20.5 %: 0.5 pp -> flat, unchanged
    flat = summary.movement(row("blocked_share", 20.5, 20.0, unit="%"))
    assert flat is not None and (flat.strength, flat.direction) == ("flat", "unchanged")


def test_thin_or_missing_figures_are_not_compared() -> None:
    assert summary.movement(row("recovery_time", 14.2, 7.1, unit="hours", thin=True)) is None
    assert summary.movement(row("recovery_time", 14.2, 7.1, unit="hours", previous_thin=True)) is None
    assert summary.movement(row("cycle_time_p50", None, 5.0)) is None
    assert summary.movement(row("cycle_time_p50", 5.0, None)) is None


def test_overall_verdict_weights_sharp_twice() -> None:
    sharp_better = summary.movement(row("cycle_time_p50", 4.0, 5.0))  # -20 %: sharply better (+2)
    slight_worse = summary.movement(row("rework_rate", 12.0, 10.0, unit="%"))  # +2 pp: slightly worse (-1)
    slight_better = summary.movement(row("throughput", 44, 40, unit="issues", better=True))  # +1
    assert sharp_better and slight_worse and slight_better
    assert summary.overall_verdict([sharp_better]) == "improved"  # +2
    assert summary.overall_verdict([sharp_better, slight_worse]) == "mixed"  # +1, both ways
    assert summary.overall_verdict([slight_better]) == "steady"  # +1, one way only
    assert summary.overall_verdict([slight_worse, slight_worse]) == "degraded"  # -2
    assert summary.overall_verdict([]) == "steady"


def test_largest_movements_rank_sharp_first_then_size() -> None:
    moves = summary.movements(
        [
            row("cycle_time_p50", 5.5, 5.0),  # +10 %: slightly, size 0.5
            row("rework_rate", 16.0, 4.0, unit="%"),  # +12 pp: sharply, size 2.4
            row("ci_retry_waste", 50.0, 100.0, unit="minutes"),  # -50 %: sharply, size 2.5
            row("wip", 30.0, 30.3, unit="issues"),  # -1 %: flat
        ]
    )
    assert [m.metric_name for m in summary.largest_movements(moves)] == ["ci_retry_waste", "rework_rate"]
    assert [m.metric_name for m in summary.largest_movements(moves, limit=5)] == [
        "ci_retry_waste",
        "rework_rate",
        "cycle_time_p50",
    ]


def test_describe_a_movement() -> None:
    move = summary.movement(row("rework_rate", 13.0, 4.2, unit="%", label="Rework rate"))
    assert move is not None
    assert summary.describe(move) == "rework rate rose sharply (4.2% → 13.0%, +8.8 pp, worse)"
    move = summary.movement(row("ci_retry_waste", 107.4, 223.3, unit="minutes", label="CI retry waste"))
    assert move is not None
    assert (
        summary.describe(move) == "CI retry waste fell sharply (223.3 minutes → 107.4 minutes, −52%, better)"
    )


def test_primary_risk_order() -> None:
    low_band = row("change_failure_rate", 20.0, 19.5, unit="%", band="low", label="Change failure rate")
    sharp = row("cycle_time_p50", 6.5, 5.0, label="Cycle time p50")
    slight = row(
        "throughput", 36, 40, unit="issues", better=True, label="Throughput"
    )  # -10 %: slightly worse
    worst = {"issue_key": "PAY-1", "unescalated_hours": Decimal("73.6")}

    def risk(rows: list[dict], unescalated: int = 0) -> summary.Risk:
        return summary.primary_risk(
            rows, summary.movements(rows), unescalated, worst if unescalated else None
        )

    assert risk([sharp, low_band], unescalated=3).rule == "dora_low"
    assert risk([low_band]).sentence == "Change failure rate is in the DORA low band (20.0%)."
    assert risk([sharp, slight], unescalated=3).rule == "sharp_worsening"
    assert risk([slight], unescalated=3).sentence == (
        "3 blocked items were not escalated; the longest, PAY-1, was blocked 74 hours without escalation."
    )
    assert risk([slight]).rule == "slight_worsening"
    assert risk([slight]).sentence == "Throughput, down slightly to 36 issues."
    assert risk([sharp]).sentence == "Cycle time p50, up sharply to 6.5 days."
    assert risk([]).rule == "none"


def test_recommended_action_wording() -> None:
    teams = {"payments": "Payments"}
    rec = {
        "team_id": "payments",
        "title": "Escalate blocked work after one day",
        "action": "Raise it at stand-up.",
        "hours_lost_per_week": Decimal("34.28"),
        "evidence_count": 26,
        "status": "proposed",
        "intervention_start_date": None,
    }
    assert summary.recommended_action(rec, teams) == (
        "Escalate blocked work after one day for Payments: about 34 engineer-hours a week are lost on 26 "
        "evidence items. Raise it at stand-up."
    )
    assert summary.recommended_action(
        {**rec, "status": "approved", "intervention_start_date": "2026-08-29"}, teams
    )
    assert "no intervention is recommended" in summary.recommended_action(None, teams)


def test_executive_summary_sentences() -> None:
    rows = [
        row("throughput", 44, 40, unit="issues", better=True, label="Throughput"),  # slightly better
        row("cycle_time_p50", 4.0, 5.0, label="Cycle time p50"),  # sharply better
        row("rework_rate", 10.5, 10.0, unit="%", label="Rework rate"),  # flat
        row("recovery_time", 9.0, 2.0, unit="hours", thin=True, label="Failed deployment recovery p50"),
    ]
    sentences = summary.executive_summary(
        scope_name="the organisation",
        week_label="2026-W46",
        rows=rows,
        unescalated_count=0,
        worst_unescalated=None,
        recommendation=None,
        team_names={},
    )
    assert sentences == [
        "Delivery improved in 2026-W46: of 3 comparable metrics, 2 moved for the better and 0 for the worse "
        "against the week before.",
        "Largest movements: cycle time p50 fell sharply (5.0 days → 4.0 days, −20%, better); throughput rose "
        "slightly (40 issues → 44 issues, +10%, better).",
        "Primary risk: none stands out: nothing worsened and no blocker waited unescalated.",
        "Recommended action: no bottleneck is diagnosed in the current window, so no intervention is "
        "recommended.",
        "Not compared (thin sample this week or the week before): failed deployment recovery p50.",
    ]


def test_empty_week_and_team_without_completed_work() -> None:
    empty = [row("throughput", 0, 0, unit="issues", better=True), row("cycle_time_p50", None, None)]
    (sentence,) = summary.executive_summary(
        scope_name="Checkout",
        week_label="2026-W15",
        rows=empty,
        unescalated_count=0,
        worst_unescalated=None,
        recommendation=None,
        team_names={},
    )
    assert sentence.startswith("No delivery activity was recorded for Checkout in 2026-W15")
    idle = [row("throughput", 0, 3, unit="issues", better=True), row("wip", 4.0, 4.0, unit="issues")]
    sentences = summary.executive_summary(
        scope_name="Checkout",
        week_label="2026-W15",
        rows=idle,
        unescalated_count=0,
        worst_unescalated=None,
        recommendation=None,
        team_names={},
    )
    assert sentences[0] == "Checkout completed no work in 2026-W15; the flow figures are empty."
    assert not any("nan" in sentence.lower() or "None" in sentence for sentence in sentences)


def test_number_formats() -> None:
    assert summary.fmt_value(Decimal("46.0"), "issues", "throughput") == "46"
    assert summary.fmt_value(Decimal("16.4"), "%") == "16.4%"
    assert summary.fmt_value(None, "%") == "—"
    assert summary.fmt_delta(Decimal("-2.4"), "%") == "−2.4 pp"
    assert summary.fmt_delta(Decimal("1.3"), "days") == "+1.3"
    assert summary.fmt_delta(Decimal("0"), "issues", "throughput") == "±0"
    assert summary.fmt_value(Decimal("21.5"), "per week", "deployment_frequency") == "21.5"
