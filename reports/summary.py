"""The executive summary's wording rules: pure functions from the marts' numbers to sentences (no language
model, no randomness: the same numbers always give the same words). The rules are documented in
docs/report.md ("Executive summary: wording rules") and tested on hand-computed inputs.

A *movement* compares a metric's week with the week before:

* metrics in % move by percentage points: below 1 pp is **flat**, 1 pp up to 5 pp **slightly**, 5 pp or more
  **sharply**;
* every other metric moves by its relative change: below 5 % is flat, 5 % up to 20 % slightly, 20 % or more
  sharply;
* a figure on a thin sample (this week or the week before) or without a value is not compared.

Better or worse follows the metric's direction (throughput and deployments up, everything else down).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

FLAT_PP = 1.0
SHARP_PP = 5.0
FLAT_PCT = 0.05
SHARP_PCT = 0.20
# Metrics printed as whole numbers (counts); every other metric is printed with one decimal.
COUNT_METRICS = frozenset({"throughput", "deployment_frequency"})
STRENGTH_WEIGHT = {"sharply": 2, "slightly": 1, "flat": 0}


@dataclass(frozen=True)
class Movement:
    """One metric's week-over-week movement."""

    metric_name: str
    label: str
    unit: str
    value: Decimal
    previous_value: Decimal
    delta: Decimal
    strength: str  # flat | slightly | sharply
    direction: str  # improved | worsened | unchanged
    size: float  # the change divided by its "sharply" threshold: comparable across units

    @property
    def weight(self) -> int:
        return STRENGTH_WEIGHT[self.strength]


@dataclass(frozen=True)
class Risk:
    """The primary risk: why it was chosen (``rule``) and the sentence."""

    rule: str
    sentence: str


def fmt_value(value: Any, unit: str, metric_name: str = "") -> str:
    """A mart value as the report prints it: ``—`` when missing, counts as integers, % with the sign."""
    if value is None:
        return "—"
    text = _digits(Decimal(str(value)), metric_name)
    return f"{text}%" if unit == "%" else text


def fmt_delta(delta: Any, unit: str, metric_name: str = "") -> str:
    """A change with its sign (a minus sign, not a hyphen, when negative): ``+8.8 pp`` for % metrics,
    ``+1.6`` otherwise, ``—`` when missing."""
    if delta is None:
        return "—"
    number = Decimal(str(delta))
    text = _digits(abs(number), metric_name)
    sign = "+" if number > 0 else ("−" if number < 0 else "±")
    return f"{sign}{text} pp" if unit == "%" else f"{sign}{text}"


def _digits(number: Decimal, metric_name: str) -> str:
    """One decimal; counts without one unless the value has a fraction (a median of counts)."""
    if metric_name in COUNT_METRICS and number == number.to_integral_value():
        return f"{number:,.0f}"
    return f"{number:,.1f}"


def with_unit(text: str, unit: str) -> str:
    """``12.0`` + ``days`` -> ``12.0 days``; % is already part of the value."""
    if text == "—" or unit == "%":
        return text
    return f"{text} {unit}"


def strength_of(delta: float, delta_pct: float | None, unit: str) -> tuple[str, float]:
    """(flat | slightly | sharply, size) of a change: % metrics by percentage points, the others by the
    relative change; ``size`` is the change over its "sharply" threshold."""
    if unit == "%":
        change, flat, sharp = abs(delta), FLAT_PP, SHARP_PP
    else:
        if delta_pct is None:  # from zero: any change is sharp, none is flat
            return ("flat", 0.0) if delta == 0 else ("sharply", float("inf"))
        change, flat, sharp = abs(delta_pct), FLAT_PCT, SHARP_PCT
    if change < flat:
        return "flat", change / sharp
    if change < sharp:
        return "slightly", change / sharp
    return "sharply", change / sharp


def movement(row: Mapping[str, Any]) -> Movement | None:
    """The row's movement, or None when it cannot be compared (a missing value, a thin sample)."""
    if row.get("value") is None or row.get("previous_value") is None:
        return None
    if row.get("is_thin_sample") or row.get("is_previous_thin_sample"):
        return None
    value, previous = Decimal(str(row["value"])), Decimal(str(row["previous_value"]))
    delta = value - previous
    delta_pct = None if previous == 0 else float(delta / abs(previous))
    strength, size = strength_of(float(delta), delta_pct, row["unit"])
    if strength == "flat":
        direction = "unchanged"
    else:
        direction = "improved" if (delta > 0) == bool(row["higher_is_better"]) else "worsened"
    return Movement(
        row["metric_name"], row["label"], row["unit"], value, previous, delta, strength, direction, size
    )


