"""Heimdall synthetic data generator: Jira + GitLab raw documents for a fictional organisation.

>>> run = generate(GeneratorOptions(seed=42, scale="small", as_of=datetime.date(2026, 11, 20)))
>>> counts = write_jsonl(run.records, "out/")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from random import Random
from typing import Any

from generator.calendar import Window, days_off
from generator.gitlab import gitlab_records, incident_records
from generator.ground_truth import build_ground_truth, write_ground_truth
from generator.jira import jira_records
from generator.model import IdAlloc
from generator.org import Team, build_team, team_sizes
from generator.presets import KNOBS, PRESETS
from generator.scenario import KnobSchedule, Scenario, ScenarioError, load_scenario, parse_scenario
from generator.simulate import TeamParams, TeamSim, team_params
from generator.simulate_gitlab import GitlabSim
from generator.text import TeamText
from warehouse.jsonl import read_jsonl, write_jsonl
from warehouse.records import RawRecord

__all__ = [
    "GeneratorOptions",
    "GeneratorRun",
    "Scenario",
    "ScenarioError",
    "generate",
    "load_scenario",
    "parse_scenario",
    "read_jsonl",
    "write_ground_truth",
    "write_jsonl",
]


@dataclass(frozen=True)
class GeneratorOptions:
    seed: int = 42
    scale: str = "small"
    teams: int | None = None
    engineers: int | None = None
    weeks: int | None = None
    scenario: Scenario | None = None
    as_of: dt.date | None = None  # default: today (UTC)


class GeneratorRun:
    """A planned run. ``records`` streams team by team; only one team's work is in memory at a time."""

    def __init__(self, opts: GeneratorOptions) -> None:
        if opts.scale not in PRESETS:
            raise ValueError(f"unknown scale {opts.scale!r} (known: {', '.join(PRESETS)})")
        preset = PRESETS[opts.scale]
        sc = opts.scenario
        n_teams = opts.teams or (sc.teams if sc and sc.teams else None) or preset.teams
        weeks = opts.weeks or (sc.weeks if sc and sc.weeks else None) or preset.weeks
        engineers = (
            opts.engineers
            or (sc.engineers if sc and sc.engineers else None)
            or round(preset.engineers * n_teams / preset.teams)
        )
        if n_teams < 1 or weeks < 1 or engineers < 1:
            raise ValueError("teams, engineers and weeks must be positive")
        as_of = opts.as_of or dt.datetime.now(dt.UTC).date()
        self.options = opts
        self.window = Window(as_of=as_of, weeks=weeks)
        self.seed = opts.seed
        self.teams: list[Team] = [
            build_team(opts.seed, i, size) for i, size in enumerate(team_sizes(n_teams, engineers))
        ]
        if sc is not None:
            sc.validate_against([t.slug for t in self.teams], weeks)
        baseline = {k: v.baseline for k, v in KNOBS.items()}
        self.params: dict[str, TeamParams] = {t.slug: team_params(opts.seed, t, baseline) for t in self.teams}
        self.schedules: dict[str, KnobSchedule] = {
            t.slug: KnobSchedule(
                self.window,
                self.params[t.slug].knobs,
                sc.changes_for(t.slug) if sc else (),
            )
            for t in self.teams
        }
        self.days_off: frozenset[dt.date] = sc.days_off(self.window) if sc else frozenset()
        self._resolved = {
            "seed": opts.seed,
            "scale": opts.scale,
            "teams": n_teams,
            "engineers": engineers,
            "weeks": weeks,
            "as_of": as_of.isoformat(),
            "scenario": sc.name if sc else None,
        }
        self.records: Iterator[RawRecord] = self._stream()

    def _stream(self) -> Iterator[RawRecord]:
        for team in self.teams:
            yield from self.team_records(team)

    def team_records(self, team: Team) -> Iterator[RawRecord]:
        """Simulate and render one team (deterministic on its own, independent of other teams)."""
        seed, slug = self.seed, team.slug
        with days_off(self.days_off):  # the organisation's holidays: nobody works on them
            sim = TeamSim(
                team=team,
                window=self.window,
                sched=self.schedules[slug],
                params=self.params[slug],
                rng=Random(f"{seed}:{slug}"),
                mess=Random(f"{seed}:{slug}:mess"),
                text=TeamText(seed, slug),
                ids=IdAlloc(team.idx),
            ).run()
            gl = GitlabSim(
                sim=sim, rng=Random(f"{seed}:{slug}:gitlab"), mess=Random(f"{seed}:{slug}:gitlab-mess")
            ).run()
        out_rng = Random(f"{self.seed}:{team.slug}:deliveries")
        in_jira = gl.incidents if team.incident_tracker == "jira" else []
        issues = sim.issues + in_jira
        yield from jira_records(team, issues, sim.sprints, self.window.cutoff, self.window.start_dt, out_rng)
        yield from gitlab_records(gl)
        if team.incident_tracker == "gitlab":
            yield from incident_records(gl)

    def ground_truth(self) -> dict[str, Any]:
        return build_ground_truth(
            seed=self.seed,
            scale=self.options.scale,
            options=self._resolved,
            window=self.window,
            teams=self.teams,
            params={s: p.summary() for s, p in self.params.items()},
            schedules=self.schedules,
            scenario=self.options.scenario,
        )


def generate(opts: GeneratorOptions) -> GeneratorRun:
    """Plan a run (cheap); documents are produced lazily by iterating ``run.records``."""
    return GeneratorRun(opts)
