"""Guarded Ask under attack, on a real built warehouse (tests/ask/conftest.py), as its real login role.

More than 500 hostile questions (SQL injection in every parameter position, quotes, semicolons, comments,
``pg_sleep``, ``copy ... to program``, Unicode look-alikes, NUL bytes, 100 kB questions, format-string and
Jinja
payloads, team names that are SQL). For each: no exception escapes, and every statement sent is transaction
control, one of the three catalog statements or an intent's template, verbatim — checked twice, on the
connection (``observe_statements``) and at the database (the server's statement log, ``log_statement = all``
for the ask login only). Across the run: nothing is written (row counts and write counters unchanged), no
table outside ``marts`` is read (scan counters unchanged), and the login has no privilege outside ``marts``.

The counts (answered / refused / errors) are written to tests/artifacts/ask/hostile_summary.json."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import psycopg
import pytest

from insights.ask.compiler import Refusal
from insights.ask.execute import Answer, allowed_statements, ask, connect_as_asker, observe_statements
from tests.ask.conftest import ARTIFACTS, AskOrg
from tests.ask.hostile import (
    ServerLog,
    allowed_as_logged,
    hostile_questions,
    log_statements_of,
    row_counts,
    squeeze,
    table_stats,
    wait_until_gone,
)


def test_there_are_enough_hostile_questions() -> None:
    assert len(hostile_questions()) >= 500


@pytest.fixture(scope="module")
def attack(ask_org: AskOrg) -> dict[str, Any]:
    """Run every hostile question as the ask login; what happened, on the connection and at the database."""
    questions = hostile_questions()
    rows_before = row_counts(ask_org.owner_url)
    stats_before = table_stats(ask_org.owner_url)
    server_log = ServerLog.of(ask_org.server_url)
    log_statements_of(ask_org.server_url, ask_org.login, on=True)
    sent: list[tuple[int, str, Any]] = []
    outcomes: Counter[str] = Counter()
    errors: list[str] = []
    by_intent: Counter[str] = Counter()
    pids: set[int] = set()
    try:
        with connect_as_asker(ask_org.login_url) as conn, observe_statements(lambda *s: sent.append(s)):
            pids.add(conn.info.backend_pid)
            for question in questions:
                try:
                    result = ask(conn, question)
                except Exception as exc:  # counted: the test asserts there are none
                    outcomes["errors"] += 1
                    errors.append(f"{question[:80]!r}: {type(exc).__name__}: {exc}")
                    continue
                if isinstance(result, Answer):
                    outcomes["answered"] += 1
                    by_intent[result.intent] += 1
                else:
                    assert isinstance(result, Refusal)
                    outcomes["refused"] += 1
    finally:
        log_statements_of(ask_org.server_url, ask_org.login, on=False)
    wait_until_gone(ask_org.owner_url, pids)
    stats_after = table_stats(ask_org.owner_url)
    rows_after = row_counts(ask_org.owner_url)
    summary = {
        "questions": len(questions),
        "answered": outcomes["answered"],
        "refused": outcomes["refused"],
        "errors": outcomes["errors"],
        "answered_by_intent": dict(sorted(by_intent.items())),
        "statements_sent": len(sent),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "hostile_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nhostile questions: {summary}")
    return {
        "summary": summary,
        "errors": errors,
        "sent": sent,
        "pids": pids,
        "logged": server_log.statements(pids) if server_log else None,
        "rows": (rows_before, rows_after),
        "stats": (stats_before, stats_after),
    }


def test_no_exception_escapes(attack: dict[str, Any]) -> None:
    assert attack["errors"] == []
    summary = attack["summary"]
    assert summary["answered"] + summary["refused"] == summary["questions"]
    assert summary["answered"] > 0 and summary["refused"] > 0  # both paths were exercised


def test_only_templates_are_sent(attack: dict[str, Any]) -> None:
    allowed = allowed_statements()
    sent = attack["sent"]
    assert sent
    for _, statement, _ in sent:
        assert any(statement is template for template in allowed), statement[:300]
    # every bound value is one the compiler produced, never a question's text: strings are teams, keys or
    # metrics
    for _, _, params in sent:
        for name, value in (params or {}).items():
            if isinstance(value, str) and name != "timeout":
                assert name in ("team", "issue_key", "metric"), name
                assert len(value) <= 40 and value.replace("-", "").replace("_", "").isalnum(), value


def test_the_database_ran_only_templates(attack: dict[str, Any]) -> None:
    logged = attack["logged"]
    if logged is None:
        pytest.skip(
            "the server's log is not readable here (HEIMDALL_TEST_DATABASE_URL): checked on the connection"
        )
    allowed = allowed_as_logged()
    assert len(logged) == len(attack["sent"])
    for statement in logged:
        assert squeeze(statement) in allowed, statement[:300]


def test_nothing_is_written_and_nothing_outside_marts_is_read(attack: dict[str, Any]) -> None:
    rows_before, rows_after = attack["rows"]
    assert rows_after == rows_before
    stats_before, stats_after = attack["stats"]
    written = {
        name: (stats_before[name]["writes"], after["writes"])
        for name, after in stats_after.items()
        if name in stats_before and after["writes"] != stats_before[name]["writes"]
    }
    assert written == {}
    read_outside = {
        name: (stats_before[name]["scans"], after["scans"])
        for name, after in stats_after.items()
        if name in stats_before
        and not name.startswith("marts.")
        and after["scans"] != stats_before[name]["scans"]
    }
    assert read_outside == {}
    # the marts were read (the statistics do see the ask login's reads)
    assert (
        sum(stats_after[n]["scans"] - stats_before[n]["scans"] for n in stats_after if n.startswith("marts."))
        > 0
    )


def test_the_login_may_read_the_marts_and_nothing_else(ask_org: AskOrg) -> None:
    rows = ask_org.query(
        """
        select n.nspname as schema, c.relname as name,
            has_table_privilege(%(login)s, c.oid, 'select') as can_select,
            has_table_privilege(%(login)s, c.oid, 'insert, update, delete, truncate, references, trigger')
                as can_change
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'v', 'm', 'p', 'f')
          and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
        """,
        {"login": ask_org.login},
    )
    assert rows
    assert [r for r in rows if r["can_change"]] == []
    assert [f"{r['schema']}.{r['name']}" for r in rows if r["can_select"] and r["schema"] != "marts"] == []
    assert all(r["can_select"] for r in rows if r["schema"] == "marts")
    membership = ask_org.query(
        """
        select g.rolname from pg_auth_members m
        join pg_roles g on g.oid = m.roleid join pg_roles u on u.oid = m.member
        where u.rolname = %s
        """,
        (ask_org.login,),
    )
    assert [r["rolname"] for r in membership] == ["heimdall_ask"]


@pytest.mark.parametrize(
    "statement",
    [
        "select count(*) from raw.jira_issues",
        "select count(*) from app.recommendation_decisions",
        "select count(*) from analysis.intervention_outcomes",
        "insert into marts.dim_teams (team_id) values ('x')",
        "update marts.fct_issue_lifecycle set cycle_time_hours = 0",
        "create table marts.mine (id int)",
        "copy (select 1) to program 'id'",
    ],
)
def test_the_login_is_refused_anything_else(ask_org: AskOrg, statement: str) -> None:
    with psycopg.connect(ask_org.login_url) as conn:
        # even in a transaction it turns read-write itself (its sessions are read-only by default)
        conn.execute("set transaction read write")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def test_sessions_are_read_only_with_a_timeout(ask_org: AskOrg) -> None:
    with psycopg.connect(ask_org.login_url) as conn:
        assert conn.execute("show default_transaction_read_only").fetchone() == ("on",)
        assert conn.execute("show statement_timeout").fetchone() == ("10s",)
        conn.rollback()
        with pytest.raises(psycopg.errors.QueryCanceled), conn.transaction():
            conn.execute("set local statement_timeout = '200ms'")
            conn.execute("select pg_sleep(2)")


def test_a_question_runs_in_a_read_only_transaction(ask_org: AskOrg) -> None:
    sent: list[tuple[int, str, Any]] = []
    with connect_as_asker(ask_org.login_url) as conn, observe_statements(lambda *s: sent.append(s)):
        answer = ask(conn, "slowest reviews in checkout last month")
        assert isinstance(answer, Answer) and answer.rows
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    statements = [statement for _, statement, _ in sent]
    assert statements[0] == "begin transaction read only"
    assert statements[1].startswith("select set_config('statement_timeout'")
    assert sent[1][2] == {"timeout": "5000"}
    assert statements[-1] == "rollback"
    assert statements[-2] == answer.sql or squeeze(statements[-2]) == squeeze(answer.sql)
