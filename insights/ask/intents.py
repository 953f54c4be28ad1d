"""The allowlist of Guarded Ask: every question it answers maps to exactly one of these intents, and the only
SQL that ever runs for a question is the intent's template below, with the question's parameters bound
(psycopg named parameters, never formatted into the text).

One entry per intent, in ``INTENTS``: its words (``require``: every group must be present; ``boost``: each
group
present adds a point), the parameters it takes, the SQL template over ``marts``, the one-line plain reading of
its rows and its example questions with the parameters they must be understood with (tests/ask checks every
example). The words are canonical terms: ``TERMS`` maps the ways people say them (plurals, synonyms, phrases)
to one term each. docs/ask.md explains how to add an intent.

Bound parameters (only those a template names are bound):

* ``team`` — a ``dim_teams.team_id`` or NULL (all teams); ``limit`` — 1 to 100 (default 10);
* ``since`` / ``until`` — the period as UTC timestamps (``[since, until)``), ``start_day`` / ``end_day`` the
  same as dates, ``first_week`` the Monday of the week holding ``start_day`` (weekly marts);
* ``issue_key`` — an upper-case issue key; ``metric`` — a metric name of ``rpt_weekly_report_metrics``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Row = Mapping[str, Any]

# ---------------------------------------------------------------------------------------------------- terms
# canonical term -> the words and phrases meaning it (a phrase of several words is matched before its words)
TERMS: dict[str, tuple[str, ...]] = {
    "review": ("review", "reviews", "reviewed", "reviewing", "reviewer", "reviewers", "code review"),
    "wait": (
        "wait",
        "waits",
        "waited",
        "waiting",
        "queue",
        "queued",
        "pickup",
        "pickups",
        "pick up",
        "picked up",
        "pick-up",
    ),
    "slow": (
        "slow",
        "slowest",
        "slower",
        "long",
        "longest",
        "longer",
        "lengthy",
        "duration",
        "durations",
        "took",
    ),
    "issue": (
        "ticket",
        "tickets",
        "issue",
        "issues",
        "item",
        "items",
        "story",
        "stories",
        "task",
        "tasks",
        "bug",
        "bugs",
    ),
    "work": ("work", "workload"),
    "mr": (
        "mr",
        "mrs",
        "merge request",
        "merge requests",
        "pr",
        "prs",
        "pull request",
        "pull requests",
    ),
    "unreviewed": (
        "unreviewed",
        "without review",
        "without a review",
        "without any review",
        "with no review",
        "no review",
        "not reviewed",
        "never reviewed",
        "self-approved",
        "self approved",
        "self-merged",
        "rubber-stamped",
    ),
    "merged": ("merged", "merge", "merges", "merging"),
    "blocked": (
        "blocked",
        "blocker",
        "blockers",
        "blocking",
        "block",
        "blocks",
        "stuck",
        "impediment",
        "impediments",
        "impeded",
    ),
    "unescalated": (
        "unescalated",
        "not escalated",
        "never escalated",
        "without escalation",
        "without escalating",
        "no escalation",
        "nobody escalated",
        "escalate",
        "escalated",
        "escalation",
        "escalations",
    ),
    "ci": ("ci", "pipeline", "pipelines", "build", "builds", "job", "jobs", "gitlab ci", "ci/cd"),
    "fail": ("fail", "fails", "failed", "failing", "failure", "failures", "broken", "red"),
    "rate": ("rate", "rates", "ratio", "share", "percentage", "percent", "how often", "proportion"),
    "retry": ("retry", "retries", "retried", "rerun", "reruns", "re-run", "re-runs", "retrying", "rerunning"),
    "waste": ("waste", "wasted", "wasting", "lost", "cost", "costs"),
    "flaky": ("flaky", "flakey", "flakiness", "flake", "flakes", "intermittent", "unstable"),
    "unlinked": (
        "unlinked",
        "not linked",
        "without a ticket",
        "without ticket",
        "without tickets",
        "without an issue",
        "without issue",
        "without a jira",
        "without jira",
        "no ticket",
        "no issue",
        "no jira",
        "no link",
        "without link",
        "without a link",
        "missing link",
        "missing links",
        "orphan",
        "orphaned",
        "untracked",
        "linkage",
    ),
    "throughput": (
        "throughput",
        "completed",
        "completion",
        "completions",
        "finished",
        "delivered",
        "shipped",
        "closed",
        "done",
        "velocity",
        "output",
    ),
    "trend": (
        "trend",
        "trends",
        "trending",
        "over time",
        "per week",
        "weekly",
        "week by week",
        "each week",
        "every week",
        "by week",
    ),
    "cycletime": ("cycle time", "cycle times", "cycle-time", "cycletime", "time to done"),
    "wip": (
        "wip",
        "work in progress",
        "in progress",
        "in flight",
        "in-flight",
        "ongoing",
        "open",
        "unfinished",
    ),
    "oldest": ("oldest", "old", "aged", "ageing", "aging", "age", "stale", "older"),
    "now": ("now", "current", "currently", "right now", "at the moment"),
    "sprint": ("sprint", "sprints", "iteration", "iterations"),
    "planning": (
        "planning",
        "plan",
        "planned",
        "plans",
        "commitment",
        "commitments",
        "committed",
        "overcommit",
        "overcommitted",
        "overcommitment",
        "accuracy",
        "accurate",
        "predictability",
        "carried over",
        "carry over",
        "carryover",
    ),
    "dora": (
        "dora",
        "four keys",
        "4 keys",
        "dora keys",
        "dora metrics",
        "deployment frequency",
        "deploy frequency",
        "deployments per week",
        "deploys per week",
        "change failure rate",
        "change fail rate",
        "lead time for changes",
        "lead time",
        "lead times",
        "time to restore",
        "recovery time",
        "time to recover",
        "mttr",
    ),
    "incident": ("incident", "incidents", "outage", "outages", "sev1", "sev2", "postmortem", "postmortems"),
    "deploy": (
        "deploy",
        "deploys",
        "deployed",
        "deployment",
        "deployments",
        "release",
        "releases",
        "released",
        "rollout",
        "rollouts",
    ),
    "cause": (
        "caused",
        "cause",
        "causes",
        "causing",
        "attributed",
        "attribution",
        "responsible",
        "triggered",
    ),
    "recommend": (
        "recommendation",
        "recommendations",
        "recommend",
        "recommended",
        "suggestion",
        "suggestions",
        "suggested",
        "advice",
        "playbook",
    ),
    "status": (
        "status",
        "statuses",
        "state",
        "approved",
        "rejected",
        "proposed",
        "decision",
        "decisions",
        "decided",
    ),
    "outcome": (
        "outcome",
        "outcomes",
        "verdict",
        "verdicts",
        "verified",
        "verification",
        "verify",
        "result",
        "results",
        "effect",
        "effects",
        "impact",
        "worked",
        "did it work",
        "did they work",
    ),
    "intervention": ("intervention", "interventions", "experiment", "experiments"),
    "metric": ("metric", "metrics", "kpi", "kpis", "measure", "indicator", "indicators"),
    "happened": (
        "happened",
        "history",
        "timeline",
        "story of",
        "tell me about",
        "details",
        "summary",
        "what about",
    ),
}

# ------------------------------------------------------------------------------------------------ metrics
# metric_name of rpt_weekly_report_metrics -> the ways a question names it
METRICS: dict[str, tuple[str, ...]] = {
    "throughput": ("throughput",),
    "cycle_time_p50": (
        "cycle_time_p50",
        "cycle time p50",
        "median cycle time",
        "cycle time median",
        "cycle time",
    ),
    "cycle_time_p85": ("cycle_time_p85", "cycle time p85", "cycle time 85th percentile"),
    "blocked_share": ("blocked_share", "blocked share", "share blocked"),
    "review_pickup_p50": ("review_pickup_p50", "review pickup p50", "review pickup", "median review pickup"),
    "rework_rate": ("rework_rate", "rework rate", "rework"),
    "wip": ("wip", "work in progress"),
    "ci_failure_rate": ("ci_failure_rate", "ci failure rate", "pipeline failure rate"),
    "ci_retry_waste": ("ci_retry_waste", "ci retry waste", "retry waste"),
    "unlinked_work": ("unlinked_work", "unlinked work"),
    "deployment_frequency": ("deployment_frequency", "deployment frequency", "deploy frequency"),
    "lead_time_for_changes": ("lead_time_for_changes", "lead time for changes", "lead time"),
    "change_failure_rate": ("change_failure_rate", "change failure rate"),
    "recovery_time": ("recovery_time", "recovery time", "time to restore"),
}


# ------------------------------------------------------------------------------------------------ readings


def _n(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
        return f"{float(value):,.{digits}f}"
    return str(value)


def _pct(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):.0f}%"


def _scope(params: Mapping[str, Any]) -> str:
    team = params.get("team")
    return f"team {team}" if team else "all teams"


def _when(params: Mapping[str, Any]) -> str:
    period = params.get("period")
    return f" {period}" if period else ""


def _none(what: str, params: Mapping[str, Any]) -> str:
    return f"No {what} in {_scope(params)}{_when(params)}."


def _read_review_waits(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return _none("issue waited for review", params)
    top = rows[0]
    return (
        f"{top['issue_key']} waited longest for review in {_scope(params)}{_when(params)}: "
        f"{_n(top['review_wait_hours'])} h; {len(rows)} issue(s) listed, longest first."
    )


def _read_slowest_reviews(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return _none("reviewed merge request was merged", params)
    top = rows[0]
    return (
        f"The slowest review in {_scope(params)}{_when(params)} was MR {top['merge_request_id']} "
        f"({_n(top['review_duration_hours'])} h from first review to merge); {len(rows)} listed, slowest "
        f"first."
    )


def _read_blocked(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return _none("work was blocked", params)
    top = rows[0]
    return (
        f"{rows[0]['blocked_issues_total']} issue(s) were blocked in {_scope(params)}{_when(params)}, "
        f"{_n(top['blocked_hours_total'])} blocked hours in all; the most: {top['issue_key']} "
        f"({_n(top['blocked_hours_in_period'])} h)."
    )


def _read_unescalated(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return _none("blocker sat 24 h or more without escalation", params)
    top = rows[0]
    return (
        f"{rows[0]['unescalated_blockers_total']} blocker(s) in {_scope(params)}{_when(params)} sat 24 h or "
        f"more "
        f"with no status or assignee change; the longest: {top['issue_key']} "
        f"({_n(top['unescalated_blocked_hours'])} h)."
    )


def _read_failure_rate(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return _none("pipeline finished", params)
    top = rows[0]
    return (
        f"Highest CI failure rate{_when(params)}: {top['team_id']} at {_pct(top['failure_rate'])} "
        f"({top['failed_pipelines']} of {top['finished_pipelines']} finished pipelines failed)."
    )


def _read_retry_waste(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return _none("pipeline ran", params)
    top = rows[0]
    return (
        f"Most CI retry waste{_when(params)}: {top['team_id']}, {_n(top['retry_waste_hours'])} h of replaced "
        f"job "
        f"runs over {top['pipelines_with_retries']} of {top['pipelines']} pipelines."
    )


def _read_flaky(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return _none("flaky pipeline", params)
    return (
        f"{rows[0]['flaky_pipelines_total']} flaky pipeline(s) in {_scope(params)}{_when(params)} (succeeded "
        f"only "
        f"after a failed job was retried); the worst: pipeline {rows[0]['pipeline_id']}."
    )


def _read_unlinked(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return _none("done work", params)
    top = rows[0]
    return (
        f"Most unlinked work{_when(params)}: {top['team_id']}, {_pct(top['unlinked_work_share'])} of done "
        f"issues "
        f"({top['unlinked_done_issues']} of {top['done_issues']}) had no merge request; "
        f"{top['unlinked_merge_requests']} merged MR(s) named no issue."
    )


def _read_throughput(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return _none("week", params)
    values = [int(row["issues_done"] or 0) for row in rows]
    return (
        f"{_scope(params).capitalize()} finished {sum(values)} issue(s) over {len(rows)} "
        f"week(s){_when(params)}: "
        f"{values[-1]} in the latest week, {min(values)}-{max(values)} a week."
    )


def _read_cycle_time(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return _none("work was finished", params)
    first, last = rows[0], rows[-1]
    return (
        f"Median cycle time in {_scope(params)}: {_n(last['cycle_time_p50_hours'])} h in the week of "
        f"{last['week_start_date']}, against {_n(first['cycle_time_p50_hours'])} h in the week of "
        f"{first['week_start_date']}."
    )


def _read_wip(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return f"Nothing is in progress in {_scope(params)}."
    top = rows[0]
    return (
        f"{top['wip_items']} item(s) in progress in {_scope(params)}; the oldest: {top['issue_key']} "
        f"({_n(top['age_days'])} days, {top['current_status']})."
    )


def _read_sprints(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return _none("sprint started", params)
    scored = [row for row in rows if row["planning_accuracy"] is not None]
    if not scored:
        return f"{len(rows)} sprint(s), none scored yet (running or cut by the history start)."
    worst = min(scored, key=lambda row: row["planning_accuracy"])
    return (
        f"{len(rows)} sprint(s) in {_scope(params)}{_when(params)}; the least accurate plan: "
        f"{worst['sprint_name']} ({_pct(worst['planning_accuracy'])} of committed issues completed)."
    )


def _read_dora(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return _none("week", params)
    top = rows[0]
    return (
        f"{top['team_id']}, week of {top['week_start_date']}: {_n(top['deployments_per_week_4w'])} "
        f"deployments a week "
        f"(4-week average, {top['deployment_frequency_band'] or '—'}), lead time p50 "
        f"{_n(top['lead_time_for_changes_p50_hours'])} h, change failure rate "
        f"{_pct(top['change_failure_rate'])}, "
        f"time to restore p50 {_n(top['recovery_time_p50_hours'])} h."
    )


def _read_incidents(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return _none("incident", params)
    attributed = sum(1 for row in rows if row["deployment_id"])
    return (
        f"{len(rows)} incident(s) in {_scope(params)}{_when(params)}, {attributed} attributed to a "
        f"deployment; "
        f"the latest: {rows[0]['issue_key']}."
    )


def _read_recommendations(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return f"No recommendation for {_scope(params)}."
    top = rows[0]
    return (
        f"{len(rows)} recommendation(s) for {_scope(params)}; first: {top['recommendation_id']} "
        f"({top['title']}, {top['status']})."
    )


def _read_outcomes(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return f"No verified intervention for {_scope(params)}."
    watched = [row for row in rows if row["metric_role"] == "watched"] or list(rows)
    top = watched[0]
    return (
        f"{top['recommendation_id']}: {top['metric_name']} {top['verdict']} "
        f"(change {_n(top['change'], 2)}, 95% CI {_n(top['change_ci_low'], 2)} to "
        f"{_n(top['change_ci_high'], 2)})."
    )


def _read_issue(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return f"No issue {params.get('issue_key')} in the marts" + (
            f" of team {params['team']}." if params.get("team") else "."
        )
    row = rows[0]
    return (
        f"{row['issue_key']} ({row['team_id']}) is {row['current_status']}: cycle time "
        f"{_n(row['cycle_time_hours'])} h, blocked {_n(row['blocked_hours'])} h, waited "
        f"{_n(row['review_wait_hours'])} h "
        f"for review, {row['linked_merge_requests']} linked MR(s)."
    )


def _read_metric(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return _none(f"week of {params.get('metric')}", params)
    last = rows[-1]
    return (
        f"{last['label']} for {_scope(params)} in the week of {last['week_start_date']}: "
        f"{_n(last['value'], 2)} {last['unit'] or ''} (8-week median {_n(last['median_8w'], 2)})."
    )


def _read_unreviewed(rows: Sequence[Row], params: Mapping[str, Any]) -> str:
    if not rows:
        return _none("merge request was merged without review", params)
    return (
        f"{rows[0]['unreviewed_total']} merge request(s) in {_scope(params)}{_when(params)} were merged "
        f"without a "
        f"review by someone else; the latest: MR {rows[0]['merge_request_id']}."
    )


# ------------------------------------------------------------------------------------------------ registry


@dataclass(frozen=True)
class Example:
    """An example question and the parameters it must be understood with (checked by tests/ask)."""

    question: str
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Intent:
    name: str
    title: str
    description: str
    require: tuple[frozenset[str], ...]
    sql: str
    reading: Callable[[Sequence[Row], Mapping[str, Any]], str]
    examples: tuple[Example, ...]
    boost: tuple[frozenset[str], ...] = ()
    takes: frozenset[str] = frozenset({"team", "period", "limit"})
    needs: frozenset[str] = frozenset()  # parameters the question must give (issue_key, metric)
    default_period: tuple[int, str] | None = (4, "weeks")
    require_weight: int = 2

    @property
    def bound_names(self) -> tuple[str, ...]:
        """The parameters the template binds, in order of first use."""
        return tuple(dict.fromkeys(re.findall(r"%\((\w+)\)s", self.sql)))


def _terms(*groups: str) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(group.split("|")) for group in groups)


INTENTS: tuple[Intent, ...] = (
    Intent(
        name="longest_review_waits",
        title="Longest review waits",
        description="Issues whose linked merge requests waited longest for a first review "
        "(review_wait_hours), "
        "among issues in progress at some point of the period.",
        require=_terms("review", "wait"),
        boost=_terms("issue", "slow"),
        sql="""
