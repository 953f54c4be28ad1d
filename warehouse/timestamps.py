"""Parsing the timestamp formats Jira and GitLab send."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def parse_source_timestamp(value: object) -> datetime | None:
    """Parse a Jira/GitLab timestamp into an aware UTC datetime; None stays None.

    Accepts ISO 8601 (``2026-03-05T09:12:44.000+0000``, ``...Z``, ``...+10:00``), GitLab's
    ``2016-08-12 15:23:28 UTC`` webhook form and epoch milliseconds (Jira webhooks).
    Raises ValueError for anything else, a moment outside the years 1 to 9999 in UTC included.

    The loader keys the common forms in SQL (``warehouse.loader._SQL_TIMESTAMP``, held to this function by
    tests/warehouse/test_loader_keying.py) and every other value with this function.
    """
    try:
        return _parse(value)
    except (OverflowError, OSError) as exc:  # epoch or offset beyond what datetime holds
        raise ValueError(f"timestamp out of range: {value!r}") from exc


def _parse(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.strip()
    if text.endswith(" UTC"):
        text = text[:-4] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp has no time zone: {value!r}")
    return parsed.astimezone(UTC)
