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


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str = ""
    weeks: int | None = None
    teams: int | None = None
    engineers: int | None = None
    effects: tuple[Effect, ...] = ()
    interventions: tuple[Effect, ...] = ()

    @property
    def all_changes(self) -> tuple[Effect, ...]:
        return self.effects + self.interventions

    def validate_against(self, slugs: list[str], weeks: int) -> None:
        known = set(slugs)
        for e in self.all_changes:
            if e.team not in known:
                raise ScenarioError(f"{e.id}: unknown team {e.team!r} (teams: {', '.join(slugs)})")
            if e.from_week > weeks or (e.to_week is not None and e.to_week > weeks):
                raise ScenarioError(
                    f"{e.id}: weeks {e.from_week}..{e.to_week} outside the {weeks}-week window"
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


def parse_scenario(data: Any) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError("scenario must be a YAML mapping")
    unknown = sorted(
        set(data) - {"name", "description", "weeks", "teams", "engineers", "effects", "interventions"}
    )
    if unknown:
        raise ScenarioError(f"unknown top-level keys {unknown}")
    effects_raw = data.get("effects") or []
    interventions_raw = data.get("interventions") or []
    if not isinstance(effects_raw, list) or not isinstance(interventions_raw, list):
        raise ScenarioError("effects and interventions must be lists")
    effects = tuple(_parse_change(r, i, False) for i, r in enumerate(effects_raw))
    interventions = tuple(_parse_change(r, i, True) for i, r in enumerate(interventions_raw))
    ids = [e.id for e in effects + interventions]
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
    )
    if scenario.weeks is not None:
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
