"""The end-of-pipeline summary: mart row counts and the five headline numbers."""

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
    console.print(
        "Where next: metric definitions in docs/metrics.md; explore with `heimdall db psql` "
        "(schemas raw, staging, intermediate, marts, app); dbt docs with "
        "`heimdall build docs generate`."
    )
