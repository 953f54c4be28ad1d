"""The compiler, pure (no database): supported phrasings -> intent and parameters, several per intent, with
typos and different word orders; refusals naming the parameter; every registry example; determinism.

Today is 2026-11-20 (a Friday), the demo organisation's as_of (tests/ask/catalog.py)."""

from __future__ import annotations

from typing import Any

import pytest

from insights.ask.compiler import EXAMPLES, Plan, Refusal, compile_question
from insights.ask.intents import INTENTS
from tests.ask.catalog import CATALOG

LAST_4_WEEKS = {"period": "last 4 weeks", "period_start": "2026-10-24", "period_end": "2026-11-20"}
LAST_MONTH = {"period": "last month", "period_start": "2026-10-01", "period_end": "2026-10-31"}
LAST_WEEK = {"period": "last week", "period_start": "2026-11-09", "period_end": "2026-11-15"}
THIS_WEEK = {"period": "this week", "period_start": "2026-11-16", "period_end": "2026-11-20"}
THIS_MONTH = {"period": "this month", "period_start": "2026-11-01", "period_end": "2026-11-20"}

# (question, intent, expected parameters: a subset of what the compiler understood)
PHRASINGS: list[tuple[str, str, dict[str, Any]]] = [
    # longest review waits
    (
        "which tickets waited longest for review last month in checkout?",
        "longest_review_waits",
        {"team": "checkout", **LAST_MONTH, "limit": 10},
    ),
    (
        "In Checkout, last month: tickets waiting longest for review",
        "longest_review_waits",
        {"team": "checkout", **LAST_MONTH},
    ),
    ("longest review waits", "longest_review_waits", {"team": None, **LAST_4_WEEKS}),
    (
        "top 5 issues with the longest review pickup in payments",
        "longest_review_waits",
        {"team": "payments", "limit": 5},
    ),
    ("which tikets waited longest for reveiw in chekout", "longest_review_waits", {"team": "checkout"}),
    (
        "review waits for the platform team this week",
        "longest_review_waits",
        {"team": "platform", **THIS_WEEK},
    ),
    (
        "what is waiting for review the longest since 2026-10-01",
        "longest_review_waits",
        {"period": "since 2026-10-01", "period_start": "2026-10-01", "period_end": "2026-11-20"},
    ),
    # slowest reviews
    ("slowest reviews", "slowest_reviews", {"team": None, **LAST_4_WEEKS}),
    ("slowest code reviews in payments last week", "slowest_reviews", {"team": "payments", **LAST_WEEK}),
    ("Which merge requests took longest to review this month?", "slowest_reviews", {**THIS_MONTH}),
    ("longest reviews for checkout, top 3", "slowest_reviews", {"team": "checkout", "limit": 3}),
    (
        "review duration of PRs last 2 weeks",
        "slowest_reviews",
        {"period": "last 2 weeks", "period_start": "2026-11-07"},
    ),
    ("slowset reviews in platfrom", "slowest_reviews", {"team": "platform"}),
    # blocked work
    ("blocked work in payments this month", "blocked_work", {"team": "payments", **THIS_MONTH}),
    ("what was blocked last week?", "blocked_work", {"team": None, **LAST_WEEK}),
    ("which issues were stuck the longest in checkout", "blocked_work", {"team": "checkout"}),
    (
        "blockers for platform between 2026-09-01 and 2026-09-30",
        "blocked_work",
        {"team": "platform", "period_start": "2026-09-01", "period_end": "2026-09-30"},
    ),
    ("show me the 20 most blocked tickets", "blocked_work", {"limit": 20}),
    # unescalated blockers
    ("unescalated blockers in payments", "unescalated_blockers", {"team": "payments"}),
    ("which blockers were never escalated last month?", "unescalated_blockers", {**LAST_MONTH}),
    ("blocked work that nobody escalated, checkout", "unescalated_blockers", {"team": "checkout"}),
    ("unescalted blokers", "unescalated_blockers", {"team": None}),
    # CI failure rate
    ("CI failure rate by team last 4 weeks", "ci_failure_rate", {**LAST_4_WEEKS}),
    ("how often do pipelines fail in platform?", "ci_failure_rate", {"team": "platform"}),
    ("pipeline failure rate this month", "ci_failure_rate", {**THIS_MONTH}),
    ("failing builds in payments last week", "ci_failure_rate", {"team": "payments", **LAST_WEEK}),
    # retry waste
    ("how much time do CI retries waste in platform?", "ci_retry_waste", {"team": "platform"}),
    ("retry waste by team", "ci_retry_waste", {"team": None}),
    ("time wasted on job reruns last month", "ci_retry_waste", {**LAST_MONTH}),
    # flaky pipelines
    (
        "flaky pipelines in platform last 2 weeks",
        "flaky_pipelines",
        {"team": "platform", "period": "last 2 weeks"},
    ),
    ("which builds are flakey?", "flaky_pipelines", {}),
    ("top 15 flaky pipelines", "flaky_pipelines", {"limit": 15}),
    (
        "intermittent CI in checkout since 1 october",
        "flaky_pipelines",
        {"team": "checkout", "period_start": "2026-10-01"},
    ),
    # unlinked work
    ("unlinked work by team this month", "unlinked_work", {**THIS_MONTH}),
    ("which team has the most work without a ticket?", "unlinked_work", {}),
    ("merge requests not linked to jira in payments", "unlinked_work", {"team": "payments"}),
    ("untracked work last month", "unlinked_work", {**LAST_MONTH}),
    # throughput
    ("throughput trend for checkout", "throughput_trend", {"team": "checkout", "period": "last 8 weeks"}),
    ("how many tickets did payments complete per week?", "throughput_trend", {"team": "payments"}),
    ("weekly throughput over the last 12 weeks", "throughput_trend", {"period": "last 12 weeks"}),
    ("issues done each week in platfrom", "throughput_trend", {"team": "platform"}),
    # cycle time
    (
        "cycle time trend in payments over the last 6 weeks",
        "cycle_time_trend",
        {"team": "payments", "period": "last 6 weeks"},
    ),
    ("how long do tickets take in checkout", "cycle_time_trend", {"team": "checkout"}),
    ("median cycle time per week since 2026-09-01", "cycle_time_trend", {"period_start": "2026-09-01"}),
    ("cycel time", "cycle_time_trend", {}),
    # current WIP
    ("what is in progress right now in checkout, oldest first?", "current_wip", {"team": "checkout"}),
    ("current WIP", "current_wip", {"team": None, "limit": 10}),
    ("oldest open tickets for payments", "current_wip", {"team": "payments"}),
    ("show 25 oldest items in flight", "current_wip", {"limit": 25}),
    # sprints
    (
        "sprint planning accuracy for payments",
        "sprint_accuracy",
        {"team": "payments", "period": "last 12 weeks"},
    ),
    (
        "how accurate was planning in PAY Sprint 17?",
        "sprint_accuracy",
        {"period": "PAY Sprint 17", "period_start": "2026-11-02", "period_end": "2026-11-13"},
    ),
    (
        "carried over work in platform last sprint",
        "sprint_accuracy",
        {"team": "platform", "period": "PLAT Sprint 17"},
    ),
    (
        "sprint commitment vs completion last 3 months",
        "sprint_accuracy",
        {"period": "last 3 months", "period_start": "2026-09-01"},
    ),
    # DORA
    ("DORA metrics for platform", "dora_keys", {"team": "platform"}),
    ("deployment frequency of checkout last month", "dora_keys", {"team": "checkout", **LAST_MONTH}),
    ("change failure rate and time to restore for payments", "dora_keys", {"team": "payments"}),
    ("four keys", "dora_keys", {}),
    # incidents
    ("which deployments caused incidents last 3 months?", "incidents", {"period": "last 3 months"}),
    ("incidents in payments", "incidents", {"team": "payments", "period": "last 12 weeks"}),
    (
        "outages and the releases behind them in october",
        "incidents",
        {"period": "October 2026", "period_start": "2026-10-01", "period_end": "2026-10-31"},
    ),
    # recommendations
    ("current recommendations and their status", "recommendations", {"team": None}),
    ("what do you recommend for checkout?", "recommendations", {"team": "checkout"}),
    ("recomendations", "recommendations", {}),
    ("which suggestions were approved", "recommendations", {}),
    # intervention outcomes
    ("did our interventions work?", "intervention_outcomes", {"team": None}),
    ("verified intervention outcomes for checkout", "intervention_outcomes", {"team": "checkout"}),
    ("verdict of the experiments", "intervention_outcomes", {}),
    # one issue
    ("what happened to PAY-12?", "issue_summary", {"issue_key": "PAY-12"}),
    ("pay-387 timeline", "issue_summary", {"issue_key": "PAY-387"}),
    ("why did CHK-7 wait so long for review", "issue_summary", {"issue_key": "CHK-7"}),
    # weekly metric
    ("metric rework rate for checkout", "metric_trend", {"team": "checkout", "metric": "rework_rate"}),
    (
        "show the weekly metric review_pickup_p50 last 6 weeks",
        "metric_trend",
        {"metric": "review_pickup_p50", "period": "last 6 weeks"},
    ),
    ("KPI blocked share in payments", "metric_trend", {"metric": "blocked_share", "team": "payments"}),
    # merged without review
    ("which MRs were merged without review last week?", "merged_without_review", {**LAST_WEEK}),
    ("self-approved merge requests in checkout", "merged_without_review", {"team": "checkout"}),
    ("unreviewed merges this month", "merged_without_review", {**THIS_MONTH}),
]