select
    lifecycle.issue_key,
    lifecycle.team_id,
    round(lifecycle.review_wait_hours, 1) as review_wait_hours,
    lifecycle.current_status,
    lifecycle.started_at,
    lifecycle.done_at,
    lifecycle.summary
from marts.fct_issue_lifecycle as lifecycle
where
    lifecycle.review_wait_hours > 0
    and (%(team)s::text is null or lifecycle.team_id = %(team)s)
    and coalesce(lifecycle.started_at, lifecycle.created_at) < %(until)s
    and (lifecycle.done_at is null or lifecycle.done_at >= %(since)s)
order by lifecycle.review_wait_hours desc, lifecycle.issue_key
limit %(limit)s
""",
        reading=_read_review_waits,
        examples=(
            Example(
                "Which tickets waited longest for review last month in checkout?",
                {"team": "checkout", "period": "last month"},
            ),
            Example("longest review waits", {"team": None}),
        ),
    ),
    Intent(
        name="slowest_reviews",
        title="Slowest reviews",
        description="Merged merge requests (no bots) with the longest review, from the first review to the "
        "merge "
        "(review_duration_hours), merged in the period.",
        require=_terms("review", "slow"),
        boost=_terms("mr"),
        sql="""
select
    mrs.merge_request_id,
    mrs.team_id,
    round(mrs.review_duration_hours, 1) as review_duration_hours,
    round(mrs.review_pickup_hours, 1) as review_pickup_hours,
    mrs.review_rounds,
    mrs.merged_at,
    mrs.linked_issue_keys,
    mrs.title,
    mrs.web_url
