"""Reading the parameters of a question: its words, the period, the team, the limit, an issue key, a metric.

Everything here is pure: it sees the question and a :class:`Catalog` (team names, sprints and the warehouse's
"today"), never a database. Values found here are never put into SQL text: the compiler binds them as
parameters of an allowlisted template (insights/ask/intents.py).

Periods are half-open day ranges ``[start, end)`` relative to ``Catalog.today``, the warehouse's as-of day
(the
last day of ``marts.dim_dates``): "this week" is Monday of today's ISO week up to and including today, "last
month" the previous calendar month, "last 3 weeks" the 21 days ending today, "since 2026-10-01" that day up to
today, a sprint its start day to its completion (or planned end) day. A period that starts after today is
refused; one that ends after today is cut at today.
"""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

MAX_QUESTION_CHARS = 500
DEFAULT_LIMIT = 10
MAX_LIMIT = 100


class ParameterProblem(Exception):
    """A parameter of the question does not validate (``parameter`` names it). Caught by the compiler and
    turned into a refusal: it never reaches a caller."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"{parameter}: {reason}")
        self.parameter = parameter
        self.reason = reason


@dataclass(frozen=True)
class Team:
    team_id: str
    team_name: str


@dataclass(frozen=True)
class Sprint:
    sprint_name: str
    team_id: str | None
    start: date
    end: date  # the last day (completed, else planned end)


@dataclass(frozen=True)
class Catalog:
    """What a question may name, read from the marts (insights/ask/execute.py), and the warehouse's today."""

    teams: tuple[Team, ...]
    today: date
    sprints: tuple[Sprint, ...] = ()


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive
    label: str

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def describe(self) -> str:
        return f"{self.label} ({self.start.isoformat()} to {self.last_day.isoformat()})"


# ------------------------------------------------------------------------------------------------ words

NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "fifty": 50,
    "hundred": 100,
    "a": 1,
    "an": 1,
}
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "all",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "done",
        "during",
        "each",
        "for",
        "from",
        "give",
        "had",
        "has",
        "have",
        "how",
        "i",
        "in",
        "into",
        "is",
        "it",
        "its",
        "last",
        "latest",
        "list",
        "me",
        "most",
        "much",
        "my",
        "of",
        "on",
        "or",
        "our",
        "over",
        "per",
        "please",
        "recent",
        "right",
        "s",
        "show",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "top",
        "up",
        "us",
        "was",
        "we",
        "were",
        "what",
        "whats",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "within",
        "would",
        "you",
        "your",
        "team",
        "teams",
        "org",
        "organisation",
        "organization",
        "whole",
        "across",
        "every",
        "everyone",
        "everything",
        "ever",
        "ones",
        "one",
        "get",
        "tell",
        "see",
        "let",
        "lets",
        "t",
        "re",
        "ve",
        "ll",
        "d",
        "m",
    ]
)
_MONTH_PATTERN = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUMBER_PATTERN = r"\d{1,4}|" + "|".join(
    sorted((w for w in NUMBER_WORDS if len(w) > 2), key=len, reverse=True)
)


def normalise(question: str) -> str:
    """NFKC (full-width and compatibility forms folded), case-folded, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", question).casefold()
    return " ".join(text.split())


def control_characters(question: str) -> bool:
    """Whether the question holds a control or format character (NUL, bidi overrides, zero-width...)."""
    return any(
        unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co") and char not in "\t\n\r" for char in question
    )


def tokens(text: str) -> list[str]:
    """The words of normalised text (letters and digits; ``-`` and ``_`` join within a word)."""
    return re.findall(r"[a-z0-9]+(?:[-_][a-z0-9]+)*", text)


def blank(text: str, start: int, end: int) -> str:
    """``text`` with ``[start, end)`` replaced by spaces (positions of the rest are kept)."""
    return text[:start] + " " * (end - start) + text[end:]


def distance(a: str, b: str, ceiling: int = 3) -> int:
    """Optimal-string-alignment (Damerau-Levenshtein) distance, stopping early above ``ceiling``."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > ceiling:
        return ceiling + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > ceiling:
            return ceiling + 1
        previous2, previous = previous, current
    return previous[-1]


