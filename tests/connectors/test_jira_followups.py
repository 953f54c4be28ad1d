"""Issue 10 integration follow-ups on the Jira side, against the fake Jira Cloud (real HTTP on 127.0.0.1),
a real uvicorn and a real PostgreSQL:

* a site answering the bulk changelog endpoint with 501 Not Implemented falls back to per-issue changelogs
  (501 is final: not retried, and the error keeps its status, which the fallback decides on);
* `jira:issue_deleted` tombstones are ordered by the source's clock (the payload `timestamp`), so an issue
  updated at the source after its deletion (restored) is stored again, whenever the deletion arrives;
* `heimdall sync --full --help` says what --full does for both sources.
"""

from __future__ import annotations

import copy
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn
from typer.testing import CliRunner

from connectors.http import ApiClient, ConnectorError, RetryPolicy
from heimdall.cli import app as heimdall_app
from tests.connectors.fakes import FakeJira, jira_fixture
from tests.connectors.test_jira_loss import (
    EMAIL,
    HOOK_SECRET,
    TOKEN,
    _deliver,
    _jira_stamp,
    connector,
    rows,
    served_vs_stored,
)
from warehouse.settings import PROJECT_ROOT, JiraSettings, Settings

BULKFETCH = "/rest/api/3/changelog/bulkfetch"


@pytest.fixture(scope="module")
def fixture_data() -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]], dict]:
    return jira_fixture()


@pytest.fixture
def fake(fixture_data) -> Iterator[FakeJira]:
    issues, changelogs, sprints = copy.deepcopy(fixture_data)
    with FakeJira(issues, changelogs, sprints, email=EMAIL, token=TOKEN) as server:
        yield server


# ---------------------------------------------------------------- 501 on the bulk changelog endpoint
def test_a_501_is_final_and_keeps_its_status(fake: FakeJira) -> None:
    fake.bulk_status = 501
    waits: list[float] = []
    client = ApiClient(
        fake.url, auth=(EMAIL, TOKEN), policy=RetryPolicy(max_attempts=4, base_delay=0.01), sleep=waits.append
    )
    with pytest.raises(ConnectorError) as failure:
        client.post_json(BULKFETCH, {"issueIdsOrKeys": ["1"]})
    assert failure.value.status == 501
    assert "501" in str(failure.value) and BULKFETCH in str(failure.value)
    assert len(fake.requests(BULKFETCH)) == 1 and waits == []  # asked once: asking again cannot help


def test_an_error_after_every_attempt_keeps_the_last_status(fake: FakeJira) -> None:
    fake.bulk_status = 503
    policy = RetryPolicy(max_attempts=3, base_delay=0.01)
    client = ApiClient(fake.url, auth=(EMAIL, TOKEN), policy=policy, sleep=lambda seconds: None)
    with pytest.raises(ConnectorError, match="after 3 attempts") as failure:
        client.post_json(BULKFETCH, {"issueIdsOrKeys": ["1"]})
    assert failure.value.status == 503 and len(fake.requests(BULKFETCH)) == 3  # a 503 is retried


def test_bulk_changelogs_answering_501_fall_back_to_per_issue_changelogs(fake: FakeJira, db: str) -> None:
    fake.bulk_status = 501  # a site without the endpoint
    with psycopg.connect(db) as conn:
        summary = connector(fake).sync(conn)  # pages of 5 issues: the fallback holds for the whole run
    assert summary.errors == []
    assert len(fake.requests(BULKFETCH)) == 1  # once, not retried, and not asked again on later pages
    per_issue = [entry for entry in fake.log if entry.path.endswith("/changelog")]
    pay = [issue for issue in fake.issues.values() if issue["fields"]["project"]["key"] == "PAY"]
    assert len({entry.path for entry in per_issue}) == len(pay)
    served_vs_stored(fake, db)