from marts.fct_merge_requests as mrs
where
    mrs.is_merged
    and not mrs.is_bot_author
    and mrs.review_duration_hours is not null
    and (%(team)s::text is null or mrs.team_id = %(team)s)
    and mrs.merged_at >= %(since)s
    and mrs.merged_at < %(until)s
order by mrs.review_duration_hours desc, mrs.merge_request_id
limit %(limit)s
""",
        reading=_read_slowest_reviews,
        examples=(
            Example("slowest reviews in payments last week", {"team": "payments", "period": "last week"}),
        ),
    ),
    Intent(
        name="blocked_work",
        title="Blocked work",
        description="Issues blocked (status or flag) during the period, with the blocked hours inside it, "
        "most "
        "first (fct_blocked_intervals).",
        require=_terms("blocked"),
        boost=_terms("issue|work", "slow|oldest"),
        sql="""
with blocked as (
    select
        lifecycle.issue_key,
        intervals.team_id,
        count(*) as blocked_windows,
        round(
            sum(
                extract(epoch from least(intervals.ended_at, %(until)s) - greatest(intervals.started_at,
                %(since)s))
            ) / 3600.0,
            1
        ) as blocked_hours_in_period,
        bool_or(intervals.is_current) as is_blocked_now,
        max(lifecycle.current_status) as current_status
    from marts.fct_blocked_intervals as intervals
    inner join marts.fct_issue_lifecycle as lifecycle on intervals.issue_id = lifecycle.issue_id
    where
        (%(team)s::text is null or intervals.team_id = %(team)s)
        and intervals.started_at < %(until)s
        and intervals.ended_at > %(since)s
    group by lifecycle.issue_key, intervals.team_id
)

