"""The end-of-pipeline summary: mart row counts, the headline numbers and the top recommendations."""

from __future__ import annotations

from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table


def mart_row_counts(conn: psycopg.Connection) -> list[tuple[str, int]]:
    names = conn.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
    ).fetchall()
    counts = []
    for (name,) in names:
        count = conn.execute(f'select count(*) from marts."{name}"').fetchone()[0]  # type: ignore[index]
        counts.append((name, int(count)))
    return counts


def headline_numbers(conn: psycopg.Connection) -> list[tuple[str, str, Any]]:
    """(label, meaning, value) of each headline, as ``marts.rpt_headline_metrics`` defines them."""
    if not _exists(conn, "marts.rpt_headline_metrics"):
        return []
    rows = conn.execute(
        "select label, meaning, value from marts.rpt_headline_metrics order by display_order"
    ).fetchall()
    return [(label, meaning, value) for label, meaning, value in rows]


def build_status(conn: psycopg.Connection) -> dict[str, Any] | None:
    """The latest build run (``marts.rpt_build_runs``), or None before the first recorded build."""
    if not _exists(conn, "marts.rpt_build_runs"):
        return None
    cursor = conn.execute("select * from marts.rpt_build_runs where is_latest_run")
    columns = [column.name for column in cursor.description or ()]
    row = cursor.fetchone()
    return dict(zip(columns, row, strict=True)) if row else None


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    found = conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()
    return bool(found and found[0])


def print_build_status(conn: psycopg.Connection, console: Console) -> None:
    latest = build_status(conn)
    if latest is None:
        return
    if latest["build_status"] == "succeeded":
        console.print(
            f"last build: [green]succeeded[/] at {latest['started_at']:%Y-%m-%d %H:%M} UTC"
            + (f" (as_of {latest['as_of']:%Y-%m-%d %H:%M})" if latest["as_of"] else "")
        )
        return
    since = latest["last_succeeded_at"]
    console.print(
        f"[bold red]last build {latest['build_status']}[/] at {latest['started_at']:%Y-%m-%d %H:%M} UTC: "
        f"{latest['stale_model_count']} models not refreshed "
        f"({', '.join([*latest['models_failed'], *latest['models_skipped']][:8]) or 'none listed'}); "
        + (
            f"the marts below are from the build of {since:%Y-%m-%d %H:%M} UTC"
            if since
            else "no build has succeeded yet"
        )
    )


def print_summary(conn: psycopg.Connection, console: Console) -> None:
    print_build_status(conn, console)
    counts = Table(title="marts")
    counts.add_column("model")
    counts.add_column("rows", justify="right")
    for name, count in mart_row_counts(conn):
        counts.add_row(f"marts.{name}", f"{count:,}")
    console.print(counts)

    headlines = Table(title="headline numbers")
    headlines.add_column("metric")
    headlines.add_column("value", justify="right")
    headlines.add_column("meaning")
    for label, unit, value in headline_numbers(conn):
        headlines.add_row(label, "—" if value is None else str(value), unit)
    console.print(headlines)
    print_top_recommendations(conn, console)
    console.print(
        "Where next: metric definitions in docs/metrics.md; explore with `heimdall db psql` "
        "(schemas raw, staging, intermediate, marts, app); dbt docs with "
        "`heimdall build docs generate`."
    )


def top_recommendations(conn: psycopg.Connection, limit: int = 5) -> list[dict[str, Any]]:
    """The costliest current recommendations (fct_recommendations), or [] before the first build."""
    if not _exists(conn, "marts.fct_recommendations"):
        return []
    cursor = conn.execute(
        "select rank, recommendation_id, team_id, title, hours_lost_per_week, weekly_value, "
        "hourly_cost_currency, status from marts.fct_recommendations where is_currently_diagnosed "
        "order by rank limit %s",
        (limit,),
    )
    columns = [column.name for column in cursor.description or ()]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def print_top_recommendations(conn: psycopg.Connection, console: Console) -> None:
    rows = top_recommendations(conn)
    if not rows:
        return
    table = Table(title="top recommendations (current window)")
    numeric = ("#", "hours lost / week", "value / week")
    for column in ("#", "id", "intervention", *numeric[1:], "status"):
        table.add_column(column, justify="right" if column in numeric else "left")
    for row in rows:
        table.add_row(
            str(row["rank"]),
            row["recommendation_id"],
            row["title"],
            f"{row['hours_lost_per_week']:.1f}",
            f"{row['weekly_value']:,.0f} {row['hourly_cost_currency']}",
            row["status"],
        )
    console.print(table)
    console.print("Details and approval: `heimdall recommendations show ID` (docs/metrics.md, Diagnosis).")
