"""Readable text for the synthetic organisation, from Faker: people's names, issue summaries and
descriptions, merge-request descriptions and incident write-ups.

Determinism: every Faker instance is seeded from the generator's seed (``seed_instance``) and the choices
around it come from a ``Random`` seeded the same way, so the same seed gives the same text. Text has its
own random streams: it never shifts a timing of the simulation. Faker's word lists can change between its
releases, which would change the words (never the numbers): pyproject.toml pins its major version.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from random import Random

from faker import Faker
from faker.decode import unidecode

# Where the organisation's people come from (weights): an international engineering org.
NAME_LOCALES: tuple[tuple[str, int], ...] = (
    ("en_US", 28),
    ("en_GB", 10),
    ("de_DE", 12),
    ("fr_FR", 8),
    ("es_ES", 7),
    ("it_IT", 5),
    ("nl_NL", 5),
    ("pl_PL", 8),
    ("en_IN", 11),
    ("pt_BR", 6),
)
_KEYLIKE = re.compile(r"\b([A-Za-z][A-Za-z0-9]*)-(\d+)\b")  # never let free text look like a Jira key
_local = threading.local()


def _name_faker(locale: str) -> Faker:
    """One Faker per locale and thread (re-seeded before every use, so sharing it is deterministic)."""
    cache: dict[str, Faker] | None = getattr(_local, "fakers", None)
    if cache is None:
        cache = {}
        _local.fakers = cache
    fake = cache.get(locale)
    if fake is None:
        fake = cache[locale] = Faker(locale)
    return fake


def ascii_word(text: str) -> str:
    """``Łukasz`` -> ``lukasz``, ``van den Berg`` -> ``vandenberg``: letters a-z only."""
    return re.sub(r"[^a-z]", "", unidecode(text).lower())


def person_name(seed: int, slug: str, i: int) -> tuple[str, str]:
    """(display name, username) of the ``i``-th engineer of a team. Each person has a seed of their own, so
    a larger team keeps the names of the people it already had."""
    key = f"{seed}:{slug}:person:{i}"
    rng = Random(key)
    locales, weights = zip(*NAME_LOCALES, strict=True)
    fake = _name_faker(rng.choices(locales, weights)[0])
    fake.seed_instance(key)
    first, last = fake.first_name(), fake.last_name()
    username = f"{ascii_word(first.split()[0]) or 'dev'}.{ascii_word(last) or 'dev'}"
    return f"{first} {last}", username


def ascii_fold(text: str) -> str:
    """``Côte d'Ivoire`` -> ``Cote d'Ivoire`` (branch names and slugs stay ASCII)."""
    return unidecode(text)


def no_keys(text: str) -> str:
    """Free text must never carry something a Jira key extractor would read (``ABC-123``)."""
    return _KEYLIKE.sub(r"\1 \2", text)


SEGMENTS = (
    "enterprise accounts",
    "guest checkout",
    "mobile users",
    "new sign-ups",
    "resellers",
    "the partner API",
    "admins",
    "EU tenants",
)
PERSONAS = (
    "support agent",
    "store manager",
    "finance analyst",
    "account admin",
    "returning customer",
    "on-call engineer",
    "sales rep",
    "merchant",
)
BENEFITS = (
    "we stop losing orders at peak time",
    "support gets fewer tickets about it",
    "month-end reconciliation takes minutes instead of hours",
    "customers can serve themselves",
    "we meet the contract's SLA",
    "the audit finding is closed",
    "we can switch off the legacy path",
)
CRITERIA = (
    "works for accounts with more than 10,000 items",
    "errors are shown inline, not as a generic banner",
    "covered by an integration test",
    "behind the {flag} feature flag until rollout",
    "metrics on the service dashboard",
    "documented in the runbook",
    "no change for existing API clients",
)
STATUS_CODES = (500, 500, 502, 503, 504, 400, 404, 409, 422)
METHODS = ("GET", "GET", "POST", "PUT", "PATCH", "DELETE")
TEST_STEPS = (
    "Run the service locally against the seeded database",
    "Check the new metric on the staging dashboard",
    "Unit and integration tests cover the change",
    "Tried it on staging with a copy of {customer}'s data",
    "Manually checked the happy path and the empty state",
)


class TeamText:
    """The texts of one team's issues, MRs and incidents (seeded per run and team)."""

    def __init__(self, seed: int, slug: str) -> None:
        self.fake = Faker("en_US")
        self.fake.seed_instance(f"{seed}:{slug}:text")
        self.rng = Random(f"{seed}:{slug}:text")
        fake = self.fake
        # Faker calls that are slow (company names) are made once per team, then picked from.
        self.customers = [fake.company() for _ in range(12)]
        self.stakeholders = [(fake.name(), fake.job()) for _ in range(6)]
        self.countries = [fake.country() for _ in range(6)]

    def _customer(self) -> str:
        return self.rng.choice(self.customers)

    def issue(self, itype: str, verb: str, obj: str, services: Sequence[str]) -> tuple[str, str]:
        """(summary, description) of an issue; ``verb`` and ``obj`` are the simulation's topic of the work,
        ``services`` the team's services. Descriptions are paragraphs separated by blank lines; ``- `` lines
        are a bullet list."""
        rng, fake = self.rng, self.fake
        service = rng.choice(services)
        r = rng.random()
        if itype == "Bug":
            status, method = rng.choice(STATUS_CODES), rng.choice(METHODS)
            path = f"/api/v{rng.choice((1, 2, 2))}/{re.sub(r'[^a-z]+', '-', obj.lower()).strip('-')}"
            if r < 0.3:
                summary = f"{obj.capitalize()} returns {status} on {method} {path}"
            elif r < 0.45:
                summary = f"{obj.capitalize()} shows wrong totals in {fake.currency_code()}"
            elif r < 0.6:
                summary = f"{obj.capitalize()} times out for {self._customer()}"
            else:
                summary = f"{verb} {obj}"
            who, title = rng.choice(self.stakeholders)
            description = (
                f"Reported by {self._customer()} through support ({who}, {title}).\n\n"
                f"Steps to reproduce:\n- Sign in as {fake.email()}\n- Open the {obj} in {service}\n"
                f"- {method} {path}\n\n"
                f"Expected: the request succeeds. Actual: HTTP {status} after {rng.randint(2, 40)} s.\n\n"
                f"Environment: {fake.user_agent()}"
            )
        elif itype == "Story":
            if r < 0.3:
                summary = f"{verb} {obj} for {rng.choice(SEGMENTS)}"
            elif r < 0.45:
                summary = f"{verb} {obj} for {rng.choice(self.countries)} merchants"
            elif r < 0.55:
                summary = f"{verb} {obj} ({self._customer()} request)"
            else:
                summary = f"{verb} {obj}"
            who, title = rng.choice(self.stakeholders)
            criteria = rng.sample(CRITERIA, 2)
            flag = f"{service}-{re.sub(r'[^a-z]+', '-', obj.lower()).strip('-')}"
            bullets = "\n".join(f"- {c.format(flag=flag)}" for c in criteria)
            description = (
                f"As a {rng.choice(PERSONAS)} at {self._customer()}, I want to {verb.lower()} {obj} "
                f"so that {rng.choice(BENEFITS)}.\n\nAcceptance criteria:\n{bullets}\n\n"
                f"Requested by {who} ({title})."
            )
        else:
            summary = f"Spike: {verb.lower()} {obj}" if r < 0.15 else f"{verb} {obj}"
            description = (
                f"{verb} {obj} in {service}. Context: {fake.catch_phrase().lower()} "
                f"initiative, owner {rng.choice(self.stakeholders)[0]}."
            )
        return no_keys(summary), no_keys(description)

    def mr_body(self, title: str) -> str:
        """The part of a feature MR description after the issue reference: what and how it was tested."""
        rng = self.rng
        steps = rng.sample(TEST_STEPS, rng.choice((1, 2)))
        tested = "\n".join(f"- {s.format(customer=self._customer())}" for s in steps)
        return no_keys(f"## What\n\nImplements {title.lower()}.\n\n## How to test\n\n{tested}")

    def incident_impact(self, service: str) -> str:
        rng = self.rng
        return no_keys(
            f"{self._customer()} and {rng.randint(2, 40)} other customers report failing requests to "
            f"{service}; support ticket volume x{rng.randint(2, 6)}."
        )