select
    blocked.issue_key,
    blocked.team_id,
    blocked.blocked_windows,
    blocked.blocked_hours_in_period,
    blocked.is_blocked_now,
    blocked.current_status,
    count(*) over () as blocked_issues_total,
    sum(blocked.blocked_hours_in_period) over () as blocked_hours_total
from blocked
order by blocked.blocked_hours_in_period desc, blocked.issue_key
limit %(limit)s
""",
        reading=_read_blocked,
        examples=(
            Example("blocked work in payments this month", {"team": "payments", "period": "this month"}),
        ),
    ),
    Intent(
        name="unescalated_blockers",
        title="Unescalated blockers",
        description="Blocked windows of 24 h or more with no status or assignee change inside them (the "
        "blocked_not_escalated rule's observations), started in the period.",
        require=_terms("unescalated"),
        boost=_terms("blocked", "issue|work"),
        sql="""
select
    observations.item_label as issue_key,
    observations.team_id,
    round(observations.value, 1) as unescalated_blocked_hours,
    intervals.started_at as blocked_since,
    intervals.ended_at as blocked_until,
    intervals.is_current as is_blocked_now,
    count(*) over () as unescalated_blockers_total
from marts.fct_metric_observations as observations
left join marts.fct_blocked_intervals as intervals on observations.item_id = intervals.blocked_interval_id
where
    observations.metric_name = 'unescalated_blocked_hours'
    and observations.value > 0
    and (%(team)s::text is null or observations.team_id = %(team)s)
    and observations.observed_at >= %(since)s
    and observations.observed_at < %(until)s
