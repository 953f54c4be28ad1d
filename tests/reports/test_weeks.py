"""ISO weeks and the default week of the report (pure functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from reports import ReportError, parse_formats
from reports.weekly import resolve_week
from reports.weeks import last_complete_week, parse_week, week_label

WINDOW = {
    "first_week": date(2026, 4, 6),
    "last_week": date(2026, 11, 16),
    "first_day": date(2026, 4, 8),
    "last_day": date(2026, 11, 20),
    "as_of_day": date(2026, 11, 20),
}


def test_iso_weeks() -> None:
    assert parse_week("2026-W46") == date(2026, 11, 9) and parse_week("2026w46") == date(2026, 11, 9)
    assert week_label(date(2026, 11, 9)) == "2026-W46"
    assert week_label(date(2027, 1, 4)) == "2027-W01" and week_label(date(2026, 12, 28)) == "2026-W53"
    with pytest.raises(ReportError, match="expected an ISO week"):
        parse_week("2026-11-09")
    with pytest.raises(ReportError, match="no ISO week 60"):
        parse_week("2026-W60")


@pytest.mark.parametrize(
    ("as_of", "monday"),
    [
        (date(2026, 11, 20), date(2026, 11, 9)),  # Friday: its week is not complete
        (date(2026, 11, 22), date(2026, 11, 16)),  # Sunday: its week is complete
        (date(2026, 11, 23), date(2026, 11, 16)),  # Monday
    ],
)
def test_last_complete_week(as_of: date, monday: date) -> None:
    assert last_complete_week(as_of) == monday


def test_resolve_week() -> None:
    assert resolve_week(WINDOW, None, None) == date(2026, 11, 9)  # the build's as_of day
    assert resolve_week(WINDOW, None, datetime(2026, 11, 22, 23, 59, tzinfo=UTC)) == date(2026, 11, 16)
    assert resolve_week(WINDOW, "2026-W15", None) == date(2026, 4, 6)
    assert resolve_week(WINDOW, date(2026, 4, 9), None) == date(2026, 4, 6)
    with pytest.raises(
        ReportError, match="2026-W48 is outside the data window: the marts hold 2026-W15 to 2026-W47"
    ):
        resolve_week(WINDOW, "2026-W48", None)
    with pytest.raises(ReportError, match="has no data"):
        resolve_week({"first_week": None, "last_week": None}, None, None)


def test_formats() -> None:
    assert parse_formats("md, PDF,md") == ("md", "pdf")
    assert parse_formats(["html"]) == ("html",)
    with pytest.raises(ReportError, match="choose from md, html, pdf"):
        parse_formats("docx")
    with pytest.raises(ReportError):
        parse_formats("")
