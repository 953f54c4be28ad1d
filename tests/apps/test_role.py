"""The app's login (member of heimdall_apps, migration 0014) reads the marts and records decisions, nothing
else: no `raw`, no writes to the marts, no change to a recorded decision, no rejected document or request
headers."""

from __future__ import annotations

import psycopg
import pytest

from tests.apps.conftest import AppsWarehouse


@pytest.fixture
def as_app(apps_warehouse: AppsWarehouse):
    with psycopg.connect(apps_warehouse.login_conninfo) as conn:
        yield conn


def _refused(conn: psycopg.Connection, statement: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute(statement)


def test_the_login_reads_the_marts_under_a_statement_timeout(as_app: psycopg.Connection) -> None:
    assert as_app.execute("select count(*) from marts.fct_recommendations").fetchone()[0] > 0
    assert as_app.execute("select count(*) from fct_issue_lifecycle").fetchone()[0] > 0  # search_path marts
    assert as_app.execute("show statement_timeout").fetchone()[0] == "30s"


@pytest.mark.parametrize(
    "statement",
    [
        "select count(*) from raw.jira_issues",
        "select count(*) from raw.gitlab_merge_requests",
        "select count(*) from staging.stg_jira__issues",
        "select count(*) from analysis.intervention_outcomes",
        "select document from app.dead_letters",
        "select headers from app.webhook_rejections",
    ],
)
def test_the_login_cannot_read_raw_or_secrets(as_app: psycopg.Connection, statement: str) -> None:
    _refused(as_app, statement)


@pytest.mark.parametrize(
    "statement",
    [
        "insert into marts.fct_recommendations (recommendation_id) values ('x:y')",
        "update marts.fct_issue_lifecycle set cycle_time_hours = 0",
        "delete from marts.fct_wip_current",
        "truncate marts.fct_diagnoses",
        "create table marts.mine (id int)",
        "drop table marts.fct_jobs",
        "update app.recommendation_decisions set decided_by = 'someone else'",
        "delete from app.recommendation_decisions",
        "insert into app.load_batches (source, table_name) values ('x', 'y')",
        "insert into app.dead_letters (source, table_name, reason, document) values ('x', 'y', 'z', '{}')",
        "insert into raw.jira_issues (source_id, payload, source, batch_id) values ('1', '{}', 'x', 1)",
        "create table app.mine (id int)",
    ],
)
def test_the_login_writes_nothing_but_decisions(as_app: psycopg.Connection, statement: str) -> None:
    _refused(as_app, statement)


def test_the_login_may_insert_a_decision(as_app: psycopg.Connection, apps_warehouse: AppsWarehouse) -> None:
    with as_app.transaction(force_rollback=True):
        row = as_app.execute(
            """
            insert into app.recommendation_decisions
                (recommendation_id, decision, decided_by, note, team_id, rule_id, metric_name)
            values ('payments:blocked_not_escalated', 'rejected', 'role test', 'rolled back', 'payments',
                    'blocked_not_escalated', 'unescalated_blocked_hours')
            returning decision_id
            """
        ).fetchone()
        assert row is not None