order by observations.value desc, observations.item_id
limit %(limit)s
""",
        reading=_read_unescalated,
        examples=(
            Example("unescalated blockers in payments", {"team": "payments"}),
            Example("which blockers were never escalated last month?", {"period": "last month"}),
        ),
    ),
    Intent(
        name="ci_failure_rate",
        title="CI failure rate by team",
        description="Failed / (succeeded + failed) pipelines per team over the period (fct_ci_daily).",
        require=_terms("fail", "ci|rate"),
        boost=_terms("rate", "ci"),
        sql="""
select
    daily.team_id,
    sum(daily.pipelines_succeeded + daily.pipelines_failed) as finished_pipelines,
    sum(daily.pipelines_failed) as failed_pipelines,
    round(
        1.0 * sum(daily.pipelines_failed) / nullif(sum(daily.pipelines_succeeded + daily.pipelines_failed),
        0),
        4
    ) as failure_rate
from marts.fct_ci_daily as daily
where
    (%(team)s::text is null or daily.team_id = %(team)s)
    and daily.date_day >= %(start_day)s
    and daily.date_day < %(end_day)s
group by daily.team_id
order by failure_rate desc nulls last, daily.team_id
limit %(limit)s
""",
        reading=_read_failure_rate,
        examples=(Example("CI failure rate by team last 4 weeks", {"period": "last 4 weeks"}),),
    ),
    Intent(
        name="ci_retry_waste",
        title="CI retry waste",
        description="Run time of job attempts that a later attempt replaced, per team, pipelines created in "
        "the "
        "period (fct_pipelines.retry_waste_minutes).",
        require=_terms("retry"),
        boost=_terms("waste", "ci"),
        sql="""
select
    pipelines.team_id,
    count(*) as pipelines,
    count(*) filter (where pipelines.retried_attempt_count > 0) as pipelines_with_retries,
    round(sum(pipelines.retry_waste_minutes), 1) as retry_waste_minutes,
    round(sum(pipelines.retry_waste_minutes) / 60.0, 1) as retry_waste_hours
from marts.fct_pipelines as pipelines
where
    (%(team)s::text is null or pipelines.team_id = %(team)s)
    and pipelines.created_at >= %(since)s
    and pipelines.created_at < %(until)s
group by pipelines.team_id
order by retry_waste_minutes desc nulls last, pipelines.team_id
limit %(limit)s
""",
        reading=_read_retry_waste,
        examples=(Example("how much time do CI retries waste in platform?", {"team": "platform"}),),
    ),
    Intent(
        name="flaky_pipelines",
        title="Flaky pipelines",
        description="Pipelines that succeeded only after a failed job was retried (fct_pipelines.is_flaky), "
        "created in the period.",
        require=_terms("flaky"),
        boost=_terms("ci"),
        require_weight=3,
        sql="""
