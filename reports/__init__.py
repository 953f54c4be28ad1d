"""The weekly delivery report (issue 14): Markdown, self-contained HTML and PDF from the marts, with charts
and a deterministic, data-driven executive summary. docs/report.md describes it.

Modules: ``queries`` (all SQL; marts only), ``summary`` (the wording rules, pure functions), ``charts``
(matplotlib), ``render`` (Jinja templates in ``templates/``, WeasyPrint), ``weeks`` (ISO weeks) and ``weekly``
(``write_weekly_report``, the entry point of the CLI and the demo)."""

from __future__ import annotations

from reports.weekly import FORMATS, WrittenReport, parse_formats, write_weekly_report
from reports.weeks import ReportError

__all__ = ["FORMATS", "ReportError", "WrittenReport", "parse_formats", "write_weekly_report"]
