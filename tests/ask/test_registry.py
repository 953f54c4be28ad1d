"""The allowlist itself (pure): every template is lowercase SQL over ``marts`` only, with named bound
parameters and nothing that could splice text in; the dbt exposure lists what the templates read."""

from __future__ import annotations

import re

import pytest
import yaml

from insights.ask.execute import CATALOG_STATEMENTS, allowed_statements
from insights.ask.intents import INTENTS, METRICS, TERMS
from warehouse.settings import PROJECT_ROOT

KNOWN_PARAMETERS = {
    "team",
    "limit",
    "since",
    "until",
    "start_day",
    "end_day",
    "first_week",
    "issue_key",
    "metric",
}


@pytest.mark.parametrize("intent", INTENTS, ids=lambda intent: intent.name)
def test_a_template_is_a_fixed_read_of_the_marts(intent) -> None:
    sql = intent.sql
    assert sql == sql.lower(), "lowercase SQL"
    assert sql.lstrip().startswith(("select", "with"))
    # no semicolon, comment, dollar quote, format field or positional placeholder: only %(name)s parameters
    for forbidden in (";", "--", "/*", "$$", "{", "}", "%s"):
        assert forbidden not in sql, forbidden
    assert not re.search(r"%(?!\(\w+\)s)", sql), "a % that is not a named parameter"
    assert set(intent.bound_names) <= KNOWN_PARAMETERS
    assert "limit %(limit)s" in sql or sql.rstrip().endswith("limit 1"), "every template caps its rows"
    relations = re.findall(r"\b(?:from|join)\s+([a-z_][\w.]*)\b(?!\s*\()", sql)
    assert relations
    for relation in relations:
        assert relation.startswith("marts.") or relation in ("blocked", "recent"), relation
    for word in (
        "insert",
        "update",
        "delete",
        "copy",
        "create",
        "drop",
        "alter",
        "grant",
        "pg_sleep",
        "execute",
    ):
        assert not re.search(rf"\b{word}\b", sql), word
    assert intent.examples and intent.title and intent.description


def test_names_and_terms_are_unique() -> None:
    names = [intent.name for intent in INTENTS]
    assert len(names) == len(set(names)) >= 16
    phrases = [phrase for phrases in TERMS.values() for phrase in phrases]
    assert len(phrases) == len(set(phrases)), [p for p in phrases if phrases.count(p) > 1]
    assert len(METRICS) == 14


def test_the_catalog_reads_only_dimensions() -> None:
    for statement in CATALOG_STATEMENTS:
        assert set(re.findall(r"marts\.(\w+)", statement)) <= {"dim_teams", "dim_dates", "dim_sprints"}
        assert "%" not in statement


def test_the_exposure_lists_what_the_templates_read() -> None:
    exposures = yaml.safe_load(
        (PROJECT_ROOT / "dbt" / "models" / "marts" / "_apps__exposures.yml").read_text()
    )
    ask = next(exposure for exposure in exposures["exposures"] if exposure["name"] == "guarded_ask")
    listed = {re.sub(r"ref\('(\w+)'\)", r"\1", ref) for ref in ask["depends_on"]}
    read = {name for statement in allowed_statements() for name in re.findall(r"marts\.(\w+)", statement)}
    assert listed == read