def movements(rows: Sequence[Mapping[str, Any]]) -> list[Movement]:
    return [found for row in rows if (found := movement(row)) is not None]


def overall_verdict(moves: Sequence[Movement]) -> str:
    """improved | degraded | mixed | steady: the sum of +weight (improved) and -weight (worsened), weight 2
    for a sharp and 1 for a slight movement; >= 2 improved, <= -2 degraded, otherwise mixed when metrics moved
    both ways and steady when they did not."""
    score = sum(m.weight if m.direction == "improved" else -m.weight for m in moves if m.strength != "flat")
    if score >= 2:
        return "improved"
    if score <= -2:
        return "degraded"
    better = any(m.direction == "improved" for m in moves)
    worse = any(m.direction == "worsened" for m in moves)
    return "mixed" if better and worse else "steady"


def largest_movements(moves: Sequence[Movement], limit: int = 2) -> list[Movement]:
    """The non-flat movements, sharp before slight, then by size; ties by metric name (deterministic)."""
    moving = [m for m in moves if m.strength != "flat"]
    return sorted(moving, key=lambda m: (-m.weight, -m.size, m.metric_name))[:limit]


def describe(m: Movement) -> str:
    """``rework rate rose sharply (4.2% → 13.0%, +8.8 pp, worse)``."""
    verb = "rose" if m.delta > 0 else "fell"
    before = with_unit(fmt_value(m.previous_value, m.unit, m.metric_name), m.unit)
    after = with_unit(fmt_value(m.value, m.unit, m.metric_name), m.unit)
    change = fmt_delta(m.delta, m.unit, m.metric_name)
    if m.unit != "%" and m.previous_value != 0:
        change = f"{float(m.delta / abs(m.previous_value)):+.0%}".replace("-", "−")
    judgement = "better" if m.direction == "improved" else "worse"
    return f"{_lower_label(m.label)} {verb} {m.strength} ({before} → {after}, {change}, {judgement})"


def worsening(m: Movement) -> str:
    """``rework rate, up sharply to 13.0% (8-week context in the table)``: the risk's short form."""
    direction = "up" if m.delta > 0 else "down"
    after = with_unit(fmt_value(m.value, m.unit, m.metric_name), m.unit)
    return f"{_lower_label(m.label)}, {direction} {m.strength} to {after}"


def primary_risk(
    rows: Sequence[Mapping[str, Any]],
    moves: Sequence[Movement],
    unescalated_count: int,
    worst_unescalated: Mapping[str, Any] | None = None,
) -> Risk:
    """The first rule that applies, in this order:

    1. ``dora_low``: a DORA key in the *low* band this week (the first in display order);
    2. ``sharp_worsening``: the largest sharp worsening;
    3. ``unescalated_blockers``: blocked items that waited past the escalation threshold unescalated;
    4. ``slight_worsening``: the largest slight worsening;
    5. ``none``.
    """
    for row in rows:
        if row.get("dora_band") == "low" and row.get("value") is not None:
            value = with_unit(fmt_value(row["value"], row["unit"], row["metric_name"]), row["unit"])
            return Risk("dora_low", f"{row['label']} is in the DORA low band ({value}){_thin(row)}.")
    worsened = [m for m in largest_movements(moves, limit=len(moves)) if m.direction == "worsened"]
    sharp = [m for m in worsened if m.strength == "sharply"]
    if sharp:
        return Risk("sharp_worsening", f"{_upper_first(worsening(sharp[0]))}.")
    if unescalated_count > 0:
        worst = ""
        if worst_unescalated:
            worst = (
                f"; the longest, {worst_unescalated['issue_key']}, was blocked "
                f"{float(worst_unescalated['unescalated_hours']):.0f} hours without escalation"
            )
        items = "item was" if unescalated_count == 1 else "items were"
        return Risk("unescalated_blockers", f"{unescalated_count} blocked {items} not escalated{worst}.")
    if worsened:
        return Risk("slight_worsening", f"{_upper_first(worsening(worsened[0]))}.")
    return Risk("none", "None stands out: nothing worsened and no blocker waited unescalated.")


