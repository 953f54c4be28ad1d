"""Time helpers: the data window, working hours and the source timestamp formats."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

UTC = dt.UTC
WORK_START_HOUR = 9
WORK_END_HOUR = 18
WORK_HOURS_PER_DAY = WORK_END_HOUR - WORK_START_HOUR

# Organisation-wide days off (scenario `calendar:` holidays): nobody works, so work in flight stops and
# resumes after them. Set for the simulation of one team by :func:`days_off`; empty outside it.
_DAYS_OFF: ContextVar[frozenset[dt.date]] = ContextVar("days_off", default=frozenset())


@contextmanager
def days_off(days: frozenset[dt.date]) -> Iterator[None]:
    """Within the block, the working-time helpers skip ``days`` (holidays) as they skip weekends."""
    token = _DAYS_OFF.set(days)
    try:
        yield
    finally:
        _DAYS_OFF.reset(token)


def is_day_off(day: dt.date) -> bool:
    """An organisation-wide holiday (weekends are not days off in this sense)."""
    return day in _DAYS_OFF.get()


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday and not an organisation-wide day off."""
    return day.weekday() < 5 and day not in _DAYS_OFF.get()


# Jira renders every timestamp in the time zone of the account that reads it. The zones the synthetic Jira
# accounts use, with their daylight-saving rules (no tz database needed, so output never depends on one).
JIRA_ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")


def _last_sunday(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() + 1) % 7)


def _nth_sunday(year: int, month: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def zone_offset(zone: str, t: dt.datetime) -> dt.timedelta:
    """UTC offset of one of ``JIRA_ZONES`` at the instant ``t`` (aware, UTC)."""
    if zone == "UTC":
        return dt.timedelta(0)
    if zone == "Asia/Kolkata":
        return dt.timedelta(hours=5, minutes=30)
    year = t.year
    if zone == "Europe/Berlin":  # CEST from the last Sunday of March to the last Sunday of October, 01:00 UTC
        start = at_hour(_last_sunday(year, 3), 1)
        end = at_hour(_last_sunday(year, 10), 1)
        return dt.timedelta(hours=2 if start <= t < end else 1)
    if (
        zone == "America/New_York"
    ):  # EDT from the 2nd Sunday of March to the 1st Sunday of November, 02:00 local
        start = at_hour(_nth_sunday(year, 3, 2), 7)
        end = at_hour(_nth_sunday(year, 11, 1), 6)
        return dt.timedelta(hours=-4 if start <= t < end else -5)
    raise ValueError(f"unknown zone {zone!r} (known: {', '.join(JIRA_ZONES)})")


def fmt_jira(t: dt.datetime, zone: str = "UTC") -> str:
    """Jira REST timestamp in ``zone``'s local time: ``2026-03-05T09:12:44.000+0000`` in UTC,
    ``2026-03-05T10:12:44.000+0100`` in Europe/Berlin."""
    offset = zone_offset(zone, t)
    local = t + offset
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}{sign}{hh:02d}{mm:02d}"


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
    """The first working instant (Mon-Fri 09:00-18:00 UTC, not a day off) at or after ``t``."""
    off = _DAYS_OFF.get()
    while True:
        if t.weekday() >= 5:
            t = at_hour(t.date() + dt.timedelta(days=7 - t.weekday()), WORK_START_HOUR)
            continue
        if off and t.date() in off:
            t = at_hour(t.date() + dt.timedelta(days=1), WORK_START_HOUR)
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
    """Working hours (Mon-Fri 09:00-18:00 UTC, days off excluded) between ``a`` and ``b`` (0 if b <= a)."""
    if b <= a:
        return 0.0
    total = 0.0
    day = a.date()
    while day <= b.date():
        if is_working_day(day):
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
