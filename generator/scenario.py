"""Scenario YAML: planted effects and interventions per team and week window."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.calendar import Window
from generator.presets import KNOBS
from warehouse.errors import HeimdallError


class ScenarioError(HeimdallError, ValueError):
    """A scenario file is malformed or refers to unknown teams/knobs."""


@dataclass(frozen=True, slots=True)
class Effect:
    id: str
    team: str
    knob: str
    value: float
    from_week: int
    to_week: int | None
    description: str = ""
    kind: str = "effect"  # "effect" or the intervention kind (e.g. "review_slo")
    is_intervention: bool = False


ALL_TEAMS = "all"
"""``team: all`` in an effect: an organisation-wide change (an org-wide CI outage, a tooling change) that
every team feels at once. A diagnosis must not blame it on one team."""


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """Organisation-wide days off (``kind: holiday``): weeks ``from_week``..``to_week`` (1-based, inclusive),
    on ``weekdays`` (0 = Monday .. 4 = Friday) of those weeks. Nobody works: no new work arrives, work in
    flight stops and resumes after them (every working-time duration stretches in wall-clock time)."""

    id: str
    kind: str
    from_week: int
    to_week: int
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    description: str = ""

    def days(self, window: Window) -> frozenset[dt.date]:
        out: set[dt.date] = set()
        for week in range(self.from_week, self.to_week + 1):
            first = window.week_start(week)
            for offset in range(7):
                day = first + dt.timedelta(days=offset)
                if day.weekday() in self.weekdays:
                    out.add(day)
        return frozenset(out)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str = ""
    weeks: int | None = None
    teams: int | None = None
    engineers: int | None = None
    effects: tuple[Effect, ...] = ()
    interventions: tuple[Effect, ...] = ()
    calendar: tuple[CalendarEvent, ...] = ()

    def days_off(self, window: Window) -> frozenset[dt.date]:
        """Every organisation-wide day off of the calendar events."""
        return frozenset(day for event in self.calendar for day in event.days(window))

    def changes_for(self, slug: str) -> tuple[Effect, ...]:
        """The effects and interventions that act on team ``slug`` (its own and the organisation-wide)."""
        return tuple(e for e in self.all_changes if e.team in (slug, ALL_TEAMS))

    @property
    def all_changes(self) -> tuple[Effect, ...]:
        return self.effects + self.interventions

    def validate_against(self, slugs: list[str], weeks: int) -> None:
        known = set(slugs)
        for e in self.all_changes:
            if e.team not in known and not (e.team == ALL_TEAMS and not e.is_intervention):
                raise ScenarioError(f"{e.id}: unknown team {e.team!r} (teams: {', '.join(slugs)})")
            if e.from_week > weeks or (e.to_week is not None and e.to_week > weeks):
                raise ScenarioError(
                    f"{e.id}: weeks {e.from_week}..{e.to_week} outside the {weeks}-week window"
                )
        for event in self.calendar:
            if event.to_week > weeks:
                raise ScenarioError(
                    f"{event.id}: weeks {event.from_week}..{event.to_week} outside the {weeks}-week window"
                )


def _int(raw: Any, what: str, minimum: int = 1) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
        raise ScenarioError(f"{what} must be an integer >= {minimum}, got {raw!r}")
    return raw


def _parse_change(raw: Any, n: int, intervention: bool) -> Effect:
    section = "interventions" if intervention else "effects"
    if not isinstance(raw, dict):
        raise ScenarioError(f"{section}[{n}] must be a mapping")
    allowed = {"id", "team", "knob", "value", "description"} | (
        {"kind", "start_week", "end_week"} if intervention else {"from_week", "to_week"}
    )
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ScenarioError(f"{section}[{n}]: unknown keys {unknown}")
    eid = str(raw.get("id") or f"{section}-{n + 1}")
    for req in ("team", "knob", "value"):
        if req not in raw:
            raise ScenarioError(f"{eid}: missing {req!r}")
    knob = raw["knob"]
    if knob not in KNOBS:
        raise ScenarioError(f"{eid}: unknown knob {knob!r} (known: {', '.join(sorted(KNOBS))})")
    value = raw["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ScenarioError(f"{eid}: value must be a non-negative number, got {value!r}")
    start_key, end_key = ("start_week", "end_week") if intervention else ("from_week", "to_week")
    start = _int(raw.get(start_key, 1), f"{eid}: {start_key}")
    end_raw = raw.get(end_key)
    end = None if end_raw is None else _int(end_raw, f"{eid}: {end_key}")
    if end is not None and end < start:
        raise ScenarioError(f"{eid}: {end_key} ({end}) before {start_key} ({start})")
    return Effect(
        id=eid,
        team=str(raw["team"]),
        knob=knob,
        value=float(value),
        from_week=start,
        to_week=end,
        description=str(raw.get("description", "")),
        kind=str(raw.get("kind", "effect")),
        is_intervention=intervention,
    )


CALENDAR_KINDS = ("holiday",)


def _parse_calendar_event(raw: Any, n: int) -> CalendarEvent:
    if not isinstance(raw, dict):
        raise ScenarioError(f"calendar[{n}] must be a mapping")
    unknown = sorted(set(raw) - {"id", "kind", "from_week", "to_week", "weekdays", "description"})
    if unknown:
        raise ScenarioError(f"calendar[{n}]: unknown keys {unknown}")
    eid = str(raw.get("id") or f"calendar-{n + 1}")
    kind = str(raw.get("kind", "holiday"))
    if kind not in CALENDAR_KINDS:
        raise ScenarioError(f"{eid}: unknown calendar kind {kind!r} (known: {', '.join(CALENDAR_KINDS)})")
    if "from_week" not in raw:
        raise ScenarioError(f"{eid}: missing 'from_week'")
    start = _int(raw["from_week"], f"{eid}: from_week")
    end = _int(raw.get("to_week", start), f"{eid}: to_week")
    if end < start:
        raise ScenarioError(f"{eid}: to_week ({end}) before from_week ({start})")
    weekdays_raw = raw.get("weekdays", [0, 1, 2, 3, 4])
    if not isinstance(weekdays_raw, list) or not weekdays_raw:
        raise ScenarioError(f"{eid}: weekdays must be a non-empty list of 0 (Monday) .. 4 (Friday)")
    weekdays = tuple(sorted({_int(day, f"{eid}: weekday", minimum=0) for day in weekdays_raw}))
    if weekdays[-1] > 4:
        raise ScenarioError(f"{eid}: weekdays must be 0 (Monday) .. 4 (Friday), got {list(weekdays)}")
    return CalendarEvent(eid, kind, start, end, weekdays, str(raw.get("description", "")))


def parse_scenario(data: Any) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError("scenario must be a YAML mapping")
    unknown = sorted(
        set(data)
        - {"name", "description", "weeks", "teams", "engineers", "effects", "interventions", "calendar"}
    )
    if unknown:
        raise ScenarioError(f"unknown top-level keys {unknown}")
    effects_raw = data.get("effects") or []
    interventions_raw = data.get("interventions") or []
    if not isinstance(effects_raw, list) or not isinstance(interventions_raw, list):
        raise ScenarioError("effects and interventions must be lists")
    calendar_raw = data.get("calendar") or []
    if not isinstance(calendar_raw, list):
        raise ScenarioError("calendar must be a list")
    effects = tuple(_parse_change(r, i, False) for i, r in enumerate(effects_raw))
    interventions = tuple(_parse_change(r, i, True) for i, r in enumerate(interventions_raw))
    calendar = tuple(_parse_calendar_event(r, i) for i, r in enumerate(calendar_raw))
    for e in interventions:
        if e.team == ALL_TEAMS:
            raise ScenarioError(f"{e.id}: an intervention belongs to one team, not {ALL_TEAMS!r}")
    ids = [e.id for e in effects + interventions] + [event.id for event in calendar]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ScenarioError(f"duplicate ids {dupes}")
    weeks = data.get("weeks")
    teams = data.get("teams")
    engineers = data.get("engineers")
    scenario = Scenario(
        name=str(data.get("name", "unnamed")),
        description=str(data.get("description", "")).strip(),
        weeks=None if weeks is None else _int(weeks, "weeks"),
        teams=None if teams is None else _int(teams, "teams"),
        engineers=None if engineers is None else _int(engineers, "engineers"),
        effects=effects,
        interventions=interventions,
        calendar=calendar,
    )
    if scenario.weeks is not None:
        for event in scenario.calendar:
            if event.to_week > scenario.weeks:
                raise ScenarioError(f"{event.id}: weeks outside the scenario's {scenario.weeks}-week window")
        for e in scenario.all_changes:
            if e.from_week > scenario.weeks or (e.to_week is not None and e.to_week > scenario.weeks):
                raise ScenarioError(f"{e.id}: weeks outside the scenario's {scenario.weeks}-week window")
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Parse and validate a scenario YAML file (raises :class:`ScenarioError`)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: invalid YAML: {exc}") from exc
    return parse_scenario(data)


@dataclass
class KnobSchedule:
    """Effective knob values for one team over time (baseline * effects * interventions)."""

    window: Window
    baseline: dict[str, float]
    changes: tuple[Effect, ...] = ()
    _cache: dict[tuple[str, int], float] = field(default_factory=dict)

    def at_week(self, knob: str, week: int) -> float:
        key = (knob, week)
        if key in self._cache:
            return self._cache[key]
        value = self.baseline[knob]
        kind = KNOBS[knob].kind
        for e in self.changes:
            if e.knob != knob or e.is_intervention or not _active(e, week):
                continue
            value = value * e.value if kind == "multiplier" else e.value
        for e in self.changes:
            if e.knob == knob and e.is_intervention and _active(e, week):
                value *= e.value
        self._cache[key] = value
        return value

    def at(self, knob: str, t: dt.datetime) -> float:
        return self.at_week(knob, self.window.week_of(t))


def _active(e: Effect, week: int) -> bool:
    return e.from_week <= week and (e.to_week is None or week <= e.to_week)