def recommended_action(recommendation: Mapping[str, Any] | None, team_names: Mapping[str, str]) -> str:
    """The costliest currently diagnosed recommendation, with the hours at stake and its evidence count."""
    if recommendation is None:
        return "No bottleneck is diagnosed in the current window, so no intervention is recommended."
    team = team_names.get(recommendation["team_id"], recommendation["team_id"])
    hours = float(recommendation["hours_lost_per_week"] or 0)
    evidence = int(recommendation["evidence_count"] or 0)
    cost = (
        f"about {hours:.0f} engineer-hours a week are lost on {evidence} evidence items"
        if recommendation["hours_lost_per_week"] is not None
        else f"{evidence} evidence items"
    )
    if recommendation["status"] == "approved":
        return (
            f"Keep going with “{recommendation['title']}” for {team} (approved, started "
            f"{recommendation['intervention_start_date']}): {cost}."
        )
    return f"{recommendation['title']} for {team}: {cost}. {recommendation['action']}".rstrip()


def executive_summary(
    *,
    scope_name: str,
    week_label: str,
    rows: Sequence[Mapping[str, Any]],
    unescalated_count: int,
    worst_unescalated: Mapping[str, Any] | None,
    recommendation: Mapping[str, Any] | None,
    team_names: Mapping[str, str],
) -> list[str]:
    """The summary's sentences: verdict, largest movements, primary risk, recommended action (and which
    figures were left out for thin samples)."""
    if not rows or all(row.get("value") in (None, 0) for row in rows):
        return [
            f"No delivery activity was recorded for {scope_name} in {week_label}: there is nothing to "
            "compare, so the figures below are empty."
        ]
    by_name = {row["metric_name"]: row for row in rows}
    moves = movements(rows)
    sentences: list[str] = []
    throughput = by_name.get("throughput")
    if throughput is not None and throughput.get("value") == 0:
        sentences.append(f"{scope_name} completed no work in {week_label}; the flow figures are empty.")
    verdict = overall_verdict(moves)
    better = sum(1 for m in moves if m.direction == "improved")
    worse = sum(1 for m in moves if m.direction == "worsened")
    opening = {
        "improved": f"Delivery improved in {week_label}",
        "degraded": f"Delivery degraded in {week_label}",
        "mixed": f"Delivery was mixed in {week_label}",
        "steady": f"Delivery held steady in {week_label}",
    }[verdict]
    sentences.append(
        f"{opening}: of {len(moves)} comparable metrics, {better} moved for the better and {worse} for the "
        f"worse against the week before."
    )
    largest = largest_movements(moves)
    if largest:
        sentences.append("Largest movements: " + "; ".join(describe(m) for m in largest) + ".")
    else:
        sentences.append("No metric moved beyond the flat band.")
    risk = primary_risk(rows, moves, unescalated_count, worst_unescalated)
    sentences.append(f"Primary risk: {_lower_first(risk.sentence)}")
    sentences.append(f"Recommended action: {_lower_first(recommended_action(recommendation, team_names))}")
    thin = [
        row["label"]
        for row in rows
        if row.get("value") is not None and (row.get("is_thin_sample") or row.get("is_previous_thin_sample"))
    ]
    if thin:
        names = ", ".join(_lower_label(label) for label in thin)
        sentences.append(f"Not compared (thin sample this week or the week before): {names}.")
    return sentences


def _thin(row: Mapping[str, Any]) -> str:
    return ", thin sample" if row.get("is_thin_sample") else ""


def _lower_label(label: str) -> str:
    """``Cycle time p50`` -> ``cycle time p50``; acronyms (CI, WIP) stay."""
    first, _, rest = label.partition(" ")
    if first.isupper() and len(first) > 1:
        return label
    return (first[:1].lower() + first[1:] + (" " + rest if rest else "")).strip()


def _lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    if len(first) > 1 and (first.isupper() or any(ch.isdigit() for ch in first) or first[1:2].isupper()):
        return text
    return text[:1].lower() + text[1:]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]