select
    pipelines.pipeline_id,
    pipelines.team_id,
    pipelines.ref,
    pipelines.created_at,
    pipelines.flaky_job_count,
    pipelines.retried_job_count,
    round(pipelines.retry_waste_minutes, 1) as retry_waste_minutes,
    pipelines.web_url,
    count(*) over () as flaky_pipelines_total
from marts.fct_pipelines as pipelines
where
    pipelines.is_flaky
    and (%(team)s::text is null or pipelines.team_id = %(team)s)
    and pipelines.created_at >= %(since)s
    and pipelines.created_at < %(until)s
order by pipelines.flaky_job_count desc, pipelines.retry_waste_minutes desc, pipelines.pipeline_id
limit %(limit)s
""",
        reading=_read_flaky,
        examples=(
            Example(
                "flaky pipelines in platform last 2 weeks", {"team": "platform", "period": "last 2 weeks"}
            ),
        ),
    ),
    Intent(
        name="unlinked_work",
        title="Unlinked work by team",
        description="Done issues with no linked merge request, and merged human MRs naming no issue, per "
        "team, "
        "weeks starting in the period (fct_work_linkage).",
        require=_terms("unlinked"),
        boost=_terms("work|issue|mr"),
        sql="""
select
    linkage.team_id,
    sum(linkage.done_issue_count) as done_issues,
    sum(linkage.unlinked_done_issue_count) as unlinked_done_issues,
    round(1.0 * sum(linkage.unlinked_done_issue_count) / nullif(sum(linkage.done_issue_count), 0), 4)
        as unlinked_work_share,
    sum(linkage.merged_merge_request_count) as merged_merge_requests,
    sum(linkage.unlinked_merge_request_count) as unlinked_merge_requests
from marts.fct_work_linkage as linkage
where
    (%(team)s::text is null or linkage.team_id = %(team)s)
    and linkage.week_start_date >= %(first_week)s
    and linkage.week_start_date < %(end_day)s
group by linkage.team_id
order by unlinked_work_share desc nulls last, linkage.team_id
limit %(limit)s
""",
        reading=_read_unlinked,
        examples=(Example("unlinked work by team this month", {"period": "this month"}),),
    ),
    Intent(
        name="throughput_trend",
        title="Throughput trend",
        description="Issues finished per week (fct_team_weekly_metrics.throughput), summed over the team(s), "
        "the "
        "latest weeks of the period.",
        require=_terms("throughput"),
        boost=_terms("trend", "issue|work"),
        default_period=(8, "weeks"),
        sql="""
select recent.*
from (
    select
        weekly.week_start_date,
        sum(weekly.throughput) as issues_done,
        count(distinct weekly.team_id) as teams
    from marts.fct_team_weekly_metrics as weekly
    where
        (%(team)s::text is null or weekly.team_id = %(team)s)
        and weekly.week_start_date >= %(first_week)s
        and weekly.week_start_date < %(end_day)s
    group by weekly.week_start_date
    order by weekly.week_start_date desc
    limit %(limit)s
) as recent
order by recent.week_start_date
""",
        reading=_read_throughput,
        examples=(Example("throughput trend for checkout", {"team": "checkout"}),),
    ),
    Intent(
        name="cycle_time_trend",
        title="Cycle-time trend",
        description="Median and 85th percentile cycle time of the work finished each week "
        "(fct_issue_lifecycle, "
        "done work), the latest weeks of the period.",
        require=_terms("cycletime"),
        boost=_terms("trend", "issue|work"),
        default_period=(8, "weeks"),
        sql="""
select recent.*
from (
    select
        date_trunc('week', lifecycle.done_at at time zone 'utc')::date as week_start_date,
        count(*) as issues_done,
        round(percentile_cont(0.5) within group (order by lifecycle.cycle_time_hours)::numeric, 1)
            as cycle_time_p50_hours,
        round(percentile_cont(0.85) within group (order by lifecycle.cycle_time_hours)::numeric, 1)
            as cycle_time_p85_hours
    from marts.fct_issue_lifecycle as lifecycle
    where
        lifecycle.is_done_work
        and lifecycle.cycle_time_hours is not null
        and (%(team)s::text is null or lifecycle.team_id = %(team)s)
        and lifecycle.done_at >= %(since)s
        and lifecycle.done_at < %(until)s
    group by 1
    order by 1 desc
    limit %(limit)s
) as recent
order by recent.week_start_date
""",
        reading=_read_cycle_time,
        examples=(
            Example(
                "cycle time trend in payments over the last 6 weeks",
                {"team": "payments", "period": "last 6 weeks"},
            ),
        ),
    ),
    Intent(
        name="current_wip",
        title="Current WIP and its oldest items",
        description="Open work at the as-of date (fct_wip_current), oldest first, with the total.",
        require=_terms("wip"),
        boost=_terms("oldest", "now", "issue|work"),
        takes=frozenset({"team", "limit"}),
        default_period=None,
        sql="""
