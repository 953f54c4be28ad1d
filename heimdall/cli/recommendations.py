"""`heimdall recommendations ...` and `heimdall verify`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from heimdall.cli._output import console, parse_date
from insights.recommendations import (
    decide,
    decision_history,
    evidence,
    get_recommendation,
    list_recommendations,
)
from warehouse import db as warehouse_db

app = typer.Typer(
    help="Diagnosed bottlenecks' recommended interventions: list, inspect, approve or reject.",
    no_args_is_help=True,
)


def _num(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{float(value):,.{digits}f}"


@app.command("list")
def list_command(
    include_all: Annotated[
        bool, typer.Option("--all", help="Also recommendations that no longer fire but have a decision.")
    ] = False,
) -> None:
    """Current recommendations, costliest first."""
    with warehouse_db.connect() as conn:
        rows = list_recommendations(conn, include_all=include_all)
    if not rows:
        console.print("No diagnosis fires in the current window: nothing to recommend.")
        return
    table = Table(title="recommendations")
    for column in ("#", "id", "team", "intervention", "severity", "h lost/wk", "value/wk", "status"):
        table.add_column(column, justify="right" if column in ("#", "h lost/wk", "value/wk") else "left")
    for row in rows:
        value = (
            "—"
            if row["weekly_value"] is None
            else f"{_num(row['weekly_value'], 0)} {row['hourly_cost_currency']}"
        )
        table.add_row(
            str(row["rank"]),
            row["recommendation_id"],
            row["team_id"],
            row["title"] or "",
            row["severity"] or "—",
            _num(row["hours_lost_per_week"]),
            value,
            row["status"],
        )
    console.print(table)


@app.command("show")
def show_command(
    recommendation_id: Annotated[str, typer.Argument(help="e.g. checkout:slow_review_pickup")],
) -> None:
    """Everything about one recommendation: action, evidence, ROI assumptions, decisions."""
    with warehouse_db.connect() as conn:
        row = get_recommendation(conn, recommendation_id)
        items = evidence(conn, row["diagnosis_id"])
        decisions = decision_history(conn, recommendation_id)
    console.rule(f"{row['recommendation_id']} — {row['title']}")
    console.print(
        f"[bold]Status:[/] {row['status']}  [bold]Team:[/] {row['team_id']}  [bold]Rule:[/] {row['rule_id']}"
    )
    console.print(f"[bold]Action:[/] {row['action']}")
    console.print(f"[bold]Watch:[/] {row['metric_name']} — expected: {row['expected_effect']}")
    if row.get("guard_metric_name"):
        console.print(f"[bold]Guard:[/] {row['guard_metric_name']} — verified beside it; it must not worsen")
    console.print(
        f"[bold]Now:[/] {_num(row['current_value'], 2)} against threshold {_num(row['threshold_value'], 2)} "
        f"(organisation {_num(row['baseline_value'], 2)}); severity {row['severity'] or '—'}"
    )
    console.print(
        f"[bold]ROI:[/] {_num(row['hours_lost_per_week'])} h/week lost, "
        f"{_num(row['hours_recovered_per_week'])} h/week expected back = "
        f"{_num(row['weekly_value'], 0)} {row['hourly_cost_currency']}/week"
    )
    console.print(f"[bold]Assumptions:[/] {row['assumptions']}")
    if items:
        table = Table(title=f"evidence (worst {len(items)} of {row['evidence_count']})")
        for column in ("item", "when", "value", "link"):
            table.add_column(column)
        for item in items:
            table.add_row(
                item["item_label"] or "",
                str(item["observed_at"])[:16],
                _num(item["value"], 2),
                item["item_url"] or "",
            )
        console.print(table)
    if decisions:
        table = Table(title="decisions (latest last)")
        for column in ("#", "decision", "by", "at", "start", "note"):
            table.add_column(column)
        for decision in decisions:
            table.add_row(
                str(decision["decision_id"]),
                decision["decision"],
                decision["decided_by"],
                str(decision["decided_at"])[:16],
                str(decision["intervention_start_date"] or ""),
                decision["note"] or "",
            )
        console.print(table)


@app.command("approve")
def approve_command(
    recommendation_id: Annotated[str, typer.Argument(help="e.g. checkout:slow_review_pickup")],
    start: Annotated[str, typer.Option("--start", help="Intervention start date, YYYY-MM-DD.")],
    by: Annotated[str, typer.Option("--by", help="Who approves.")],
    note: Annotated[Optional[str], typer.Option("--note", help="Why, or how it will be run.")] = None,
) -> None:
    """Approve a recommendation (a new decision row; earlier decisions are kept)."""
    _decide(recommendation_id, "approved", by=by, note=note, start=parse_date(start, "--start"))


@app.command("reject")
def reject_command(
    recommendation_id: Annotated[str, typer.Argument(help="e.g. checkout:slow_review_pickup")],
    by: Annotated[str, typer.Option("--by", help="Who rejects.")],
    note: Annotated[str, typer.Option("--note", help="Why it is rejected.")],
) -> None:
    """Reject a recommendation (a new decision row; earlier decisions are kept)."""
    _decide(recommendation_id, "rejected", by=by, note=note, start=None)


def _decide(
    recommendation_id: str, decision: str, *, by: str, note: Optional[str], start: Optional[date]
) -> None:
    with warehouse_db.connect() as conn:
        recorded = decide(conn, recommendation_id, decision, decided_by=by, note=note, start=start)
    console.print(
        f"recorded decision {recorded.decision_id}: {recommendation_id} {decision}"
        + (f" from {start.isoformat()}" if start else "")
        + ". The marts show it after the next `heimdall build`; `heimdall verify` measures the effect."
    )


def verify_command(
    as_of: Annotated[
        Optional[str], typer.Option(help="Last day of the current window (default: the last build's as_of).")
    ] = None,
) -> None:
    """Verify approved interventions: the change with its interval, difference-in-differences, power and
    verdict."""
    from heimdall.pipeline import verification_baseline_weeks
    from insights.verification import compute_outcomes
    from warehouse.settings import get_settings

    settings = get_settings()
    day = parse_date(as_of, "--as-of") if as_of else None
    with warehouse_db.connect() as conn:
        rows = compute_outcomes(
            conn,
            day,
            baseline_weeks=verification_baseline_weeks(settings),
            resamples=settings.bootstrap_resamples,
        )
    if not rows:
        console.print(
            "No approved intervention to verify (`heimdall recommendations approve ID --start ...`)."
        )
        return
    table = Table(title="intervention outcomes (analysis.intervention_outcomes)")
    for column in (
        "recommendation",
        "metric",
        "before → after",
        "change % [95% CI]",
        "DiD [95% CI]",
        "n",
        "verdict",
    ):
        table.add_column(column)
    for row in rows:
        pct = (
            "—"
            if row["change_pct"] is None
            else f"{100 * row['change_pct']:+.0f}% "
            f"[{_pct(row['change_pct_ci_low'])}, {_pct(row['change_pct_ci_high'])}]"
        )
        did = (
            "—"
            if row["did_estimate"] is None
            else f"{row['did_estimate']:+.2f} [{_num(row['did_ci_low'], 2)}, {_num(row['did_ci_high'], 2)}]"
        )
        metric = row["metric_name"] + (" (guard)" if row.get("metric_role") == "guard" else "")
        table.add_row(
            row["recommendation_id"],
            metric,
            f"{_num(row['treated_before'], 2)} → {_num(row['treated_after'], 2)}",
            pct,
            did,
            f"{row['treated_n_before']}/{row['treated_n_after']}",
            row["verdict"],
        )
    console.print(table)
    for row in rows:
        console.print(f"[bold]{row['recommendation_id']} · {row['metric_name']}:[/] {row['verdict_basis']}")
    for row in rows:
        if row.get("metric_role") == "guard" and row["verdict"] == "worsened":
            console.print(
                f"[bold yellow]{row['recommendation_id']}:[/] its guard {row['metric_name']} worsened: "
                "the watched metric's change may come at that cost (docs/metrics.md, verification)."
            )


def _pct(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):+.0f}%"