def _plan(question: str) -> Plan:
    result = compile_question(question, CATALOG)
    assert isinstance(result, Plan), f"{question!r} refused: {result}"
    return result


def test_the_table_is_large_and_covers_every_intent() -> None:
    assert len(PHRASINGS) >= 60
    covered = {intent for _, intent, _ in PHRASINGS}
    assert covered == {intent.name for intent in INTENTS}
    per_intent = {name: sum(1 for _, intent, _ in PHRASINGS if intent == name) for name in covered}
    assert min(per_intent.values()) >= 3, per_intent


@pytest.mark.parametrize(("question", "intent", "expected"), PHRASINGS, ids=[q[:60] for q, _, _ in PHRASINGS])
def test_phrasing(question: str, intent: str, expected: dict[str, Any]) -> None:
    plan = _plan(question)
    assert plan.intent.name == intent, (plan.intent.name, plan.matched_terms)
    understood = {key: plan.parameters.get(key) for key in expected}
    assert understood == expected
    # the SQL is the intent's template, verbatim, and every bound value is a parameter of it
    assert plan.sql == plan.intent.sql.strip()
    assert set(plan.bound) == set(plan.intent.bound_names)


@pytest.mark.parametrize(
    "example",
    [(intent, example) for intent in INTENTS for example in intent.examples],
    ids=lambda e: e[1].question[:50],
)
def test_every_registry_example(example) -> None:
    intent, sample = example
    plan = _plan(sample.question)
    assert plan.intent.name == intent.name
    for key, value in sample.parameters.items():
        assert plan.parameters.get(key) == value, key


