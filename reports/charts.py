"""The report's charts: matplotlib (Agg, no display), PNG at print resolution, sized for half or full A4
width. Each function plots numbers it is given (read from the marts by reports.queries) and returns the
file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from reports.weeks import week_label

DPI = 150
BLUE, ORANGE, GREY, RED = "#1f5f99", "#d9822b", "#8a8f98", "#b03a2e"
STATUS_COLOURS = {
    "in_progress": BLUE,
    "review": "#4c9bd6",
    "waiting": ORANGE,
    "blocked": RED,
}
# A chart's file name (without the stem) and the title printed above it.
CHARTS = {
    "throughput_cycle_time": "Throughput and cycle time, 12 weeks",
    "wip_by_status": "Open work by status category (as of the data)",
    "review_pickup": "Review pickup, 4 weeks to the report week",
    "ci_health": "CI failure rate and retry waste, 12 weeks",
}


def _style() -> None:
    plt.rcParams.update(
        {
            "font.family": "DejaVu Sans",
            "font.size": 8,
            "axes.titlesize": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.color": "#e3e5e8",
            "grid.linewidth": 0.6,
            "legend.frameon": False,
            "legend.fontsize": 7.5,
            "axes.axisbelow": True,
        }
    )


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Fixed metadata: the same numbers give the same bytes (the committed sample is compared).
    fig.savefig(path, dpi=DPI, metadata={"Software": None}, bbox_inches="tight", pad_inches=0.05)
    plt.close(fig)
    return path


def _series(history: Sequence[Mapping[str, Any]], metric: str) -> tuple[list[str], list[float | None]]:
    rows = [row for row in history if row["metric_name"] == metric]
    labels = [week_label(row["week_start_date"]).split("-")[1] for row in rows]
    values = [None if row["value"] is None else float(row["value"]) for row in rows]
    return labels, values


def _gaps(values: Sequence[float | None]) -> list[float]:
    """A line's values with missing weeks as gaps (NaN breaks the line)."""
    return [value if value is not None else float("nan") for value in values]


def _finish_second_axis(ax: Any, ax2: Any, label: str, *, legend_columns: int) -> None:
    """The right-hand axis of a two-axis chart (from zero, no grid) and one legend for both axes below it."""
    ax2.set_ylabel(label)
    ax2.set_ylim(bottom=0)
    ax2.grid(False)
    ax2.spines["right"].set_visible(True)
    handles, labels = ax.get_legend_handles_labels()
    handles2, labels2 = ax2.get_legend_handles_labels()
    ax.legend(
        handles + handles2,
        labels + labels2,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncol=legend_columns,
    )


def _no_data(ax: Any, message: str = "no data in this window") -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", color=GREY, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def throughput_cycle_time(history: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Bars: issues done per week; line: cycle time p50 and p85 (days), on a second axis."""
    _style()
    fig, ax = plt.subplots(figsize=(7.2, 2.6))
    labels, throughput = _series(history, "throughput")
    _, p50 = _series(history, "cycle_time_p50")
    _, p85 = _series(history, "cycle_time_p85")
    if not labels or all(value in (None, 0.0) for value in throughput):
        _no_data(ax)
        return _save(fig, path)
    positions = list(range(len(labels)))
    ax.bar(
        positions, [value or 0 for value in throughput], color=BLUE, alpha=0.35, label="throughput (issues)"
    )
    ax.set_ylabel("issues done")
    ax.set_xticks(positions, labels)
    ax.grid(axis="x", visible=False)
    ax2 = ax.twinx()
    ax2.plot(
        positions,
        _gaps(p50),
        color=BLUE,
        marker="o",
        markersize=3,
        linewidth=1.6,
        label="cycle time p50 (days)",
    )
    ax2.plot(
        positions,
        _gaps(p85),
        color=ORANGE,
        marker="o",
        markersize=3,
        linewidth=1.2,
        linestyle="--",
        label="cycle time p85 (days)",
    )
    _finish_second_axis(ax, ax2, "days", legend_columns=3)
    return _save(fig, path)


def wip_by_status(rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Horizontal bars: open items per status category."""
    _style()
    fig, ax = plt.subplots(figsize=(3.5, 2.3))
    if not rows:
        _no_data(ax, "no open work")
        return _save(fig, path)
    names = [str(row["status_category"]).replace("_", " ") for row in rows][::-1]
    counts = [int(row["items"]) for row in rows][::-1]
    colours = [STATUS_COLOURS.get(str(row["status_category"]), GREY) for row in rows][::-1]
    bars = ax.barh(names, counts, color=colours)
    ax.bar_label(bars, padding=2, fontsize=7.5)
    ax.set_xlabel("open items")
    ax.grid(axis="y", visible=False)
    ax.margins(x=0.15)
    return _save(fig, path)


def review_pickup(values: Sequence[float], p50: float | None, path: Path) -> Path:
    """Histogram of review pickup (working hours) with the week's median marked."""
    _style()
    fig, ax = plt.subplots(figsize=(3.5, 2.3))
    if not values:
        _no_data(ax, "no reviewed merge requests")
        return _save(fig, path)
    top = max(values)
    bins = [edge * max(top, 1.0) / 12 for edge in range(13)]
    ax.hist(values, bins=bins, color=BLUE, alpha=0.75, edgecolor="white")
    if p50 is not None:
        ax.axvline(p50, color=RED, linewidth=1.2, label=f"report week p50 = {p50:.1f} h")
        ax.legend(loc="upper right")
    ax.set_xlabel("working hours, ready → first review")
    ax.set_ylabel("merge requests")
    ax.grid(axis="x", visible=False)
    return _save(fig, path)


def ci_health(history: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Line: CI failure rate (%); bars: retry waste (minutes), on a second axis."""
    _style()
    fig, ax = plt.subplots(figsize=(7.2, 2.4))
    labels, failure = _series(history, "ci_failure_rate")
    _, waste = _series(history, "ci_retry_waste")
    if not labels or all(value is None for value in failure):
        _no_data(ax)
        return _save(fig, path)
    positions = list(range(len(labels)))
    ax.bar(
        positions, [value or 0 for value in waste], color=ORANGE, alpha=0.35, label="retry waste (minutes)"
    )
    ax.set_ylabel("minutes retried")
    ax.set_xticks(positions, labels)
    ax.grid(axis="x", visible=False)
    ax2 = ax.twinx()
    ax2.plot(
        positions,
        _gaps(failure),
        color=RED,
        marker="o",
        markersize=3,
        linewidth=1.6,
        label="failure rate (%)",
    )
    _finish_second_axis(ax, ax2, "% of finished pipelines", legend_columns=2)
    return _save(fig, path)


def render_all(data: Mapping[str, Any], folder: Path, stem: str) -> dict[str, Path]:
    """Every chart of the report into ``folder`` as ``<stem>_<name>.png``."""
    history = data["history"]
    pickup_row = next((row for row in data["metrics"] if row["metric_name"] == "review_pickup_p50"), None)
    p50 = float(pickup_row["value"]) if pickup_row and pickup_row["value"] is not None else None
    return {
        "throughput_cycle_time": throughput_cycle_time(history, folder / f"{stem}_throughput_cycle_time.png"),
        "wip_by_status": wip_by_status(data["wip_by_status"], folder / f"{stem}_wip_by_status.png"),
        "review_pickup": review_pickup(data["review_pickups"], p50, folder / f"{stem}_review_pickup.png"),
        "ci_health": ci_health(history, folder / f"{stem}_ci_health.png"),
    }
