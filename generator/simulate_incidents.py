"""Plan one production incident of a team: the Jira OPS issue (or GitLab incident) and its life cycle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from random import Random

from generator import mess as rates
from generator.calendar import Window
from generator.model import Deployment, IssuePlan, MRPlan
from generator.org import GitlabProject, Team
from generator.text import TeamText

SUMMARIES = (
    "Elevated 5xx on {s}",
    "Latency spike in {s}",
    "{s} error rate above SLO",
    "{s} unavailable for some users",
)


def _cause(mess: Random, dep: Deployment) -> str:
    """How a write-up names the deployment that caused it: the deployment, its sha alone or an MR it
    shipped."""
    r, style = mess.random(), "deployment"
    for name, share in rates.CAUSE_REFERENCE:
        if r < share:
            style = name
            break
        r -= share
    sha = dep.pipeline.sha
    if style == "sha":
        return (
            f"Rolled back to the previous release; the suspect commit is {sha[: mess.choice((8, 12, 40))]}."
        )
    shipped = [m for m in dep.mrs if m.kind != "renovate"] or dep.mrs
    if style == "merge_request" and shipped:
        mr = mess.choice(shipped)
        return f"Suspect change: {mr.project.path_with_namespace}!{mr.iid}, reverted."
    return (
        f"Caused by deployment {dep.project.path_with_namespace}#{dep.iid} (sha {sha[:8]}). "
        f"Alerts fired shortly after the release to {dep.env_name}."
    )


def plan_incident(
    rng: Random,
    mess: Random,
    text: TeamText,
    team: Team,
    window: Window,
    number: int,
    t: dt.datetime,
    dep: Deployment | None,
    fix_mr: Callable[[GitlabProject, dt.datetime], MRPlan | None],
) -> IssuePlan | None:
    """The team's ``number``-th incident, opened at ``t`` (``None`` outside the window).

    ``dep`` is the deployment that caused it, or ``None`` for an incident with no deployment behind it
    (then the affected service is drawn from the team's projects). ``rng`` times it (the planted stream);
    ``mess`` decides how the write-up references its cause and fix; ``fix_mr`` finds the MR that fixed it.
    """
    if t >= window.cutoff or t < window.start_dt:
        return None
    project = dep.project if dep else rng.choice(team.projects)
    service = project.name
    summary = rng.choice(SUMMARIES).format(s=service)
    fix = fix_mr(project, t) if mess.random() < rates.FIX_MR_REFERENCE else None
    if dep is not None and rng.random() < 0.65:
        desc = _cause(mess, dep)
    else:
        desc = f"Alerts fired for {service}. Investigating impact on customers."
    desc += " " + text.incident_impact(service)
    if fix is not None:
        ref = f"{fix.project.path_with_namespace}!{fix.iid}"
        desc += f"\n\nFixed by {ref} (merge commit {fix.merge_sha[:10]})."
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
