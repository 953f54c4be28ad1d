"""The synthetic organisation: teams, engineers, workflows, Jira projects, GitLab groups and projects."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from random import Random

from generator.calendar import JIRA_ZONES, UTC
from generator.mess import SECOND_PRODUCTION_REGION
from generator.text import person_name

JIRA_BASE = "https://acme.atlassian.net"
GITLAB_BASE = "https://gitlab.acme.io"
GITLAB_GROUP = "acme"

TEAM_NAMES = (
    "Payments",
    "Checkout",
    "Platform",
    "Search",
    "Mobile",
    "Identity",
    "Data",
    "Growth",
    "Infra",
    "Notifications",
)
PROJECT_KEYS = ("PAY", "CHK", "PLAT", "SRCH", "MOB", "IDN", "DATA", "GRW", "INF", "NOTI")
OPS_KEY = "OPS"
OPS_PROJECT_ID = "10999"
MAX_TEAMS = 4000

SERVICES = ("api", "web", "worker", "gateway", "ledger", "sync", "admin", "events", "scheduler", "ui")
PROD_ENV_NAMES = ("production", "prod", "prod-eu")


def slugify(name: str) -> str:
    """Team key: lower-cased, runs of characters other than ``a-z0-9`` replaced by ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def team_name(idx: int) -> str:
    return TEAM_NAMES[idx] if idx < len(TEAM_NAMES) else f"Team {idx + 1:03d}"


def team_key(idx: int) -> str:
    return PROJECT_KEYS[idx] if idx < len(PROJECT_KEYS) else f"T{idx + 1:03d}"


def stable_hex(*parts: object, n: int = 24) -> str:
    return hashlib.sha1(":".join(str(p) for p in parts).encode()).hexdigest()[:n]


def uuid_like(*parts: object) -> str:
    h = stable_hex(*parts, n=32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True, slots=True)
class Person:
    """One identity shared by Jira (accountId) and GitLab (id/username)."""

    account_id: str
    display_name: str
    email: str
    gitlab_id: int
    username: str
    bot: bool = False

    def jira(self) -> dict[str, object]:
        return {
            "self": f"{JIRA_BASE}/rest/api/3/user?accountId={self.account_id}",
            "accountId": self.account_id,
            "emailAddress": self.email,
            "avatarUrls": {"48x48": f"https://avatar.example/{self.account_id}/48"},
            "displayName": self.display_name,
            "active": True,
            # the simulated organisation works 09:00-18:00 UTC, so that is its people's profile zone (the
            # team working hours default to it: docs/metrics.md, "Working hours")
            "timeZone": "UTC",
            "accountType": "app" if self.bot else "atlassian",
        }

    def gitlab(self) -> dict[str, object]:
        return {
            "id": self.gitlab_id,
            "username": self.username,
            "name": self.display_name,
            "state": "active",
            "avatar_url": f"https://secure.gravatar.com/avatar/{stable_hex(self.username, n=32)}",
            "web_url": f"{GITLAB_BASE}/{self.username}",
        }


BOTS = {
    "renovate": Person(
        stable_hex("bot", "renovate"), "Renovate Bot", "renovate@acme.io", 90001, "renovate-bot", bot=True
    ),
    "gitlab": Person(
        stable_hex("bot", "gitlab"), "GitLab Bot", "gitlab-bot@acme.io", 90002, "gitlab-bot", bot=True
    ),
}


@dataclass(frozen=True, slots=True)
class Workflow:
    """Status names of one Jira workflow, by role."""

    name: str
    todo: str
    in_progress: str
    review: str
    qa: tuple[str, ...]
    done: str
    blocked: str
    cancelled: str
    selected: str | None = None
    reopened: str | None = None
    scrum: bool = True
    awaiting_review: str = "Ready for Review"  # waiting: MR ready, nobody reviewing yet
    renamed_done: str | None = None  # a later done -> done rename (Done -> Released, Resolved -> Closed)


WORKFLOWS = (
    Workflow(
        "W1",
        "To Do",
        "In Progress",
        "Code Review",
        ("Ready for QA", "QA"),
        "Done",
        "Blocked",
        "Won't Do",
        renamed_done="Released",
    ),
    Workflow(
        "W2",
        "Backlog",
        "Doing",
        "In Review",
        ("Ready for QA", "Testing"),
        "Closed",
        "On Hold",
        "Cancelled",
        selected="Selected for Development",
        scrum=False,
        awaiting_review="Awaiting Review",
    ),
    Workflow(
        "W3",
        "Open",
        "in-progress",
        "Peer Review",
        ("Ready for Release",),
        "Resolved",
        "Blocked",
        "Won't Do",
        reopened="Reopened",
        renamed_done="Closed",
    ),
)
INCIDENT_STATUSES = ("Open", "Investigating", "Mitigated", "Resolved")