def tolerance(word: str) -> int:
    """How many typos a word of this length may carry and still be recognised."""
    if len(word) >= 8:
        return 2
    if len(word) >= 4:
        return 1
    return 0


def close_to(word: str, target: str) -> bool:
    allowed = min(tolerance(word), tolerance(target))
    return allowed > 0 and distance(word, target, allowed) <= allowed


# ------------------------------------------------------------------------------------------------ issue keys

_ISSUE_KEY = re.compile(r"(?<![a-z0-9_-])([a-z][a-z0-9]{1,9})-(\d{1,7})(?![a-z0-9_-])")


def extract_issue_key(text: str) -> tuple[str | None, str]:
    """An issue key (``PAY-123``) in normalised text, upper-cased, and the text without it."""
    match = _ISSUE_KEY.search(text)
    if not match:
        return None, text
    return f"{match.group(1).upper()}-{int(match.group(2))}", blank(text, match.start(), match.end())


# ------------------------------------------------------------------------------------------------ limit

_LIMIT_PATTERNS = [
    re.compile(
        r"\b(?:top|first|limit(?: to)?|show(?: me)?(?: the)?|list(?: the)?|give me(?: the)?)"
        rf"\s+({_NUMBER_PATTERN})\b"
    ),
    re.compile(
        rf"\b({_NUMBER_PATTERN})\s+"
        r"(?=(?:slowest|longest|worst|oldest|biggest|largest|most|latest|recent|tickets?"
        r"|issues?|items?|stories|mrs?|merge requests?|prs?|pipelines?|rows?|results?|incidents?|sprints?"
        r"|blockers?|recommendations?|deployments?)\b)"
    ),
]


def _number(word: str) -> int:
    if word.isdigit():
        return int(word)
    return NUMBER_WORDS[word]


def extract_limit(text: str) -> tuple[int | None, str]:
    """A row limit ("top 5", "20 slowest", "limit 30"), validated (1-100), and the text without it."""
    for pattern in _LIMIT_PATTERNS:
        match = pattern.search(text)
        if match:
            raw = match.group(1)
            value = _number(raw)
            if value < 1:
                raise ParameterProblem("limit", f"must be at least 1 (got {raw})")
            if value > MAX_LIMIT:
                raise ParameterProblem("limit", f"at most {MAX_LIMIT} rows (got {raw})")
            return value, blank(text, match.start(), match.end())
    # an over-long number after "top"/"limit" (the patterns take at most 4 digits)
    huge = re.search(r"\b(?:top|first|limit)\s+(\d{5,})", text)
    if huge:
        raise ParameterProblem("limit", f"at most {MAX_LIMIT} rows (got {huge.group(1)[:12]})")
    return None, text


# ------------------------------------------------------------------------------------------------ periods

_ISO_DATE = r"\d{4}-\d{1,2}-\d{1,2}"
_TEXT_DATE = (
    rf"(?:\d{{1,2}}(?:st|nd|rd|th)? (?:{_MONTH_PATTERN})(?: \d{{4}})?"
    rf"|(?:{_MONTH_PATTERN}) \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?)"
)
_DATE = rf"(?:{_ISO_DATE}|{_TEXT_DATE})"


def parse_date(text: str, today: date) -> date:
    """``2026-11-01``, ``1 nov 2026``, ``november 1``, ``nov 1st, 2026``; a date without a year is the latest
    such day not after ``today``."""
    text = text.strip().replace(",", "")
    try:
        if re.fullmatch(_ISO_DATE, text):
            year, month, day = (int(part) for part in text.split("-"))
            if not 1970 <= year <= 2999:
                raise ValueError(year)
            return date(year, month, day)
        words = text.split()
        day_word = next(word for word in words if word[0].isdigit() and len(word) <= 4)
        month_word = next(word for word in words if word in MONTHS)
        year_words = [word for word in words if word.isdigit() and len(word) == 4]
        day_number = int(re.sub(r"\D", "", day_word))
        month = MONTHS[month_word]
        if year_words:
            if not 1970 <= int(year_words[0]) <= 2999:
                raise ValueError(year_words[0])
            return date(int(year_words[0]), month, day_number)
        candidate = date(today.year, month, day_number)
        return candidate if candidate <= today else date(today.year - 1, month, day_number)
    except (ValueError, StopIteration):
        raise ParameterProblem("period", f"not a date: {text[:40]!r}") from None


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _previous_month(day: date) -> date:
    first = _month_start(day)
    return _month_start(first - timedelta(days=1))


