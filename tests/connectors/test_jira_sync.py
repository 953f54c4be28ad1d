"""The Jira connector against a real HTTP server on loopback (tests/connectors/fakes.py) and a real database:
full then incremental sync, deletions, retries that honour Retry-After, bounded attempts, expired page tokens,
and a sync killed mid-way then rerun giving the same raw rows as an uninterrupted one."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from connectors.http import ApiClient, ConnectorError, RetryPolicy
from connectors.jira import JiraConnector
from tests.connectors.fakes import FakeJira, Fault, jira_fixture
from warehouse.settings import ConnectorSettings, JiraSettings

EMAIL, TOKEN = "bot@example.com", "jira-token-s3cret"
HEIMDALL = str(Path(sys.executable).parent / "heimdall")


@pytest.fixture(scope="module")
def fixture_data() -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]], dict]:
    return jira_fixture()


@pytest.fixture
def fake(fixture_data) -> FakeJira:
    issues, changelogs, sprints = copy.deepcopy(fixture_data)
    with FakeJira(issues, changelogs, sprints, email=EMAIL, token=TOKEN) as server:
        yield server


def connector(
    fake: FakeJira, *, page_size: int = 5, attempts: int = 4, sleep=None, timeout: float = 30.0
) -> JiraConnector:
    settings = JiraSettings(base_url=fake.url, email=EMAIL, api_token=TOKEN, projects=("PAY",), boards=("1",))
    behaviour = ConnectorSettings(
        page_size=page_size, max_attempts=attempts, overlap_minutes=10, concurrency=3
    )
    policy = RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=5)
    client = ApiClient(
        fake.url, auth=(EMAIL, TOKEN), policy=policy, sleep=sleep or time.sleep, seed=1, timeout=timeout
    )
    return JiraConnector(settings, behaviour, client)


def raw_rows(url: str, table: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(sql.SQL("select source_id, payload from raw.{}").format(sql.Identifier(table)))
        return dict(rows.fetchall())


def pay_issues(fake: FakeJira) -> dict[str, dict[str, Any]]:
    return {i: issue for i, issue in fake.issues.items() if issue["fields"]["project"]["key"] == "PAY"}


def test_full_sync_stores_exactly_the_source_documents(fake, db) -> None:
    with psycopg.connect(db) as conn:
        summary = connector(fake).sync(conn)
    expected = pay_issues(fake)
    stored = raw_rows(db, "jira_issues")
    assert stored == expected  # verbatim documents, nothing else
    histories = raw_rows(db, "jira_changelogs")
    assert set(histories) == {str(h["id"]) for i in expected for h in fake.changelogs.get(i, [])}
    assert len(raw_rows(db, "jira_sprints")) == len(fake.sprints["1"])
    assert summary.new == len(stored) + len(histories) + len(fake.sprints["1"]) and summary.updated == 0
    # paginated by token: ceil(issues / 5) search requests, no `expand=changelog`, the fields asked for
    # (plus one ids-only listing that checks the pages missed nothing)
    searches = [e for e in fake.requests("/rest/api/3/search/jql") if e.query.get("fields") != "id"]
    assert len(searches) == -(-len(expected) // 5)
    assert all(
        "expand" not in entry.query and "customfield_10020" in entry.query["fields"] for entry in searches
    )
    with psycopg.connect(db) as conn:
        mark = conn.execute(
            "select watermark, last_status from app.sync_state where scope = 'issues:PAY'"
        ).fetchone()
    newest = max(issue["fields"]["updated"] for issue in expected.values())
    assert mark[1] == "succeeded" and mark[0].strftime("%Y-%m-%dT%H:%M:%S") == newest[:19]


def test_incremental_sync_fetches_only_what_changed(fake, db) -> None:
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    before = len(fake.requests("/rest/api/3/search/jql"))
    # two issues change at the source, one new issue appears
    changed = sorted(pay_issues(fake).values(), key=lambda i: i["fields"]["updated"])[:2]
    for issue in changed:
        issue["fields"]["updated"] = "2026-01-12T10:00:00.000+0000"
        issue["fields"]["summary"] += " (edited)"
    new = copy.deepcopy(changed[0])
    new.update(id="999001", key="PAY-9001")
    new["fields"]["summary"] = "Brand new"
    fake.issues["999001"] = new
    with psycopg.connect(db) as conn:
        summary = connector(fake).sync(conn)
    searches = fake.requests("/rest/api/3/search/jql")[before:]
    # the JQL asks from the watermark minus the 10-minute overlap, in the user's zone (Europe/Berlin, UTC+1):
    # watermark 2026-01-09 18:30 UTC -> 18:20 UTC -> 19:20 Berlin
    assert 'updated >= "2026/01/09 19:20"' in searches[0].query["jql"]
    assert summary.new >= 1 and summary.updated == 2
    stored = raw_rows(db, "jira_issues")
    assert stored["999001"]["fields"]["summary"] == "Brand new"
    assert all(stored[issue["id"]]["fields"]["summary"].endswith("(edited)") for issue in changed)
    assert summary.fetched < 3 * len(stored)  # not a full re-fetch


def test_issue_deleted_between_syncs_is_moved_out_of_raw(fake, db) -> None:
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    victim = sorted(pay_issues(fake))[0]
    history_ids = {str(h["id"]) for h in fake.changelogs.get(victim, [])}
    del fake.issues[victim]
    with psycopg.connect(db) as conn:
        summary = connector(fake).sync(conn, full=True)
        deleted = conn.execute(
            "select detected_by, payload ->> 'id' from app.deleted_documents where table_name = 'jira_issues'"
        ).fetchall()
    assert summary.deleted == 1
    assert deleted == [("reconciliation", victim)]
    assert victim not in raw_rows(db, "jira_issues")
    assert not history_ids & set(raw_rows(db, "jira_changelogs"))


def test_429_retry_after_is_honoured(fake, db) -> None:
    fake.faults.append(Fault("/rest/api/3/search/jql", 429, {"Retry-After": "1"}))
    # each wait the client asks for, with the number of searches the server had answered by then
    waits: list[tuple[float, int]] = []
    with psycopg.connect(db) as conn:
        connector(
            fake, sleep=lambda seconds: waits.append((seconds, len(fake.requests("/rest/api/3/search/jql"))))
        ).sync(conn)
    searches = fake.requests("/rest/api/3/search/jql")
    assert searches[0].status == 429 and searches[1].status == 200
    assert waits == [(1.0, 1)]  # exactly Retry-After's second, after the 429 and before the retry
    assert len(raw_rows(db, "jira_issues")) == len(pay_issues(fake))


def test_500s_back_off_then_succeed_and_give_up_after_the_bound(fake, db) -> None:
    waits: list[float] = []
    fake.faults.append(Fault("/rest/api/3/changelog/bulkfetch", 500, times=2))
    with psycopg.connect(db) as conn:
        connector(fake, sleep=waits.append).sync(conn)
    assert len(waits) == 2 and waits[1] > waits[0]  # exponential backoff (0.01 then 0.02, +-25% jitter)
    assert len(raw_rows(db, "jira_issues")) == len(pay_issues(fake))

    fake.faults.append(Fault("/rest/api/3/search/jql", 503, times=99))
    with psycopg.connect(db) as conn, pytest.raises(ConnectorError) as failure:
        connector(fake, attempts=3, sleep=lambda s: None).sync(conn, full=True)
    message = str(failure.value)
    assert "GET " in message and "/rest/api/3/search/jql" in message and "3 attempts" in message
    assert TOKEN not in message
    with psycopg.connect(db) as conn:
        status = conn.execute("select last_status from app.sync_state where scope = 'issues:PAY'").fetchone()
    assert status == ("failed",)


def test_slow_response_times_out_and_is_retried(fake, db) -> None:
    # the first search answer takes 1.5 s, the client waits 0.5 s: a timeout, retried like a network error
    fake.faults.append(Fault("/rest/api/3/search/jql", 200, delay=1.5))
    waits: list[float] = []
    with psycopg.connect(db) as conn:
        connector(fake, timeout=0.5, sleep=waits.append).sync(conn)
    assert raw_rows(db, "jira_issues") == pay_issues(fake)
    assert len(waits) == 1  # one timeout, one backoff, then the page


def test_connectors_check(fake, db) -> None:
    configured = subprocess.run(
        [HEIMDALL, "connectors", "check"], env=_cli_env(fake, db), capture_output=True, text=True, check=False
    )
    assert configured.returncode == 0, configured.stderr
    assert "ok as Heimdall Bot" in configured.stdout and TOKEN not in configured.stdout
    assert len(fake.requests("/rest/api/3/search")) == 0  # authentication only, no data fetched
    bare = {k: v for k, v in _cli_env(fake, db).items() if not k.startswith("HEIMDALL_JIRA")}
    nothing = subprocess.run([HEIMDALL, "connectors", "check"], env=bare, capture_output=True, text=True)
    assert nothing.returncode == 0 and "not tried" in nothing.stdout


def test_expired_page_token_resumes_from_the_committed_watermark(fake, db) -> None:
    fake.page_hook = lambda page: fake.expire_tokens() if page == 1 else None
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    assert any(entry.status == 400 for entry in fake.requests("/rest/api/3/search/jql"))
    assert raw_rows(db, "jira_issues") == pay_issues(fake)


def test_wrong_credentials_fail_clearly(fake) -> None:
    client = ApiClient(fake.url, auth=(EMAIL, "wrong"), policy=RetryPolicy(max_attempts=2, base_delay=0.01))
    settings = JiraSettings(base_url=fake.url, email=EMAIL, api_token="wrong", projects=("PAY",))
    with pytest.raises(ConnectorError, match="HTTP 401") as failure:
        JiraConnector(settings, ConnectorSettings(), client).check()
    assert "wrong" not in str(failure.value)


def _cli_env(fake: FakeJira, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_")}
    env.update(
        HEIMDALL_DATABASE_URL=url,
        HEIMDALL_JIRA_URL=fake.url,
        HEIMDALL_JIRA_EMAIL=EMAIL,
        HEIMDALL_JIRA_API_TOKEN=TOKEN,
        HEIMDALL_JIRA_PROJECTS="PAY",
        HEIMDALL_JIRA_BOARDS="1",
        HEIMDALL_CONNECTOR_PAGE_SIZE="3",
        HEIMDALL_CONNECTOR_CONCURRENCY="1",
        COLUMNS="200",
    )
    return env


def test_killed_sync_rerun_equals_uninterrupted(fake, db, pg_server_url) -> None:
    """`heimdall sync jira` is SIGKILLed while it waits for page 4; the rerun must give exactly the raw rows
    of an uninterrupted sync (no duplicates, no gap)."""
    env = _cli_env(fake, db)
    reached, released = threading.Event(), threading.Event()

    def stall_page_four(page: int) -> None:
        if page == 3 and not released.is_set():
            reached.set()
            released.wait(30)

    fake.page_hook = stall_page_four
    process = subprocess.Popen(
        [HEIMDALL, "sync", "jira"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert reached.wait(60), "the sync never asked for page 4"
        process.send_signal(signal.SIGKILL)  # while it waits for page 4 of the search
        process.wait(30)
    finally:
        released.set()
    partial = raw_rows(db, "jira_issues")
    assert 0 < len(partial) < len(pay_issues(fake))  # it really was interrupted mid-way
    rerun = subprocess.run([HEIMDALL, "sync", "jira"], env=env, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert "sync summary" in rerun.stdout

    # an uninterrupted sync into a fresh database
    name = f"t_jira_clean_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    info = conninfo_to_dict(pg_server_url)
    info["dbname"] = name
    clean = make_conninfo(**info)
    try:
        done = subprocess.run(
            [HEIMDALL, "sync", "jira"], env=_cli_env(fake, clean), capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        for table in ("jira_issues", "jira_changelogs", "jira_sprints"):
            assert raw_rows(db, table) == raw_rows(clean, table), table
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