# ---------------------------------------------------------------- jira:issue_deleted at the source's time
@pytest.fixture
def hooks(db: str, tmp_path: Path) -> Iterator[str]:
    settings = Settings(
        home=tmp_path,
        database_url=db,
        dbt_project_dir=PROJECT_ROOT / "dbt",
        jira=JiraSettings(webhook_secret=HOOK_SECRET),
    )
    from connectors.webhooks.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(db, settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _tombstone(db: str, issue_id: str) -> tuple[datetime, datetime | None] | None:
    with psycopg.connect(db) as conn:
        return conn.execute(
            "select deleted_at, restored_at from app.deleted_documents "
            "where table_name = 'jira_issues' and source_id = %s",
            (issue_id,),
        ).fetchone()


def _deletion(issue: dict[str, Any], at: datetime | None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "webhookEvent": "jira:issue_deleted",
        "user": {"accountId": "abc", "displayName": "Someone"},
        "issue": issue,
    }
    if at is not None:
        payload["timestamp"] = int(at.timestamp() * 1000)
    return payload


def test_issue_deleted_webhook_tombstones_at_the_payload_timestamp(
    fake: FakeJira, db: str, hooks: str
) -> None:
    """Deleted at the source two minutes ago (the delivery is late), restored at the source a minute ago: the
    restored version is newer than the deletion, so it is stored again. A tombstone dated at the delivery's
    arrival would refuse it until the issue changed once more."""
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    pay = sorted(i for i, issue in fake.issues.items() if issue["fields"]["project"]["key"] == "PAY")
    victim_id = pay[0]
    victim = copy.deepcopy(fake.issues[victim_id])
    now = datetime.now(UTC).replace(microsecond=0)
    deleted_at = now - timedelta(minutes=2)
    assert _deliver(hooks, _deletion(victim, deleted_at), "delete-at-source-time").status_code == 202
    tombstone = _tombstone(db, victim_id)
    assert tombstone is not None and tombstone == (deleted_at, None)
    assert victim_id not in dict(rows(db, "jira_issues"))

    restored = copy.deepcopy(victim)
    restored["fields"]["updated"] = _jira_stamp(now - timedelta(minutes=1))
    restored["fields"]["summary"] += " (restored)"
    update = {
        "timestamp": int((now - timedelta(minutes=1)).timestamp() * 1000),
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "user": {"accountId": "abc", "displayName": "Someone"},
        "issue": restored,
    }
    assert _deliver(hooks, update, "restored-1").status_code == 202
    assert dict(rows(db, "jira_issues"))[victim_id]["fields"]["summary"] == restored["fields"]["summary"]
    tombstone = _tombstone(db, victim_id)
    assert tombstone is not None and tombstone[1] is not None  # lifted by the newer document

    # without a payload timestamp the deletion is dated on arrival
    other = copy.deepcopy(fake.issues[pay[1]])
    before = datetime.now(UTC)
    assert _deliver(hooks, _deletion(other, None), "delete-without-timestamp").status_code == 202
    tombstone = _tombstone(db, pay[1])
    assert tombstone is not None and before - timedelta(seconds=5) <= tombstone[0] <= datetime.now(UTC)


def test_a_deletion_timestamp_ahead_of_the_server_clock_counts_as_now(
    fake: FakeJira, db: str, hooks: str
) -> None:
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    victim_id = sorted(fake.issues)[0]
    ahead = datetime.now(UTC) + timedelta(minutes=3)  # clock skew within the replay tolerance
    assert _deliver(hooks, _deletion(fake.issues[victim_id], ahead), "delete-ahead").status_code == 202
    tombstone = _tombstone(db, victim_id)
    assert tombstone is not None and tombstone[0] <= datetime.now(UTC)


# ---------------------------------------------------------------- --full help
@pytest.mark.parametrize("source", ["jira", "gitlab", "all"])
def test_full_help_says_what_full_does_for_both_sources(source: str) -> None:
    result = CliRunner().invoke(heimdall_app, ["sync", source, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.replace("│", " ").split())
    for words in ("Jira issues", "GitLab merge requests, pipelines, deployments and incidents", "404"):
        assert words in text, text
    assert "Cannot be combined with --since" in text
