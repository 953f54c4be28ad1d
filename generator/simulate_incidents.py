"""Plan one production incident of a team: the Jira OPS issue (or GitLab incident) and its life cycle."""

from __future__ import annotations

import datetime as dt
from random import Random

from generator.calendar import Window
from generator.model import Deployment, IssuePlan
from generator.org import Team

SUMMARIES = (
    "Elevated 5xx on {s}",
    "Latency spike in {s}",
    "{s} error rate above SLO",
    "{s} unavailable for some users",
)


def plan_incident(
    rng: Random, team: Team, window: Window, number: int, t: dt.datetime, dep: Deployment | None
) -> IssuePlan | None:
    """The team's ``number``-th incident, opened at ``t`` (``None`` outside the window).

    ``dep`` is the deployment that caused it, or ``None`` for an incident with no deployment behind it
    (then the affected service is drawn from the team's projects).
    """
    if t >= window.cutoff or t < window.start_dt:
        return None
    project = dep.project if dep else rng.choice(team.projects)
    service = project.name
    summary = rng.choice(SUMMARIES).format(s=service)
    if dep is not None and rng.random() < 0.65:
        desc = (
            f"Caused by deployment {dep.project.path_with_namespace}#{dep.iid} "
            f"(sha {dep.pipeline.sha[:8]}). "
            f"Alerts fired shortly after the release to {dep.env_name}."
        )
    else:
        desc = f"Alerts fired for {service}. Investigating impact on customers."
    reporter = rng.choice(team.engineers)
    inc = IssuePlan(
        id=10000 + team.idx * 100_000 + 90_000 + number,
        key=f"OPS-{team.idx * 1000 + number}",
        issuetype="Incident",
        summary=summary,
        priority=rng.choice(("Highest", "High", "High")),
        labels=["incident", rng.choice(("sev1", "sev2", "sev2", "sev3"))],
        created=t,
        reporter=reporter,
        description=desc,
        ops=True,
        project=project,
    )
    oncall = rng.choice(team.engineers)
    t1 = t + dt.timedelta(minutes=rng.uniform(3, 40))
    t2 = t1 + dt.timedelta(hours=rng.expovariate(1 / 2) + 0.1)
    t3 = t2 + dt.timedelta(hours=rng.expovariate(1 / 20) + 1)
    inc.statuses = [(t, "Open"), (t1, "Investigating"), (t2, "Mitigated"), (t3, "Resolved")]
    inc.statuses = [x for x in inc.statuses if x[0] < window.cutoff]
    inc.assignees = [(t1, oncall)]
    inc.started = t1
    if t3 < window.cutoff:
        inc.finished = t3
    return inc