def _add_month(first: date) -> date:
    return first + timedelta(days=monthrange(first.year, first.month)[1])


@dataclass
class PeriodMatch:
    period: Period | None
    text: str
    sprint_words: str | None = None  # "sprint 17", "last sprint": resolved once the team is known
    candidates: list[Sprint] = field(default_factory=list)


_LONGEST = {"day": 3650, "week": 520, "month": 120, "year": 10}


def _relative(unit: str, count: int, today: date, label: str) -> Period:
    tomorrow = today + timedelta(days=1)
    if count < 1:
        raise ParameterProblem("period", f"{label!r} is empty")
    if count > _LONGEST[unit.rstrip("s")]:
        raise ParameterProblem("period", f"{label!r} is longer than ten years")
    if unit.startswith("day"):
        return Period(tomorrow - timedelta(days=count), tomorrow, label)
    if unit.startswith("week"):
        return Period(tomorrow - timedelta(days=7 * count), tomorrow, label)
    if unit.startswith("month"):
        start = _month_start(today)
        for _ in range(count - 1):
            start = _previous_month(start)
        return Period(start, tomorrow, label)
    start = date(today.year - count + 1, 1, 1)
    return Period(start, tomorrow, label)


def extract_period(text: str, catalog: Catalog) -> PeriodMatch:
    """The period a question names (None: none named), the text without it, and any sprint named (resolved
    with the team by :func:`resolve_sprint`)."""
    today = catalog.today
    tomorrow = today + timedelta(days=1)

    future = re.search(
        r"\b(?:next|coming|upcoming|following)\s+(?:(?:"
        + _NUMBER_PATTERN
        + r")\s+)?(?:days?|weeks?|months?|years?|sprints?|quarters?)\b|\btomorrow\b",
        text,
    )
    if future:
        raise ParameterProblem(
            "period", f"{future.group(0)!r} is in the future (today is {today.isoformat()})"
        )

    between = re.search(rf"\b(?:between|from)\s+({_DATE})\s+(?:and|to|until|till|-)\s+({_DATE})", text)
    if between:
        start = parse_date(between.group(1), today)
        last = parse_date(between.group(2), today)
        if last < start:
            raise ParameterProblem("period", f"ends ({last}) before it starts ({start})")
        label = f"between {start.isoformat()} and {last.isoformat()}"
        return PeriodMatch(
            _bounded(start, last + timedelta(days=1), label, today), blank(text, *between.span())
        )

    since = re.search(rf"\b(?:since|after|from)\s+({_DATE})", text)
    if since:
        start = parse_date(since.group(1), today)
        label = f"since {start.isoformat()}"
        return PeriodMatch(_bounded(start, tomorrow, label, today), blank(text, *since.span()))

    on_day = re.search(rf"\b(?:on|for)\s+({_ISO_DATE})\b", text)
    if on_day:
        day = parse_date(on_day.group(1), today)
        return PeriodMatch(
            _bounded(day, day + timedelta(days=1), f"on {day.isoformat()}", today),
            blank(text, *on_day.span()),
        )

    relative = re.search(
        rf"\b(?:(?:in|over|during|for|within)\s+)?(?:the\s+)?(?:last|past|previous|trailing|recent)\s+({_NUMBER_PATTERN})\s+"
        r"(days?|weeks?|months?|years?)\b",
        text,
    )
    if relative:
        count = _number(relative.group(1))
        unit = relative.group(2)
        label = f"last {count} {unit if unit.endswith('s') or count == 1 else unit + 's'}"
        return PeriodMatch(_relative(unit, count, today, label), blank(text, *relative.span()))

    sprint = re.search(r"\b(?:(?:this|current|last|previous|latest)\s+sprint|sprint\s+\d{1,4})\b", text)
    named = _named_sprints(text, catalog)
    if named:
        span, candidates = named
        return PeriodMatch(None, blank(text, *span), text[span[0] : span[1]], candidates)
    if sprint:
        return PeriodMatch(None, blank(text, *sprint.span()), sprint.group(0), [])

    calendar = [
        (r"\b(?:so far )?this week\b", lambda: Period(_monday(today), tomorrow, "this week")),
        (
            r"\b(?:last|previous|past) week\b",
            lambda: Period(_monday(today) - timedelta(days=7), _monday(today), "last week"),
        ),
        (r"\b(?:so far )?this month\b", lambda: Period(_month_start(today), tomorrow, "this month")),
        (
            r"\b(?:last|previous|past) month\b",
            lambda: Period(_previous_month(today), _month_start(today), "last month"),
        ),
        (r"\bthis year\b", lambda: Period(date(today.year, 1, 1), tomorrow, "this year")),
        (r"\byesterday\b", lambda: Period(today - timedelta(days=1), today, "yesterday")),
        (r"\btoday\b", lambda: Period(today, tomorrow, "today")),
    ]
    for pattern, make in calendar:
        match = re.search(pattern, text)
        if match:
            return PeriodMatch(make(), blank(text, *match.span()))

    month = re.search(rf"\b(?:in|during|for|of)\s+({_MONTH_PATTERN})(?:\s+(\d{{4}}))?\b", text)
    if month and (month.group(1) != "may" or month.group(2)):  # "may" alone is usually the verb
        number = MONTHS[month.group(1)]
        year = int(month.group(2)) if month.group(2) else today.year
        first = date(year, number, 1)
        if not month.group(2) and first > today:
            first = date(year - 1, number, 1)
        label = first.strftime("%B %Y")
        return PeriodMatch(_bounded(first, _add_month(first), label, today), blank(text, *month.span()))
    return PeriodMatch(None, text)


