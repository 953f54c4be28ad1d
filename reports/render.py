"""Rendering: the Jinja templates in reports/templates/ to Markdown and self-contained HTML (charts inlined as
data URIs, CSS inline, no external resource), and the HTML to PDF with WeasyPrint."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reports import summary
from reports.charts import CHARTS
from reports.weeks import week_label
from warehouse.settings import PROJECT_ROOT

TEMPLATES = Path(__file__).resolve().parent / "templates"


def investigator_link(apps_url: str, *, issue: str | None = None, team: str | None = None) -> str:
    """Deep link into the Issue Investigator (``?issue=KEY`` or ``?team=slug``)."""
    if issue is not None:
        return f"{apps_url}/?issue={quote(issue, safe='')}"
    return f"{apps_url}/?team={quote(team or '', safe='')}"


def marker(row: Mapping[str, Any]) -> str:
    """▲ / ▼ for the direction of the change, = when unchanged, blank when not comparable."""
    delta = row.get("delta")
    if delta is None:
        return ""
    return "▲" if delta > 0 else ("▼" if delta < 0 else "=")


def tone(row: Mapping[str, Any]) -> str:
    """good | bad | flat: the change judged by the metric's direction (the HTML colours it)."""
    found = summary.movement(row)
    if found is None or found.direction == "unchanged":
        return "flat"
    return "good" if found.direction == "improved" else "bad"


def risk_reason(row: Mapping[str, Any]) -> str:
    """Why an open item is risky, from the columns behind fct_wip_current.risk_score."""
    reasons = []
    if row.get("age_percentile") is not None:
        reasons.append(f"older than {float(row['age_percentile']):.0%} of the team's done work")
    if row.get("blocked_hours"):
        reasons.append(f"blocked {float(row['blocked_hours']):.0f} h")
    if row.get("is_flagged"):
        reasons.append("flagged")
    if row.get("has_assignee") is False:
        reasons.append("unassigned")
    return "; ".join(reasons) or "—"


def fmt_number(value: Any, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "—"
    return f"{float(value):,.{digits}f}{suffix}"


def fmt_pct(value: Any, digits: int = 0) -> str:
    """A 0-1 share as a signed percentage (``-60%``)."""
    if value is None:
        return "—"
    return f"{float(value) * 100:+.{digits}f}%".replace("-", "−")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        value=lambda row: summary.fmt_value(row["value"], row["unit"], row["metric_name"]),
        previous=lambda row: summary.fmt_value(row["previous_value"], row["unit"], row["metric_name"]),
        median=lambda row: summary.fmt_value(row["median_8w"], row["unit"], row["metric_name"]),
        delta=lambda row: summary.fmt_delta(row["delta"], row["unit"], row["metric_name"]),
        number=fmt_number,
        pct=fmt_pct,
        marker=marker,
        tone=tone,
        risk_reason=risk_reason,
        md_cell=lambda text: str(text).replace("|", "\\|").replace("\n", " "),
    )
    env.globals.update(investigator_link=investigator_link, chart_titles=CHARTS)
    return env


def _context(data: Mapping[str, Any], chart_refs: Mapping[str, str]) -> dict[str, Any]:
    metric_names = [row["metric_name"] for row in data["metrics"]]
    labels = {row["metric_name"]: (row["label"], row["unit"]) for row in data["metrics"]}
    team_cells = {
        team["team_id"]: {row["metric_name"]: row for row in team["rows"]} for team in data["teams"]
    }
    return {
        **data,
        "charts": chart_refs,
        "metric_names": metric_names,
        "first_week_label": week_label(data["window"]["first_week"]),
        "last_week_label": week_label(data["window"]["last_week"]),
        "metric_labels": labels,
        "team_cells": team_cells,
        "has_thin": any(row["is_thin_sample"] for row in data["metrics"])
        or any(row["is_thin_sample"] for team in data["teams"] for row in team["rows"]),
    }


def markdown(data: Mapping[str, Any], chart_files: Mapping[str, Path], folder: Path) -> str:
    """The report as Markdown; charts are linked relative to the Markdown file's folder."""
    refs = {name: Path(os.path.relpath(path, folder)).as_posix() for name, path in chart_files.items()}
    docs = Path(os.path.relpath(PROJECT_ROOT / "docs", folder)).as_posix()
    return _environment().get_template("report.md.j2").render(docs=docs, **_context(data, refs))


def html(data: Mapping[str, Any], chart_files: Mapping[str, Path]) -> str:
    """The report as one self-contained HTML document (charts inlined as PNG data URIs)."""
    refs = {
        name: "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
        for name, path in chart_files.items()
    }
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return _environment().get_template("report.html.j2").render(css=css, **_context(data, refs))


def pdf(document: str, path: Path) -> Path:
    """Render the HTML to an A4 PDF with WeasyPrint (the page layout is in report.css's @page rules)."""
    from weasyprint import HTML

    HTML(string=document, base_url=str(TEMPLATES)).write_pdf(path)
    return path