def test_compiling_is_deterministic() -> None:
    for question, _, _ in PHRASINGS:
        assert compile_question(question, CATALOG) == compile_question(question, CATALOG)


REFUSED: list[tuple[str, str | None, str]] = [
    ("what's the weather in Oslo?", None, "matches none"),
    ("flaky pipelines in Oslo", "team", "no team called 'oslo'"),
    ("what is the meaning of life", None, "matches none"),
    ("slowest reviews in narnia", "team", "no team called 'narnia'"),
    ("slowest reviews for team foo", "team", "no team called 'foo'"),
    ("slowest reviews next week", "period", "future"),
    ("slowest reviews since 2027-01-01", "period", "starts after"),
    ("blocked work between 2026-12-01 and 2026-12-31", "period", "starts after"),
    ("blocked work between 2026-10-31 and 2026-10-01", "period", "before it starts"),
    ("slowest reviews since 2026-02-30", "period", "not a date"),
    ("top 10000 slowest reviews", "limit", "at most 100"),
    ("limit 10000 flaky pipelines", "limit", "at most 100"),
    ("top 0 flaky pipelines", "limit", "at least 1"),
    ("current wip last month", "period", "does not take a period"),
    ("recommendations since 2026-10-01", "period", "does not take a period"),
    ("show the metric of doom for checkout", "metric", "name one of"),
    ("slowest reviews in checkout and payments", "team", "more than one team"),
    ("flaky pipelines in PAY Sprint 19", "period", "starts after"),
    ("sprint accuracy in sprint 12", "period", "no sprint"),
    ("", "question", "empty"),
    ("x" * 501, "question", "longer than 500"),
    ("slowest reviews\x00", "question", "control"),
    ("review", None, "matches none"),
]


@pytest.mark.parametrize(("question", "parameter", "reason"), REFUSED, ids=[q[:40] for q, _, _ in REFUSED])
def test_refusals_name_the_parameter(question: str, parameter: str | None, reason: str) -> None:
    result = compile_question(question, CATALOG)
    assert isinstance(result, Refusal), result
    assert result.parameter == parameter
    assert reason in result.reason
    assert result.examples == EXAMPLES and len(EXAMPLES) == len(INTENTS)


def test_two_intents_equally_is_refused_as_ambiguous() -> None:
    result = compile_question("flaky incidents", CATALOG)
    assert isinstance(result, Refusal)
    assert set(result.candidates) == {"flaky_pipelines", "incidents"}
    assert "equally" in result.reason and result.parameter is None


def test_a_non_string_question_is_refused() -> None:
    for value in (None, 42, ["slowest reviews"], {"q": 1}, b"slowest reviews"):
        result = compile_question(value, CATALOG)
        assert isinstance(result, Refusal) and result.parameter == "question"
