"""A catalog like the demo organisation's (tests/scenarios/intervention_planted.yml, as_of 2026-11-20), for
the pure compiler tests: three teams and two boards' sprints."""

from __future__ import annotations

from datetime import date, timedelta

from insights.ask.parse import Catalog, Sprint, Team

TODAY = date(2026, 11, 20)  # a Friday


def _sprints() -> tuple[Sprint, ...]:
    sprints = []
    for number in range(14, 20):
        start = date(2026, 9, 21) + timedelta(days=14 * (number - 14))
        end = start + timedelta(days=11)
        for prefix, team in (("PAY", "payments"), ("PLAT", "platform")):
            sprints.append(Sprint(f"{prefix} Sprint {number}", team, start, end))
    return tuple(sprints)


CATALOG = Catalog(
    teams=(Team("checkout", "Checkout"), Team("payments", "Payments"), Team("platform", "Platform")),
    today=TODAY,
    sprints=_sprints(),
)
