"""The weekly delivery report: read the marts for one ISO week and one scope (the organisation or a team),
then write Markdown, self-contained HTML and PDF with their charts. ``write_weekly_report`` is the one entry
point (the CLI and the demo call it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from reports import charts, queries, render, summary
from reports.weeks import ReportError, last_complete_week, parse_week, week_label
from warehouse.settings import PROJECT_ROOT

FORMATS = ("md", "html", "pdf")
DEFAULT_OUT = PROJECT_ROOT / "reports" / "out"


@dataclass(frozen=True)
class WrittenReport:
    """What ``write_weekly_report`` wrote: the folder, each format's file and the charts."""

    folder: Path
    week: str
    files: dict[str, Path]
    charts: dict[str, Path]


def parse_formats(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"md,pdf"`` -> ``("md", "pdf")``; an unknown format is an error naming the known ones."""
    items = [part.strip().lower() for part in (text.split(",") if isinstance(text, str) else text)]
    items = [item for item in items if item]
    unknown = [item for item in items if item not in FORMATS]
    if unknown or not items:
        raise ReportError(f"--format {','.join(unknown) or text!r}: choose from {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(items))


def resolve_week(window: dict[str, Any], week: str | date | None, as_of: date | None) -> date:
    """The report's Monday: ``week`` when given, else the last complete ISO week before ``as_of`` (default:
    the build's as_of day). A week outside the data is an error that names the data window."""
    first_week, last_week = window.get("first_week"), window.get("last_week")
    if first_week is None or last_week is None:
        raise ReportError(
            "the warehouse has no data (marts.dim_dates is empty): load data and `heimdall build`"
        )
    if isinstance(as_of, datetime):  # the demo may pass its as_of timestamp
        as_of = as_of.date()
    if isinstance(week, datetime):
        week = week.date()
    if week is None:
        day = as_of or window.get("as_of_day") or window["last_day"]
        monday = last_complete_week(day)
        if monday < first_week:  # less than one complete week of data: report the partial week
            monday = first_week
    else:
        monday = parse_week(week) if isinstance(week, str) else week - timedelta(days=week.weekday())
    if not first_week <= monday <= last_week:
        raise ReportError(
            f"week {week_label(monday)} is outside the data window: the marts hold {week_label(first_week)} "
            f"to {week_label(last_week)} ({window['first_day']} to {window['last_day']})"
        )
    return monday


def collect(
    conn: psycopg.Connection,
    *,
    week: str | date | None = None,
    team: str | None = None,
    as_of: date | None = None,
    apps_url: str = "http://127.0.0.1:8501",
) -> dict[str, Any]:
    """Everything the templates print, read from the marts (reports.queries) plus the summary's sentences."""
    missing = queries.missing_marts(conn)
    if missing:
        raise ReportError(
            "the warehouse lacks the marts the report reads ("
            + ", ".join(missing)
            + "): run `heimdall build`"
        )
    window = queries.data_window(conn)
    monday = resolve_week(window, week, as_of)
    team_rows = queries.teams(conn)
    team_names = {row["team_id"]: row["team_name"] for row in team_rows}
    if team is not None and team not in team_names:
        known = ", ".join(sorted(team_names)) or "none"
        raise ReportError(f"--team {team!r}: no such team (teams: {known})")
    scope_name = team_names[team] if team else "the organisation"
    metrics = queries.week_metrics(conn, monday, team)
    unescalated = queries.unescalated_blockers(conn, monday, team)
    recommendation = queries.top_recommendation(conn, team)
    label = week_label(monday)
    per_team: dict[str, list[dict[str, Any]]] = {}
    for row in queries.team_week_metrics(conn, monday):
        if team is None or row["team_id"] == team:
            per_team.setdefault(row["team_id"], []).append(row)
    columns = [
        {"team_id": team_id, "team_name": team_names.get(team_id, team_id), "rows": rows}
        for team_id, rows in sorted(per_team.items(), key=lambda item: team_names.get(item[0], item[0]))
    ]
    if team is not None:  # a team's report compares the team with the organisation
        columns.append(
            {"team_id": None, "team_name": "Organisation", "rows": queries.week_metrics(conn, monday, None)}
        )
    return {
        "week": label,
        "week_start": monday,
        "week_end": monday + timedelta(days=6),
        "team": team,
        "scope_name": scope_name,
        "title_scope": team_names[team] if team else "Organisation",
        "window": window,
        "metrics": metrics,
        "history": queries.metric_history(conn, monday, team),
        "teams": columns,
        "team_names": team_names,
        "wip_by_status": queries.wip_by_status(conn, team),
        "review_pickups": queries.review_pickups(conn, monday, team),
        "risk_items": queries.top_risk_items(conn, team),
        "unescalated": unescalated,
        "unlinked": queries.unlinked_work(conn, monday, team),
        "recommendation": recommendation,
        "team_recommendations": queries.recommendations_of_the_week(conn, team),
        "outcomes": queries.intervention_outcomes(conn, team),
        "freshness": queries.freshness(conn),
        "apps_url": apps_url.rstrip("/"),
        "summary": summary.executive_summary(
            scope_name=scope_name,
            week_label=label,
            rows=metrics,
            unescalated_count=unescalated["count"],
            worst_unescalated=unescalated["items"][0] if unescalated["items"] else None,
            recommendation=recommendation,
            team_names=team_names,
        ),
    }


def write_weekly_report(
    url: str,
    as_of: date | None = None,
    out_dir: Path | None = None,
    *,
    week: str | date | None = None,
    team: str | None = None,
    formats: Sequence[str] = FORMATS,
    apps_url: str | None = None,
    stem: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> WrittenReport:
    """Write the weekly report of ``week`` (default: the last complete ISO week before ``as_of``, itself
    defaulting to the build's as_of) for the organisation or ``team`` into ``out_dir`` (default
    ``reports/out/<week>/``): ``<stem>.md``, ``<stem>.html`` (images inlined), ``<stem>.pdf`` and the charts
    in ``<stem>_charts/``. ``stem`` defaults to ``weekly_report`` (``weekly_report_<team>`` for a team)."""
    formats = parse_formats(formats)
    step = progress or (lambda _message: None)
    if apps_url is None:
        from warehouse.settings import get_apps_settings

        apps_url = get_apps_settings().url
    step("reading the marts")
    with psycopg.connect(url) as conn:
        data = collect(conn, week=week, team=team, as_of=as_of, apps_url=apps_url)
    folder = (out_dir or DEFAULT_OUT / data["week"]).resolve()
    stem = stem or ("weekly_report" if team is None else f"weekly_report_{team}")
    folder.mkdir(parents=True, exist_ok=True)
    step("drawing the charts")
    chart_files = charts.render_all(data, folder / f"{stem}_charts", stem)
    files: dict[str, Path] = {}
    if "md" in formats:
        step("writing Markdown")
        files["md"] = folder / f"{stem}.md"
        files["md"].write_text(render.markdown(data, chart_files, folder), encoding="utf-8")
    html = None
    if "html" in formats or "pdf" in formats:
        html = render.html(data, chart_files)
    if "html" in formats and html is not None:
        step("writing HTML")
        files["html"] = folder / f"{stem}.html"
        files["html"].write_text(html, encoding="utf-8")
    if "pdf" in formats and html is not None:
        step("rendering the PDF")
        files["pdf"] = folder / f"{stem}.pdf"
        render.pdf(html, files["pdf"])
    return WrittenReport(folder, data["week"], files, chart_files)