select
    wip.issue_key,
    wip.team_id,
    wip.current_status,
    round(wip.age_days, 1) as age_days,
    round(wip.blocked_hours, 1) as blocked_hours,
    wip.is_flagged,
    wip.has_assignee,
    wip.risk_score,
    count(*) over () as wip_items
from marts.fct_wip_current as wip
where %(team)s::text is null or wip.team_id = %(team)s
order by wip.age_days desc, wip.issue_key
limit %(limit)s
""",
        reading=_read_wip,
        examples=(Example("what is in progress right now in checkout, oldest first?", {"team": "checkout"}),),
    ),
    Intent(
        name="sprint_accuracy",
        title="Sprint planning accuracy",
        description="Sprints started in the period: committed, added, completed and carried over issues and "
        "the "
        "planning accuracy (fct_sprint_performance).",
        require=_terms("sprint|planning"),
        boost=_terms("sprint", "planning"),
        default_period=(12, "weeks"),
        sql="""
select
    sprints.sprint_name,
    sprints.team_id,
    sprints.started_at,
    sprints.completed_at,
    sprints.committed_count,
    sprints.completed_committed_count,
    sprints.added_count,
    sprints.carried_over_count,
    sprints.planning_accuracy,
    sprints.is_running
from marts.fct_sprint_performance as sprints
where
    (%(team)s::text is null or sprints.team_id = %(team)s)
    and sprints.started_at >= %(since)s
    and sprints.started_at < %(until)s
order by sprints.started_at desc, sprints.sprint_name
limit %(limit)s
""",
        reading=_read_sprints,
        examples=(Example("sprint planning accuracy for payments", {"team": "payments"}),),
    ),
    Intent(
        name="dora_keys",
        title="DORA keys",
        description="Deployment frequency, lead time for changes, change failure rate and time to restore "
        "per "
        "team and week, with their bands (rpt_dora_weekly), latest week first.",
        require=_terms("dora"),
        boost=_terms("deploy", "trend"),
        require_weight=3,
        sql="""
select
    dora.week_start_date,
    dora.team_id,
    dora.deployment_count,
    dora.deployments_per_week_4w,
    dora.deployment_frequency_band,
    dora.lead_time_for_changes_p50_hours,
    dora.lead_time_for_changes_band,
    dora.change_failure_rate,
    dora.change_failure_rate_band,
    dora.recovery_time_p50_hours,
    dora.recovery_time_band
from marts.rpt_dora_weekly as dora
where
    (%(team)s::text is null or dora.team_id = %(team)s)
    and dora.week_start_date >= %(first_week)s
    and dora.week_start_date < %(end_day)s
order by dora.week_start_date desc, dora.team_id
limit %(limit)s
""",
        reading=_read_dora,
        examples=(Example("DORA metrics for platform", {"team": "platform"}),),
    ),
    Intent(
        name="incidents",
        title="Incidents and their attributed deployments",
        description="Incidents opened in the period with the production deployment they are attributed to, "
        "how "
        "(explicit or inferred) and the time to restore (fct_incidents, fct_deployments).",
        require=_terms("incident"),
        boost=_terms("deploy", "cause"),
        require_weight=3,
        default_period=(12, "weeks"),
        sql="""
select
    incidents.issue_key,
    incidents.team_id,
    incidents.created_at,
    incidents.deployment_id,
    deployments.environment_name,
    incidents.deployed_at,
    incidents.attribution_method,
    incidents.is_explicitly_attributed,
    round(incidents.time_to_restore_hours, 1) as time_to_restore_hours
from marts.fct_incidents as incidents
left join marts.fct_deployments as deployments on incidents.deployment_id = deployments.deployment_id
where
    (%(team)s::text is null or incidents.team_id = %(team)s)
    and incidents.created_at >= %(since)s
    and incidents.created_at < %(until)s
order by incidents.created_at desc, incidents.incident_id
limit %(limit)s
""",
        reading=_read_incidents,
        examples=(Example("which deployments caused incidents last 3 months?", {"period": "last 3 months"}),),
    ),
    Intent(
        name="recommendations",
        title="Current recommendations and their status",
        description="The recommended interventions, ranked, with their latest decision "
        "(fct_recommendations).",
        require=_terms("recommend"),
        boost=_terms("status", "now"),
        takes=frozenset({"team", "limit"}),
        default_period=None,
        sql="""
select
    recommendations.recommendation_id,
    recommendations.team_id,
    recommendations.rank,
    recommendations.title,
    recommendations.status,
    recommendations.severity,
    recommendations.is_currently_diagnosed,
    round(recommendations.hours_lost_per_week, 1) as hours_lost_per_week,
    round(recommendations.weekly_value, 0) as weekly_value,
    recommendations.hourly_cost_currency,
    recommendations.decided_by,
    recommendations.intervention_start_date