def _bounded(start: date, end: date, label: str, today: date) -> Period:
    """A period that must have started by today; its end is cut at today."""
    if start > today:
        raise ParameterProblem(
            "period", f"{label!r} starts after the warehouse's today ({today.isoformat()}): no data yet"
        )
    return Period(start, min(end, today + timedelta(days=1)), label)


def _named_sprints(text: str, catalog: Catalog) -> tuple[tuple[int, int], list[Sprint]] | None:
    """The longest sprint name of the catalog found in the text (several sprints may share it)."""
    best: tuple[tuple[int, int], list[Sprint]] | None = None
    for sprint in catalog.sprints:
        name = normalise(sprint.sprint_name)
        if not name:
            continue
        match = re.search(r"(?<![a-z0-9])" + re.escape(name) + r"(?![a-z0-9])", text)
        if match and (best is None or match.end() - match.start() > best[0][1] - best[0][0]):
            best = (match.span(), [s for s in catalog.sprints if normalise(s.sprint_name) == name])
    return best


def resolve_sprint(words: str, candidates: list[Sprint], team: str | None, catalog: Catalog) -> Period:
    """The period of the sprint named by ``words`` ("PAY Sprint 17", "sprint 17", "last sprint")."""
    today = catalog.today
    pool = list(candidates)
    if not pool:
        if re.fullmatch(r"sprint \d+", words):
            number = words.split()[1]
            pool = [s for s in catalog.sprints if re.search(rf"(?<!\d){number}$", normalise(s.sprint_name))]
        else:
            pool = list(catalog.sprints)
    if team:
        pool = [s for s in pool if s.team_id == team]
    if words.startswith(("this", "current")):
        pool = [s for s in pool if s.start <= today <= s.end]
    elif words.startswith(("last", "previous", "latest")):
        over = [s for s in pool if s.end < today]
        latest = max((s.end for s in over), default=None)
        pool = [s for s in over if s.end == latest]
    if not pool:
        raise ParameterProblem("period", f"no sprint {words!r}" + (f" in team {team}" if team else ""))
    windows = {(s.start, s.end) for s in pool}
    if len(windows) > 1:
        names = ", ".join(sorted({s.sprint_name for s in pool})[:5])
        raise ParameterProblem(
            "period", f"{words!r} names several sprints ({names}): name the team or the sprint"
        )
    start, last = windows.pop()
    label = pool[0].sprint_name if len({s.sprint_name for s in pool}) == 1 else words
    return _bounded(start, last + timedelta(days=1), label, today)


