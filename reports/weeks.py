"""ISO weeks: ``2026-W46`` <-> its Monday, and the default week of a report."""

from __future__ import annotations

import re
from datetime import date, timedelta

from warehouse.errors import HeimdallError

_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")


class ReportError(HeimdallError):
    """The report cannot be written as asked (a bad week, an unknown team, a warehouse without the marts)."""


def parse_week(text: str) -> date:
    """``2026-W46`` (or ``2026W46``) -> the Monday of that ISO week."""
    match = _ISO_WEEK.match(text.strip().upper())
    if not match:
        raise ReportError(f"--week {text!r}: expected an ISO week such as 2026-W46")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ReportError(f"--week {text!r}: {year} has no ISO week {week}") from None


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def last_complete_week(as_of: date) -> date:
    """The Monday of the last ISO week that ended on or before ``as_of`` (its last day included)."""
    return week_start(as_of + timedelta(days=1)) - timedelta(weeks=1)
