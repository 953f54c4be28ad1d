"""Scale presets and the tunable knobs with their baseline values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Preset:
    teams: int
    engineers: int
    weeks: int


PRESETS: dict[str, Preset] = {
    "small": Preset(teams=3, engineers=24, weeks=26),
    "medium": Preset(teams=10, engineers=100, weeks=52),
    "large": Preset(teams=100, engineers=1000, weeks=52),
}

KnobKind = Literal["multiplier", "rate"]


@dataclass(frozen=True, slots=True)
class Knob:
    name: str
    kind: KnobKind
    baseline: float
    description: str


# multiplier knobs: baseline 1.0, effects multiply it.  rate knobs: effects *set* the rate.
# Interventions always multiply on top of whatever the effects produce.
KNOBS: dict[str, Knob] = {
    k.name: k
    for k in (
        Knob("review_pickup_multiplier", "multiplier", 1.0, "time from MR ready to first reviewer note"),
        Knob("review_duration_multiplier", "multiplier", 1.0, "time from first review note to approval"),
        Knob("ci_flaky_rate", "rate", 0.04, "probability a pipeline has a flaky job that is retried"),
        Knob("ci_failure_rate", "rate", 0.07, "probability an MR pipeline fails (fixed by a new push)"),
        Knob("blocked_probability", "rate", 0.12, "probability an issue gets blocked while in progress"),
        Knob("blocked_duration_multiplier", "multiplier", 1.0, "length of blocked windows"),
        Knob("cycle_time_multiplier", "multiplier", 1.0, "length of the in-progress (coding) phase"),
        Knob("arrival_rate_multiplier", "multiplier", 1.0, "issues created per week (drives WIP)"),
        Knob("deploy_delay_multiplier", "multiplier", 1.0, "merge to production deployment delay"),
        Knob("incident_rate", "rate", 0.03, "probability a production deployment causes an incident"),
        Knob("unlinked_work_rate", "rate", 0.08, "probability an issue's MR carries no Jira key"),
        Knob("sprint_overcommit_ratio", "rate", 1.1, "planned scope / scope the team starts in a sprint"),
        # causes: each moves several measured quantities together, with their side effects
        Knob(
            "reviewer_capacity",
            "multiplier",
            1.0,
            "share of the team's reviewers still reviewing (reviewers leave or join); the same reviews queue "
            "on fewer people: pickup x capacity^-1.5, review duration x capacity^-0.5, more MRs merged "
            "without review, reviews concentrate on the remaining reviewers",
        ),
        Knob(
            "headcount_multiplier",
            "multiplier",
            1.0,
            "share of the team's engineers on the team (people leave or join): new work, assignees, authors "
            "and reviewers scale with it; per-engineer load does not change",
        ),
        Knob(
            "vendor_block_rate",
            "rate",
            0.0,
            "probability an in-progress issue waits on an external vendor (long blocked windows on top of "
            "the ordinary blockers): cycle time, WIP and blocked hours grow together",
        ),
        Knob(
            "unplanned_work_rate",
            "rate",
            0.0,
            "unplanned work (urgent bugs, requests) arriving as a share of the planned arrivals; it is "
            "started at once and slows the planned work in progress by the same share: scope added after "
            "sprint start, longer cycle times, more carry-over, more WIP",
        ),
    )
}