from marts.fct_recommendations as recommendations
where %(team)s::text is null or recommendations.team_id = %(team)s
order by recommendations.rank, recommendations.recommendation_id
limit %(limit)s
""",
        reading=_read_recommendations,
        examples=(Example("current recommendations and their status", {"team": None}),),
    ),
    Intent(
        name="intervention_outcomes",
        title="Verified intervention outcomes",
        description="The verification of approved interventions: change of the watched and guard metrics "
        "with "
        "its 95% interval, difference-in-differences and verdict (fct_intervention_outcomes).",
        require=_terms("outcome|intervention"),
        boost=_terms("outcome", "intervention"),
        takes=frozenset({"team", "limit"}),
        default_period=None,
        sql="""
select
    outcomes.recommendation_id,
    outcomes.team_id,
    outcomes.metric_name,
    outcomes.metric_role,
    outcomes.intervention_start_date,
    outcomes.treated_before,
    outcomes.treated_after,
    outcomes.change,
    outcomes.change_ci_low,
    outcomes.change_ci_high,
    outcomes.did_estimate,
    outcomes.verdict,
    outcomes.verdict_basis
from marts.fct_intervention_outcomes as outcomes
where %(team)s::text is null or outcomes.team_id = %(team)s
order by outcomes.recommendation_id, outcomes.metric_role desc, outcomes.metric_name
limit %(limit)s
""",
        reading=_read_outcomes,
        examples=(Example("did our interventions work?", {"team": None}),),
    ),
    Intent(
        name="issue_summary",
        title="One issue",
        description="One issue's lifecycle numbers and its linked merge requests (fct_issue_lifecycle, "
        "fct_issue_merge_request_links).",
        require=(),
        boost=_terms("happened", "slow", "blocked", "review"),
        takes=frozenset({"issue_key", "team"}),
        needs=frozenset({"issue_key"}),
        default_period=None,
        sql="""
select
    lifecycle.issue_key,
    lifecycle.team_id,
    lifecycle.issue_type,
    lifecycle.current_status,
    lifecycle.created_at,
    lifecycle.started_at,
    lifecycle.done_at,
    round(lifecycle.cycle_time_hours, 1) as cycle_time_hours,
    round(lifecycle.lead_time_hours, 1) as lead_time_hours,
    round(lifecycle.blocked_hours, 1) as blocked_hours,
    round(lifecycle.review_wait_hours, 1) as review_wait_hours,
    lifecycle.reopen_count,
    (
        select count(*)
        from marts.fct_issue_merge_request_links as links
        where links.issue_key = lifecycle.issue_key
    ) as linked_merge_requests,
    lifecycle.summary
from marts.fct_issue_lifecycle as lifecycle
where
    lifecycle.issue_key = %(issue_key)s
    and (%(team)s::text is null or lifecycle.team_id = %(team)s)
limit 1
""",
        reading=_read_issue,
        examples=(Example("what happened to PAY-387?", {"issue_key": "PAY-387"}),),
    ),
    Intent(
        name="metric_trend",
        title="A weekly metric",
        description="One metric of the weekly report, week by week, for a team or the organisation, with its "
        "8-week median (rpt_weekly_report_metrics).",
        require=_terms("metric"),
        boost=_terms("trend"),
        takes=frozenset({"team", "period", "limit", "metric"}),
        needs=frozenset({"metric"}),
        default_period=(8, "weeks"),
        sql="""
select recent.*
from (
    select
        report.week_start_date,
        coalesce(report.team_id, 'organisation') as scope,
        report.metric_name,
        report.label,
        report.unit,
        report.value,
        report.median_8w,
        report.sample_size,
        report.is_thin_sample
    from marts.rpt_weekly_report_metrics as report
    where
        report.metric_name = %(metric)s
        and (
            (%(team)s::text is null and report.scope = 'organisation')
            or (report.scope = 'team' and report.team_id = %(team)s)
        )
        and report.week_start_date >= %(first_week)s
        and report.week_start_date < %(end_day)s
    order by report.week_start_date desc
    limit %(limit)s
) as recent
order by recent.week_start_date
""",
        reading=_read_metric,
        examples=(Example("metric rework rate for checkout", {"team": "checkout", "metric": "rework_rate"}),),
    ),
    Intent(
        name="merged_without_review",
        title="Merged without review",
        description="Human merge requests merged in the period with no review or approval by someone other "
        "than "
        "the author (fct_merge_requests.is_merged_without_review).",
        require=_terms("unreviewed"),
        boost=_terms("mr", "merged"),
        sql="""
select
    mrs.merge_request_id,
    mrs.team_id,
    mrs.merged_at,
    mrs.is_self_approved,
    mrs.size_lines,
    mrs.linked_issue_keys,
    mrs.title,
    mrs.web_url,
    count(*) over () as unreviewed_total
from marts.fct_merge_requests as mrs
where
    mrs.is_merged_without_review
    and not mrs.is_bot_author
    and (%(team)s::text is null or mrs.team_id = %(team)s)
    and mrs.merged_at >= %(since)s
    and mrs.merged_at < %(until)s
order by mrs.merged_at desc, mrs.merge_request_id
limit %(limit)s
""",
        reading=_read_unreviewed,
        examples=(Example("which MRs were merged without review last week?", {"period": "last week"}),),
    ),
)

BY_NAME: dict[str, Intent] = {intent.name: intent for intent in INTENTS}
