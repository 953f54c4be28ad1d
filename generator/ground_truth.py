"""The ground truth of a run: what was planted where, so tests and dashboards can be checked against it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.calendar import Window
from generator.org import INCIDENT_STATUSES, STATUSES, WORKFLOWS, Team
from generator.presets import KNOBS
from generator.scenario import ALL_TEAMS, Effect, KnobSchedule, Scenario


def _change(e: Effect, window: Window, sched: KnobSchedule, baseline: float) -> dict[str, Any]:
    end_week = e.to_week if e.to_week is not None else window.weeks
    effective = sched.at_week(e.knob, e.from_week)
    return {
        "id": e.id,
        "team": e.team,
        "knob": e.knob,
        "value": e.value,
        "kind": e.kind,
        "intervention": e.is_intervention,
        "description": e.description,
        "from_week": e.from_week,
        "to_week": e.to_week,
        "start_date": window.week_start(e.from_week).isoformat(),
        "end_date": window.week_end(end_week).isoformat(),
        "knob_kind": KNOBS[e.knob].kind,
        "baseline_value": baseline,
        "effective_value_at_start": round(effective, 6),
        "effective_multiplier": round(effective / baseline, 6) if baseline else None,
        "org_wide": e.team == ALL_TEAMS,
    }


def build_ground_truth(
    *,
    seed: int,
    scale: str,
    options: dict[str, Any],
    window: Window,
    teams: list[Team],
    params: dict[str, dict[str, Any]],
    schedules: dict[str, KnobSchedule],
    scenario: Scenario | None,
) -> dict[str, Any]:
    changes = scenario.all_changes if scenario else ()

    def change(e: Effect) -> dict[str, Any]:
        # an organisation-wide effect is reported once, with the first team's schedule and baseline
        slug = teams[0].slug if e.team == ALL_TEAMS else e.team
        return _change(e, window, schedules[slug], params[slug]["knobs"][e.knob])

    days_off = sorted(scenario.days_off(window)) if scenario else []
    return {
        "seed": seed,
        "scale": scale,
        "options": options,
        "as_of": window.as_of.isoformat(),
        "weeks": window.weeks,
        "window_start": window.start.isoformat(),
        "window_end": window.as_of.isoformat(),
        "scenario": None
        if scenario is None
        else {"name": scenario.name, "description": scenario.description},
        "teams": [{**t.summary(), "baseline": params[t.slug]} for t in teams],
        "effects": [change(e) for e in changes if not e.is_intervention],
        "interventions": [change(e) for e in changes if e.is_intervention],
        "calendar": [
            {
                "id": event.id,
                "kind": event.kind,
                "from_week": event.from_week,
                "to_week": event.to_week,
                "weekdays": list(event.weekdays),
                "description": event.description,
                "days": [day.isoformat() for day in sorted(event.days(window))],
            }
            for event in (scenario.calendar if scenario else ())
        ],
        "days_off": [day.isoformat() for day in days_off],
        "workflows": {w.name: {"scrum": w.scrum, "statuses": _workflow_statuses(w.name)} for w in WORKFLOWS},
        "incident_statuses": list(INCIDENT_STATUSES),
        "status_categories": {
            name: {"id": sid, "jira_category": cat, "category": intended}
            for name, (sid, cat, intended) in STATUSES.items()
        },
    }


def _workflow_statuses(name: str) -> list[str]:
    w = next(x for x in WORKFLOWS if x.name == name)
    names = [w.todo, w.selected, w.in_progress, w.awaiting_review, w.review, *w.qa, w.done, w.renamed_done]
    names += [w.blocked, w.cancelled, w.reopened]
    return [n for n in names if n]


def write_ground_truth(gt: dict, path: str | Path) -> Path:
    """Write the ground truth as JSON; ``path`` may be a directory (then ``ground_truth.json`` inside it)."""
    p = Path(path)
    if p.is_dir() or p.suffix != ".json":
        p.mkdir(parents=True, exist_ok=True)
        p = p / "ground_truth.json"
    p.write_text(json.dumps(gt, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return p
