"""Plain data classes for one team's simulated Jira and GitLab work, shared by simulation and renderers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import ClassVar

from generator.org import GitlabProject, Person

STRIDE = 10_000_000


class IdAlloc:
    """Deterministic, team-ranged ids so teams can be generated independently (streaming)."""

    BASES: ClassVar[dict[str, int]] = {
        "mr": 1_000_000,
        "note": 5_000_000,
        "pipeline": 2_000_000,
        "job": 8_000_000,
        "deployment": 3_000_000,
        "gitlab_issue": 6_000_000,
        "env": 4_000,
    }

    def __init__(self, team_idx: int) -> None:
        self.team_idx = team_idx
        self._counters: dict[str, int] = {}

    def next(self, kind: str) -> int:
        n = self._counters.get(kind, 0) + 1
        self._counters[kind] = n
        stride = 1_000 if kind == "env" else STRIDE
        return self.BASES[kind] + self.team_idx * stride + n


@dataclass
class Sprint:
    id: int
    name: str
    board_id: int
    start: dt.datetime
    end: dt.datetime
    complete: dt.datetime
    goal: str

    def state_at(self, at: dt.datetime) -> str:
        if self.complete <= at:
            return "closed"
        if self.start <= at:
            return "active"
        return "future"


@dataclass
class MRPlan:
    id: int
    iid: int
    project: GitlabProject
    author: Person
    kind: str  # feature | chore | renovate
    title: str
    source_branch: str
    description: str
    created: dt.datetime
    ready: dt.datetime
    draft: bool
    reviewer: Person | None
    first_review: dt.datetime | None
    approved: dt.datetime | None
    merged: dt.datetime | None
    closed: dt.datetime | None
    issue_key: str | None = None
    key_placement: str = "none"  # title | branch | none
    labels: list[str] = field(default_factory=list)
    commit_times: list[dt.datetime] = field(default_factory=list)
    additions: int = 0
    deletions: int = 0
    files: int = 0
    merge_sha: str = ""
    shas: list[str] = field(default_factory=list)
    merged_by: Person | None = None  # the reviewer, or the author when merged without review
    self_approved: dt.datetime | None = None  # the author approved their own MR


@dataclass
class IssuePlan:
    id: int
    key: str
    issuetype: str
    summary: str
    priority: str
    labels: list[str]
    created: dt.datetime
    reporter: Person
    description: str = ""
    ops: bool = False
    statuses: list[tuple[dt.datetime, str]] = field(default_factory=list)
    assignees: list[tuple[dt.datetime, Person | None]] = field(default_factory=list)
    flags: list[tuple[dt.datetime, bool]] = field(default_factory=list)
    sprints: list[tuple[dt.datetime, tuple[int, ...]]] = field(default_factory=list)
    started: dt.datetime | None = None
    finished: dt.datetime | None = None  # first entry into a done-category status
    mrs: list[MRPlan] = field(default_factory=list)
    project: GitlabProject | None = None  # incidents: the service (GitLab project) that is affected
    history_lost: bool = False  # Jira returns no changelog at all for it (imported / purged history)


# ---------------------------------------------------------------------- GitLab activity around the MRs
@dataclass
class Note:
    id: int
    mr: MRPlan
    author: Person
    body: str
    at: dt.datetime
    system: bool
    diff: bool = False


@dataclass
class Job:
    id: int
    name: str
    stage: str
    status: str
    created: dt.datetime
    started: dt.datetime | None
    finished: dt.datetime | None
    failure_reason: str | None = None


@dataclass
class Pipeline:
    id: int
    iid: int
    project: GitlabProject
    sha: str
    ref: str
    source: str
    user: Person
    created: dt.datetime
    started: dt.datetime
    finished: dt.datetime  # as planned; a pipeline still going at the cutoff is rendered as running
    status: str  # success | failed | canceled | skipped (skipped pipelines never start)
    jobs: list[Job] = field(default_factory=list)


@dataclass
class Deployment:
    id: int
    iid: int
    project: GitlabProject
    env_name: str
    env_id: int
    tier: str
    pipeline: Pipeline
    job: Job
    user: Person
    mrs: list[MRPlan]
    link_mrs: bool
    reports_finished: bool = True  # False: a successful deployment whose document has no finished_at
