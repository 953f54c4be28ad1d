"""Guarded Ask's answers on a small hand-made history, checked row by row against numbers computed by hand.

The history is tests/dbt/test_review_metrics.py's (team Payments, week of Monday 2026-01-05, as_of Saturday
2026-01-10 00:00 UTC, so "today" is 2026-01-10), loaded through the real loader and built with real dbt:

* MR 1001 "Add refunds": first review 13:00, merged 16:00 -> review 3 h; MR 1002 merged with only its author's
  approval (merged without review); MR 1003 reviewed 10:00, merged 11:00 -> review 1 h; MR 1004 is Renovate's
  (a bot: never listed); MR 1006 still open.
* PAY-1, PAY-2, PAY-3 done in the week, PAY-3 with no merge request; MR 1003 names no loaded issue.
* PAY-4 in progress since Mon 09:00: 4 days 15 h = 4.625 days old at as_of.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from insights.ask.compiler import Refusal
from insights.ask.execute import Answer, ask, ask_login_url, connect_as_asker
from tests.ask.conftest import drop_login, new_login
from tests.dbt.test_review_metrics import VARS, gitlab_records, jira_records
from tests.support import Preparation, upstream_of
from warehouse.settings import ApiSettings

MARTS = (
    "fct_merge_requests",
    "fct_work_linkage",
    "fct_wip_current",
    "fct_issue_lifecycle",
    "fct_issue_merge_request_links",
    "dim_teams",
    "dim_dates",
    "dim_sprints",
)


def prepare_in_background(prep: Preparation) -> str:
    """Load the hand-written documents, build what the asked intents read, create an ask login."""
    warehouse = prep.warehouse()
    summary = warehouse.load([*jira_records(), *gitlab_records()])
    assert summary.rejected == 0
    warehouse.dbt("build", *upstream_of(*MARTS), *VARS)
    return warehouse.url


@pytest.fixture(scope="module")
def login_url(prepared: str, pg_server_url: str, tmp_path_factory: pytest.TempPathFactory):
    from warehouse.settings import Settings

    login = new_login("heimdall_asker_h")
    home = tmp_path_factory.mktemp("ask_history")
    yield ask_login_url(Settings(home=home, database_url=prepared), ApiSettings(login=login), prepared)
    drop_login(pg_server_url, login)


def answer(login_url: str, question: str) -> Answer:
    with connect_as_asker(login_url) as conn:
        result = ask(conn, question)
    assert isinstance(result, Answer), result
    return result


def pick(rows: tuple[dict[str, Any], ...], *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(row[column] for column in columns) for row in rows]


def test_slowest_reviews(login_url: str) -> None:
    result = answer(login_url, "slowest reviews in payments since 2026-01-01")
    assert (
        result.parameters["period_start"] == "2026-01-01" and result.parameters["period_end"] == "2026-01-10"
    )
    # 1001: 13:00 -> 16:00 = 3 h; 1003: 10:00 -> 11:00 = 1 h; 1002 unreviewed, 1004 a bot, 1006 open
    assert pick(result.rows, "merge_request_id", "review_duration_hours", "review_pickup_hours") == [
        ("1001", Decimal("3.0"), Decimal("2.0")),
        ("1003", Decimal("1.0"), Decimal("1.0")),
    ]
    assert result.reading.startswith(
        "The slowest review in team payments since 2026-01-01 was MR 1001 (3.0 h"
    )


def test_merged_without_review(login_url: str) -> None:
    result = answer(login_url, "which merge requests were merged without review this week?")
    assert result.parameters["period_start"] == "2026-01-05"
    assert pick(result.rows, "merge_request_id", "is_self_approved", "unreviewed_total") == [
        ("1002", True, 1)
    ]


def test_unlinked_work(login_url: str) -> None:
    result = answer(login_url, "unlinked work by team since 2026-01-01")
    # done PAY-1, PAY-2, PAY-3, PAY-3 unlinked: 1/3; merged human MRs 1001, 1002, 1003, 1003 unlinked
    assert pick(
        result.rows,
        "team_id",
        "done_issues",
        "unlinked_done_issues",
        "unlinked_work_share",
        "merged_merge_requests",
        "unlinked_merge_requests",
    ) == [("payments", 3, 1, Decimal("0.3333"), 3, 1)]


def test_current_wip(login_url: str) -> None:
    result = answer(login_url, "what is in progress right now?")
    # PAY-4: Mon 2026-01-05 09:00 -> Sat 00:00 = 111 h = 4.625 days
    assert pick(result.rows, "issue_key", "team_id", "current_status", "age_days", "wip_items") == [
        ("PAY-4", "payments", "In Progress", Decimal("4.6"), 1)
    ]


def test_one_issue(login_url: str) -> None:
    result = answer(login_url, "what happened to pay-1?")
    assert result.bound["issue_key"] == "PAY-1"
    # linked by MR 1001's branch and MR 1005's description
    assert pick(result.rows, "issue_key", "current_status", "linked_merge_requests") == [("PAY-1", "Done", 2)]
    assert answer(login_url, "what happened to PAY-999").rows == ()


def test_a_period_after_the_history_is_refused(login_url: str) -> None:
    with connect_as_asker(login_url) as conn:
        result = ask(conn, "slowest reviews since 2026-02-01")
    assert isinstance(result, Refusal) and result.parameter == "period"
    assert "2026-01-10" in result.reason