# name -> (id, Jira statusCategory key, intended warehouse category)
STATUSES: dict[str, tuple[str, str, str]] = {
    "To Do": ("10000", "new", "todo"),
    "In Progress": ("3", "indeterminate", "in_progress"),
    "Ready for Review": ("10007", "indeterminate", "waiting"),
    "Code Review": ("10001", "indeterminate", "review"),
    "QA": ("10002", "indeterminate", "in_progress"),
    "Done": ("10003", "done", "done"),
    "Blocked": ("10004", "indeterminate", "blocked"),
    "Won't Do": ("10005", "done", "cancelled"),
    "Released": ("10006", "done", "done"),
    "Backlog": ("10010", "new", "todo"),
    "Selected for Development": ("10011", "new", "todo"),
    "Doing": ("10012", "indeterminate", "in_progress"),
    "Awaiting Review": ("10018", "indeterminate", "waiting"),
    "In Review": ("10013", "indeterminate", "review"),
    "Ready for QA": ("10014", "indeterminate", "waiting"),
    "Testing": ("10015", "indeterminate", "in_progress"),
    "Closed": ("6", "done", "done"),
    "On Hold": ("10016", "indeterminate", "blocked"),
    "Cancelled": ("10017", "done", "cancelled"),
    "Open": ("1", "new", "todo"),
    "in-progress": ("10020", "indeterminate", "in_progress"),
    "Peer Review": ("10021", "indeterminate", "review"),
    "Ready for Release": ("10022", "indeterminate", "waiting"),
    "Resolved": ("5", "done", "done"),
    "Reopened": ("4", "new", "todo"),
    "Investigating": ("10030", "indeterminate", "in_progress"),
    "Mitigated": ("10031", "indeterminate", "waiting"),
}
CATEGORY_NAMES = {
    "new": ("2", "To Do", "blue-gray"),
    "indeterminate": ("4", "In Progress", "yellow"),
    "done": ("3", "Done", "green"),
}


@dataclass(frozen=True, slots=True)
class GitlabProject:
    id: int
    name: str
    path_with_namespace: str
    prod_env: str
    created_at: dt.datetime

    @property
    def web_url(self) -> str:
        return f"{GITLAB_BASE}/{self.path_with_namespace}"

    @property
    def prod_envs(self) -> tuple[str, ...]:
        """Production environments one deployment pipeline deploys to (``prod-eu`` projects: two regions)."""
        second = SECOND_PRODUCTION_REGION.get(self.prod_env)
        return (self.prod_env, second) if second else (self.prod_env,)


@dataclass(frozen=True, slots=True)
class Team:
    idx: int
    name: str
    slug: str
    key: str
    workflow: Workflow
    engineers: tuple[Person, ...]
    projects: tuple[GitlabProject, ...]

    @property
    def board_id(self) -> int:
        return self.idx + 1

    @property
    def incident_tracker(self) -> str:
        """Where the team files incidents: every third team in GitLab, the others in Jira OPS."""
        return "gitlab" if self.idx % 3 == 2 else "jira"

    @property
    def jira_time_zone(self) -> str:
        """The time zone Jira renders this team's timestamps in (its sync account's profile zone)."""
        return JIRA_ZONES[self.idx % len(JIRA_ZONES)]

    @property
    def jira_project_id(self) -> str:
        return str(10100 + self.idx)

    @property
    def team_uuid(self) -> str:
        return uuid_like("team", self.slug)

    @property
    def group_id(self) -> int:
        return 500 + self.idx

    def team_field(self) -> dict[str, object]:
        return {"id": self.team_uuid, "name": self.name, "title": self.name, "isShared": True}

    def summary(self) -> dict[str, object]:
        return {
            "slug": self.slug,
            "name": self.name,
            "jira_project_key": self.key,
            "gitlab_group": f"{GITLAB_GROUP}/{self.slug}",
            "gitlab_projects": [p.path_with_namespace for p in self.projects],
            "production_environments": {p.path_with_namespace: p.prod_env for p in self.projects},
            "engineer_count": len(self.engineers),
            "workflow": self.workflow.name,
            "scrum": self.workflow.scrum,
            "board_id": self.board_id,
            "jira_time_zone": self.jira_time_zone,
        }


def team_sizes(teams: int, engineers: int) -> list[int]:
    base, rem = divmod(max(engineers, teams), teams)
    return [base + (1 if i < rem else 0) for i in range(teams)]


def build_team(seed: int, idx: int, size: int) -> Team:
    if idx >= MAX_TEAMS:
        raise ValueError(f"at most {MAX_TEAMS} teams are supported")
    name = team_name(idx)
    slug = slugify(name)
    rng = Random(f"{seed}:{slug}:org")
    people = []
    used: set[str] = set()
    for i in range(size):
        # The org stream once drew each name from two lists of 36 first and 28 last names. The draws stay so
        # that a seed keeps its projects (and so every timing drawn after them) now that Faker names people.
        rng.randrange(36), rng.randrange(28)
        display_name, username = person_name(seed, slug, i)
        while username in used:
            username += str(i)
        used.add(username)
        gid = 1000 + idx * 1000 + i
        people.append(Person(stable_hex(seed, slug, i), display_name, f"{username}@acme.io", gid, username))
    n_projects = 1 + rng.randrange(3)
    services = rng.sample(SERVICES, n_projects)
    projects = []
    for p, svc in enumerate(services):
        created = dt.datetime(2021, 1, 4, tzinfo=UTC) + dt.timedelta(days=rng.randrange(900), hours=10)
        projects.append(
            GitlabProject(
                id=1000 + idx * 10 + p,
                name=svc,
                path_with_namespace=f"{GITLAB_GROUP}/{slug}/{svc}",
                prod_env=PROD_ENV_NAMES[(idx + p) % len(PROD_ENV_NAMES)],
                created_at=created,
            )
        )
    return Team(
        idx=idx,
        name=name,
        slug=slug,
        key=team_key(idx),
        workflow=WORKFLOWS[idx % 3],
        engineers=tuple(people),
        projects=tuple(projects),
    )


def team_slugs(teams: int) -> list[str]:
    return [slugify(team_name(i)) for i in range(teams)]
