"""Time helpers: the data window, working hours and the source timestamp formats."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

UTC = dt.UTC
WORK_START_HOUR = 9
WORK_END_HOUR = 18
WORK_HOURS_PER_DAY = WORK_END_HOUR - WORK_START_HOUR


def fmt_jira(t: dt.datetime) -> str:
    """Jira REST timestamp: ``2026-03-05T09:12:44.000+0000``."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


def fmt_gitlab(t: dt.datetime) -> str:
    """GitLab REST timestamp: ``2026-03-05T09:12:44.123Z``."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def fmt_agile(t: dt.datetime) -> str:
    """Jira agile (sprint) timestamp: ``2026-03-05T09:00:00.000Z``."""
    return fmt_gitlab(t)


def parse_ts(s: str) -> dt.datetime:
    """Parse any of the formats above (for tests and consumers)."""
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    elif len(s) > 5 and s[-5] in "+-" and s[-3] != ":":
        s = s[:-2] + ":" + s[-2:]
    return dt.datetime.fromisoformat(s)


def at_hour(day: dt.date, hour: float) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC) + dt.timedelta(hours=hour)


def next_work_time(t: dt.datetime) -> dt.datetime:
    """The first working instant (Mon-Fri 09:00-18:00 UTC) at or after ``t``."""
    while True:
        if t.weekday() >= 5:
            t = at_hour(t.date() + dt.timedelta(days=7 - t.weekday()), WORK_START_HOUR)
            continue
        if t.hour < WORK_START_HOUR:
            return at_hour(t.date(), WORK_START_HOUR)
        if t.hour >= WORK_END_HOUR:
            t = at_hour(t.date() + dt.timedelta(days=1), WORK_START_HOUR)
            continue
        return t


def add_work_hours(t: dt.datetime, hours: float) -> dt.datetime:
    """Advance ``t`` by ``hours`` of working time (skipping nights and weekends)."""
    t = next_work_time(t)
    remaining = max(hours, 0.0) * 3600.0
    while True:
        end = at_hour(t.date(), WORK_END_HOUR)
        avail = (end - t).total_seconds()
        if remaining < avail:
            return t + dt.timedelta(seconds=remaining)
        remaining -= avail
        t = next_work_time(end)


def working_hours_between(a: dt.datetime, b: dt.datetime) -> float:
    """Working hours (Mon-Fri 09:00-18:00 UTC) between ``a`` and ``b`` (0 if b <= a)."""
    if b <= a:
        return 0.0
    total = 0.0
    day = a.date()
    while day <= b.date():
        if day.weekday() < 5:
            lo = max(a, at_hour(day, WORK_START_HOUR))
            hi = min(b, at_hour(day, WORK_END_HOUR))
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += dt.timedelta(days=1)
    return total / 3600.0


@dataclass(frozen=True, slots=True)
class Window:
    """The ``weeks`` weeks of data ending on ``as_of`` (inclusive)."""

    as_of: dt.date
    weeks: int

    @property
    def start(self) -> dt.date:
        return self.as_of - dt.timedelta(days=7 * self.weeks - 1)

    @property
    def start_dt(self) -> dt.datetime:
        return at_hour(self.start, 0)

    @property
    def cutoff(self) -> dt.datetime:
        """Exclusive end of data: midnight after ``as_of``."""
        return at_hour(self.as_of + dt.timedelta(days=1), 0)

    def week_of(self, t: dt.datetime) -> int:
        """1-based week of the window containing ``t`` (<= 0 before the window)."""
        return (t.date() - self.start).days // 7 + 1

    def week_start(self, week: int) -> dt.date:
        return self.start + dt.timedelta(days=7 * (week - 1))

    def week_end(self, week: int) -> dt.date:
        """Last day (inclusive) of a 1-based week."""
        return self.week_start(week) + dt.timedelta(days=6)