# ------------------------------------------------------------------------------------------------ teams

_TEAM_CUES = frozenset({"in", "for", "of", "at", "from", "by", "team", "within"})


@dataclass
class TeamMatch:
    team: str | None
    text: str
    unknown: str | None = None


def team_aliases(team: Team) -> set[str]:
    names = {normalise(team.team_id), normalise(team.team_name)}
    names |= {name.replace("-", " ").replace("_", " ") for name in list(names)}
    return {name for name in names if name}


def extract_team(text: str, catalog: Catalog, vocabulary: frozenset[str]) -> TeamMatch:
    """The team a question names (exactly, or with a small typo), or the unknown word it names as a team
    ("in narnia", "team foo"). Two different teams named -> refused."""
    words = tokens(text)
    found: dict[str, tuple[int, int]] = {}  # team_id -> (start word, end word)
    for team in catalog.teams:
        for alias in team_aliases(team):
            parts = tokens(alias)
            size = len(parts)
            if not size:
                continue
            for i in range(len(words) - size + 1):
                window = words[i : i + size]
                joined = " ".join(window)
                exact = window == parts
                fuzzy = not exact and joined not in vocabulary and close_to(joined, " ".join(parts))
                if exact or fuzzy:
                    found.setdefault(team.team_id, (i, i + size))
    if len(found) > 1:
        names = ", ".join(sorted(found))
        raise ParameterProblem("team", f"names more than one team ({names}): ask about one team at a time")
    if found:
        team_id, (first, last) = next(iter(found.items()))
        remaining = words[:first] + words[last:]
        return TeamMatch(team_id, " ".join(remaining))
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        before2 = words[i - 2] if i > 1 else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        cued = before in _TEAM_CUES or (before == "the" and before2 in _TEAM_CUES) or after == "team"
        if not cued or word in vocabulary or word.isdigit() or word in NUMBER_WORDS:
            continue
        if known_word(word, vocabulary) is None:
            return TeamMatch(None, text, unknown=word)
    return TeamMatch(None, text)


def known_word(word: str, vocabulary: frozenset[str]) -> str | None:
    """``word`` if the vocabulary has it, else the one vocabulary word it is a small typo of (None: none, or
    several equally close)."""
    if word in vocabulary:
        return word
    return _correction(word, vocabulary)


@lru_cache(maxsize=4096)
def _correction(word: str, vocabulary: frozenset[str]) -> str | None:
    allowed = tolerance(word)
    if not allowed or len(word) > 40:
        return None
    best: list[str] = []
    best_distance = allowed + 1
    for known in _by_length(vocabulary).get(len(word), ()) + tuple(
        w
        for size in range(len(word) - allowed, len(word) + allowed + 1)
        if size != len(word)
        for w in _by_length(vocabulary).get(size, ())
    ):
        limit = min(allowed, tolerance(known))
        if not limit:
            continue
        found = distance(word, known, limit)
        if found <= limit:
            if found < best_distance:
                best, best_distance = [known], found
            elif found == best_distance:
                best.append(known)
    return best[0] if len(best) == 1 else None


@lru_cache(maxsize=8)
def _by_length(vocabulary: frozenset[str]) -> dict[int, tuple[str, ...]]:
    buckets: dict[int, list[str]] = {}
    for word in sorted(vocabulary):
        if " " not in word:
            buckets.setdefault(len(word), []).append(word)
    return {size: tuple(words) for size, words in buckets.items()}
