"""Guarded Ask's compiler: a question in plain language -> one allowlisted intent with validated, bound
parameters (a :class:`Plan`), or a :class:`Refusal` that says why.

Pure and deterministic: no language model, no network, no database. It sees the question and a
:class:`~insights.ask.parse.Catalog` (the teams, sprints and "today" of the warehouse) and nothing else; the
SQL
it hands on is always an intent's template text from insights/ask/intents.py, never text of the question.

How a question is read:

1. Refused outright when it is empty, longer than 500 characters or holds control characters (NUL, bidi
   overrides, zero-width characters).
2. Normalised (Unicode NFKC, case-folded), then the parameters are taken out of it: the period, an issue key,
   a row limit, a metric name (only after the word "metric"), the team (exact, or within a small typo).
3. The remaining words are mapped to canonical terms (``intents.TERMS``; a word that is a small typo of a
known
   word counts as that word), and every intent is scored: each of its ``require`` groups present adds its
   weight (all must be present), each ``boost`` group present one point. The single best intent wins; none,
   or two with the same score, is a refusal with example questions.
4. The parameters are checked against the intent (a snapshot intent takes no period; an issue question needs
   a key) and bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from insights.ask import intents as registry
from insights.ask.intents import INTENTS, METRICS, TERMS, Intent
from insights.ask.parse import (
    DEFAULT_LIMIT,
    MAX_QUESTION_CHARS,
    MONTHS,
    NUMBER_WORDS,
    STOPWORDS,
    Catalog,
    ParameterProblem,
    Period,
    blank,
    control_characters,
    extract_issue_key,
    extract_limit,
    extract_period,
    extract_team,
    known_word,
    normalise,
    resolve_sprint,
    tokens,
)

EXAMPLES: tuple[str, ...] = tuple(intent.examples[0].question for intent in INTENTS)

# phrase (several words) -> canonical term, longest first; single word -> canonical term
_PHRASES: list[tuple[re.Pattern[str], str]] = sorted(
    (
        (re.compile(r"(?<![a-z0-9])" + re.escape(phrase) + r"(?![a-z0-9])"), term)
        for term, phrases in TERMS.items()
        for phrase in phrases
        if not re.fullmatch(r"[a-z0-9]+", phrase)
    ),
    key=lambda item: -len(item[0].pattern),
)
_WORDS: dict[str, str] = {
    phrase: term
    for term, phrases in TERMS.items()
    for phrase in phrases
    if re.fullmatch(r"[a-z0-9]+", phrase)
}
_EXTRA_RULES: list[tuple[re.Pattern[str], str]] = [
    # "how long do/does/did ... take" is a cycle-time question
    (re.compile(r"\bhow long (?:do|does|did|will)\b(?:\s+\S+){0,4}?\s+take\b"), "cycletime"),
    (re.compile(r"\bdid\b(?:\s+\S+){0,5}?\s+work\b"), "outcome"),
]
VOCABULARY: frozenset[str] = frozenset(
    set(_WORDS)
    | STOPWORDS
    | set(MONTHS)
    | set(NUMBER_WORDS)
    | {word for phrases in TERMS.values() for phrase in phrases for word in tokens(phrase)}
    | {word for aliases in METRICS.values() for alias in aliases for word in tokens(alias)}
    | set(
        [
            "since",
            "between",
            "until",
            "till",
            "week",
            "weeks",
            "month",
            "months",
            "day",
            "days",
            "year",
            "years",
            "sprint",
            "sprints",
            "limit",
            "first",
            "top",
            "worst",
            "biggest",
            "largest",
            "highest",
            "lowest",
            "most",
            "least",
            "longest",
            "rows",
            "results",
            "list",
            "answer",
            "question",
            "and",
            "or",
            "not",
            "no",
            "than",
        ]
    )
)


@dataclass(frozen=True)
class Plan:
    """A compiled question: the intent, its parameters as understood, and the values bound to its template."""

    question: str
    intent: Intent
    parameters: dict[str, Any]
    bound: dict[str, Any]
    matched_terms: tuple[str, ...] = ()

    @property
    def sql(self) -> str:
        return self.intent.sql.strip()


@dataclass(frozen=True)
class Refusal:
    """Why a question is not answered: ``parameter`` names the parameter that did not validate (None when no
    single intent matched), ``candidates`` the intents tied, ``examples`` questions that are answered."""

    question: str
    reason: str
    parameter: str | None = None
    candidates: tuple[str, ...] = ()
    examples: tuple[str, ...] = EXAMPLES
    intent: str | None = None


@dataclass
class _Reading:
    text: str
    team: str | None = None
    period: Period | None = None
    limit: int | None = None
    issue_key: str | None = None
    metric: str | None = None
    sprint_words: str | None = None
    sprint_candidates: list[Any] = field(default_factory=list)
    unknown_team: str | None = None


def compile_question(question: Any, catalog: Catalog) -> Plan | Refusal:
    """The plan of ``question`` (any value: a non-string is refused), or why it is refused. Never raises for
    any input."""
    shown = question[:200] if isinstance(question, str) else ""
    try:
        return _compile(question, catalog)
    except ParameterProblem as problem:
        return Refusal(shown, str(problem), parameter=problem.parameter)
    except RecursionError:  # pragma: no cover - nothing recursive here, but never let a question crash
        return Refusal(shown, "question: cannot be read", parameter="question")


def _compile(question: Any, catalog: Catalog) -> Plan | Refusal:
    if not isinstance(question, str):
        raise ParameterProblem("question", "must be text")
    if not question.strip():
        raise ParameterProblem("question", "is empty: ask something like the examples")
    if len(question) > MAX_QUESTION_CHARS:
        raise ParameterProblem("question", f"longer than {MAX_QUESTION_CHARS} characters ({len(question)})")
    if control_characters(question):
        raise ParameterProblem("question", "contains control or invisible characters")
    reading = _Reading(normalise(question))
    _take_parameters(reading, catalog)
    scores = _score(reading.text, reading.issue_key)
    if not scores:
        return Refusal(question, "the question matches none of the questions Heimdall answers")
    ranked = sorted(scores.items(), key=lambda item: (-item[1][0], item[0]))
    best, (best_score, matched) = ranked[0]
    tied = tuple(name for name, (score, _) in ranked if score == best_score)
    if len(tied) > 1:
        titles = " / ".join(registry.BY_NAME[name].title for name in tied)
        return Refusal(
            question,
            f"the question matches several questions equally ({titles}): say which",
            candidates=tied,
        )
    if reading.unknown_team:
        known = ", ".join(t.team_id for t in catalog.teams) or "none"
        raise ParameterProblem("team", f"no team called {reading.unknown_team[:40]!r} (teams: {known})")
    intent = registry.BY_NAME[best]
    return _plan(question, intent, reading, catalog, matched)


def _take_parameters(reading: _Reading, catalog: Catalog) -> None:
    found = extract_period(reading.text, catalog)
    reading.period, reading.text = found.period, found.text
    reading.sprint_words, reading.sprint_candidates = found.sprint_words, found.candidates
    reading.issue_key, reading.text = extract_issue_key(reading.text)
    reading.limit, reading.text = extract_limit(reading.text)
    reading.metric, reading.text = _extract_metric(reading.text)
    team = extract_team(reading.text, catalog, VOCABULARY)
    reading.team, reading.text, reading.unknown_team = team.team, team.text, team.unknown
    if reading.sprint_words and not reading.unknown_team:
        reading.period = resolve_sprint(
            reading.sprint_words, reading.sprint_candidates, reading.team, catalog
        )


def _extract_metric(text: str) -> tuple[str | None, str]:
    """A metric of the weekly report, named after the word "metric" (or "kpi") anywhere in the question."""
    if not re.search(r"\b(?:metric|metrics|kpi|kpis|measure|indicator)\b", text):
        return None, text
    best: tuple[int, str, re.Match[str]] | None = None
    for metric, aliases in METRICS.items():
        for alias in aliases:
            match = re.search(r"(?<![a-z0-9_])" + re.escape(alias) + r"(?![a-z0-9_])", text)
            if match and (best is None or len(alias) > best[0]):
                best = (len(alias), metric, match)
    if best is None:
        return None, text
    return best[1], blank(text, best[2].start(), best[2].end())


def canonical_terms(text: str) -> set[str]:
    """The canonical terms of (parameter-free, normalised) text."""
    terms: set[str] = set()
    # small typos first ("cycel time" -> "cycle time"), so that phrases match too
    text = " ".join(known_word(word, VOCABULARY) or word for word in tokens(text))
    for pattern, term in _EXTRA_RULES:
        if pattern.search(text):
            terms.add(term)
    for pattern, term in _PHRASES:
        if pattern.search(text):
            terms.add(term)
            text = pattern.sub(" ", text)
    for word in tokens(text):
        if word in _WORDS:
            terms.add(_WORDS[word])
    return terms


ISSUE_KEY_WEIGHT = 5  # an issue key in the question points strongly at the intents that take one


def _score(text: str, issue_key: str | None) -> dict[str, tuple[int, tuple[str, ...]]]:
    terms = canonical_terms(text)
    scores: dict[str, tuple[int, tuple[str, ...]]] = {}
    for intent in INTENTS:
        if any(not (group & terms) for group in intent.require):
            continue
        if "issue_key" in intent.needs and issue_key is None:
            continue
        score = intent.require_weight * len(intent.require) + sum(
            1 for group in intent.boost if group & terms
        )
        if "issue_key" in intent.needs:
            score += ISSUE_KEY_WEIGHT
        if score == 0:
            continue
        matched = tuple(sorted(terms & frozenset().union(*intent.require, *intent.boost)))
        scores[intent.name] = (score, matched)
    return scores


def _plan(
    question: str, intent: Intent, reading: _Reading, catalog: Catalog, matched: tuple[str, ...]
) -> Plan:
    given = {
        "team": reading.team,
        "period": reading.period,
        "limit": reading.limit,
        "issue_key": reading.issue_key,
        "metric": reading.metric,
    }
    for name, value in given.items():
        if value is not None and name not in intent.takes:
            raise ParameterProblem(name, f"{intent.title!r} does not take a {name.replace('_', ' ')}")
    for name in intent.needs:
        if given[name] is None:
            if name == "metric":
                raise ParameterProblem("metric", "name one of: " + ", ".join(METRICS))
            raise ParameterProblem(name, f"{intent.title!r} needs a {name.replace('_', ' ')}")
    period = reading.period
    if period is None and intent.default_period is not None:
        count, unit = intent.default_period
        tomorrow = catalog.today + timedelta(days=1)
        period = Period(
            tomorrow - timedelta(days=7 * count if unit == "weeks" else count),
            tomorrow,
            f"last {count} {unit}",
        )
    limit = reading.limit or DEFAULT_LIMIT
    values: dict[str, Any] = {
        "team": reading.team,
        "limit": limit,
        "issue_key": reading.issue_key,
        "metric": reading.metric,
    }
    if period is not None:
        values |= {
            "since": datetime.combine(period.start, time(), tzinfo=UTC),
            "until": datetime.combine(period.end, time(), tzinfo=UTC),
            "start_day": period.start,
            "end_day": period.end,
            "first_week": period.start - timedelta(days=period.start.weekday()),
        }
    bound = {name: values.get(name) for name in intent.bound_names}
    parameters: dict[str, Any] = {"team": reading.team}
    if "period" in intent.takes and period is not None:
        parameters["period"] = period.label
        parameters["period_start"] = period.start.isoformat()
        parameters["period_end"] = period.last_day.isoformat()
    if "limit" in intent.takes:
        parameters["limit"] = limit
    if "issue_key" in intent.takes:
        parameters["issue_key"] = reading.issue_key
    if "metric" in intent.takes:
        parameters["metric"] = reading.metric
    return Plan(question, intent, parameters, bound, matched)


def plan_for(
    intent_name: str, catalog: Catalog, *, team: str | None = None, limit: int | None = None
) -> Plan | Refusal:
    """A plan for ``intent_name`` with explicit parameters (the API's ``GET /api/recommendations``): the same
    validation as a question's."""
    intent = registry.BY_NAME[intent_name]
    if team is not None and team not in {t.team_id for t in catalog.teams}:
        known = ", ".join(t.team_id for t in catalog.teams) or "none"
        return Refusal(intent_name, f"team: no team called {team[:40]!r} (teams: {known})", parameter="team")
    if limit is not None and not 1 <= limit <= 100:
        return Refusal(intent_name, "limit: must be between 1 and 100", parameter="limit")
    reading = _Reading("", team=team, limit=limit)
    try:
        return _plan(intent.title, intent, reading, catalog, ())
    except ParameterProblem as problem:
        return Refusal(intent_name, str(problem), parameter=problem.parameter)
