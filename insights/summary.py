"""The end-of-pipeline summary: mart row counts, the headline numbers and the top recommendations."""

from __future__ import annotations

from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

# Each headline: (label, unit, SQL returning one value). Windows are the 28 days up to the latest
# completion in the data, so a demo generated "as of" some date reads the same whenever it is run.
HEADLINE_WINDOW = """
    with bounds as (
        select max(done_at) as window_end, max(done_at) - interval '28 days' as window_start
        from marts.fct_issue_lifecycle
    ),
    recent_done as (
        select l.*
        from marts.fct_issue_lifecycle as l
        cross join bounds as b
        where l.current_status_category = 'done'
          and l.done_at > b.window_start
          and l.done_at <= b.window_end
    )
"""

HEADLINES: tuple[tuple[str, str, str], ...] = (
    (
        "Throughput",
        "issues done / week (last 4 weeks)",
        HEADLINE_WINDOW + "select round(count(*) / 4.0, 1) from recent_done",
    ),
    (
        "Cycle time p50",
        "days (first start → last done, last 4 weeks)",
        HEADLINE_WINDOW
        + "select round((percentile_cont(0.5) within group (order by cycle_time_hours) / 24)::numeric, 1) "
        "from recent_done",
    ),
    (
        "WIP now",
        "issues in progress / review / waiting / blocked",
        "select count(*) from marts.fct_wip_current",
    ),
    (
        "Blocked share",
        "% of cycle time spent blocked (last 4 weeks)",
        HEADLINE_WINDOW
        + "select round((100 * sum(blocked_hours) / nullif(sum(cycle_time_hours), 0))::numeric, 1) "
        "from recent_done",
    ),
    (
        "Flow efficiency",
        "% of cycle time actively worked, median (last 4 weeks)",
        HEADLINE_WINDOW
        + "select round((100 * percentile_cont(0.5) within group (order by flow_efficiency))::numeric, 1) "
        "from recent_done where flow_efficiency is not null",
    ),
    (
        "Review pickup p50",
        "working hours, MR ready → first review (last 4 weeks, bots excluded)",
        HEADLINE_WINDOW + "select round(percentile_cont(0.5) within group "
        "(order by m.review_pickup_working_hours)::numeric, 1) "
        "from marts.fct_merge_requests as m cross join bounds as b "
        "where not m.is_bot_author and m.ready_at > b.window_start and m.ready_at <= b.window_end",
    ),
    (
        "Deployments",
        "successful production deployments / week (last 4 weeks)",
        HEADLINE_WINDOW + "select round(count(distinct coalesce(d.pipeline_id, d.deployment_id)) / 4.0, 1) "
        "from marts.fct_deployments as d cross join bounds as b "
        "where d.is_production and d.is_successful and d.deployed_at > b.window_start "
        "and d.deployed_at <= b.window_end",
    ),
    (
        "Change failure rate",
        "% of production deployments followed by an attributed incident (last 4 weeks)",
        HEADLINE_WINDOW
        + "select round((100.0 * count(*) filter (where d.has_incident) / nullif(count(*), 0))::numeric, 1) "
        "from marts.fct_deployments as d cross join bounds as b "
        "where d.is_production and d.is_successful and d.deployed_at > b.window_start "
        "and d.deployed_at <= b.window_end",
    ),
)


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
    return [(label, unit, conn.execute(query).fetchone()[0]) for label, unit, query in HEADLINES]  # type: ignore[index]


def print_summary(conn: psycopg.Connection, console: Console) -> None:
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
    exists = conn.execute("select to_regclass('marts.fct_recommendations') is not null").fetchone()
    if not exists or not exists[0]:
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
