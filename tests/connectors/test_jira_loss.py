"""Issue 10, Jira and sync-state side: every way a Jira sync could lose (or wrongly delete) documents, each
reproduced against the fake Jira Cloud of tests/connectors/fakes.py (real HTTP on 127.0.0.1) and a real
PostgreSQL. Each test ends by comparing the documents the source serves with the documents stored in raw:
nothing lost, nothing duplicated, nothing that the source deleted.

Request counts of a realistic project (2,000 issues) with and without the bulk changelog endpoint are
measured by ``test_bulk_changelogs_request_counts`` (run with ``-s`` to see them)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from psycopg import sql

from connectors.http import ApiClient, RetryPolicy
from connectors.jira import JiraConnector
from tests.connectors.fakes import FakeJira, jira_fixture, jira_scaled_fixture
from warehouse.settings import PROJECT_ROOT, ConnectorSettings, JiraSettings, Settings

EMAIL, TOKEN = "bot@example.com", "jira-token-s3cret"
HOOK_SECRET = "jira-hook-s3cret"
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
    fake: FakeJira,
    *,
    projects: tuple[str, ...] = ("PAY",),
    boards: tuple[str, ...] = ("1",),
    page_size: int = 5,
    concurrency: int = 3,
    **settings: Any,
) -> JiraConnector:
    jira = JiraSettings(
        base_url=fake.url, email=EMAIL, api_token=TOKEN, projects=projects, boards=boards, **settings
    )
    behaviour = ConnectorSettings(
        page_size=page_size, max_attempts=3, overlap_minutes=10, concurrency=concurrency
    )
    client = ApiClient(
        fake.url, auth=(EMAIL, TOKEN), policy=RetryPolicy(max_attempts=3, base_delay=0.01), seed=1
    )
    return JiraConnector(jira, behaviour, client)


def rows(url: str, table: str) -> list[tuple[str, Any]]:
    with psycopg.connect(url) as conn:
        query = sql.SQL("select source_id, payload from raw.{}").format(sql.Identifier(table))
        return conn.execute(query).fetchall()


def served_vs_stored(fake: FakeJira, url: str, project: str = "PAY") -> dict[str, int]:
    """Assert raw holds exactly what the source serves for ``project`` (issues and their change histories):
    0 lost, 0 duplicated, nothing extra. Returns the counts."""
    served = {i: issue for i, issue in fake.issues.items() if issue["fields"]["project"]["key"] == project}
    served_histories = {str(h["id"]): h for i in served for h in fake.changelogs.get(i, [])}
    all_issues = rows(url, "jira_issues")
    issue_rows = [(k, v) for k, v in all_issues if v["fields"]["project"]["key"] == project]
    elsewhere = {k for k, v in all_issues if v["fields"]["project"]["key"] != project}
    stored = dict(issue_rows)
    with psycopg.connect(url) as conn:
        history_rows = [
            (source_id, payload)
            for source_id, parent_id, payload in conn.execute(
                "select source_id, parent_id, payload from raw.jira_changelogs"
            ).fetchall()
            if parent_id not in elsewhere
        ]
    histories = dict(history_rows)
    counts = {
        "issues_served": len(served),
        "issues_stored": len(issue_rows),
        "issues_lost": len(served.keys() - stored.keys()),
        "issues_extra": len(stored.keys() - served.keys()),
        "issues_duplicated": len(issue_rows) - len({v["id"] for _, v in issue_rows}),
        "histories_served": len(served_histories),
        "histories_stored": len(history_rows),
        "histories_lost": len(served_histories.keys() - histories.keys()),
        "histories_extra": len(histories.keys() - served_histories.keys()),
        "histories_duplicated": len(history_rows) - len({v["id"] for _, v in history_rows}),
    }
    print(f"\nserved vs stored: {counts}")
    assert stored == served, counts
    assert histories == served_histories, counts
    assert counts["issues_duplicated"] == counts["histories_duplicated"] == 0
    return counts


def status_of(url: str, scope: str) -> tuple[Any, ...] | None:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select last_status, last_error from app.sync_state where source = 'jira_cloud' and scope = %s",
            (scope,),
        ).fetchone()


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


def _middle_date(fake: FakeJira) -> str:
    stamps = sorted(
        issue["fields"]["updated"]
        for issue in fake.issues.values()
        if issue["fields"]["project"]["key"] == "PAY"
    )
    return stamps[len(stamps) // 2][:10]


def _wait_for_other_backends_to_end(url: str, timeout: float = 20) -> None:
    """A killed client's server process ends when it notices the closed socket: wait for that."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            others = conn.execute(
                "select count(*) from pg_stat_activity where datname = current_database() "
                "and pid <> pg_backend_pid() and backend_type = 'client backend'"
            ).fetchone()
            if others == (0,):
                return
            time.sleep(0.05)
    raise AssertionError("a killed client's database session never ended")


# ---------------------------------------------------------------- loss 4: --full --since deletes live issues
def test_full_with_since_is_refused_and_deletes_nothing(fake, db) -> None:
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    bounded = subprocess.run(
        [HEIMDALL, "sync", "jira", "--full", "--since", _middle_date(fake)],
        env=_cli_env(fake, db),
        capture_output=True,
        text=True,
        check=False,
    )
    assert bounded.returncode == 2, bounded.stdout + bounded.stderr
    message = " ".join((bounded.stdout + bounded.stderr).split())
    assert "--full" in message and "--since" in message
    with psycopg.connect(db) as conn:
        assert conn.execute("select count(*) from app.deleted_documents").fetchone() == (0,)
    served_vs_stored(fake, db)


def test_full_with_since_in_the_library_never_reconciles_a_bounded_listing(fake, db) -> None:
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
        since = datetime.fromisoformat(_middle_date(fake)).replace(tzinfo=UTC)
        summary = connector(fake).sync(conn, full=True, since=since)
        deleted = conn.execute("select count(*) from app.deleted_documents").fetchone()
    assert summary.deleted == 0 and deleted == (0,)
    assert any("--since" in note for note in summary.notes)  # says why deletions were not looked for
    served_vs_stored(fake, db)


def test_full_sync_with_an_expired_page_token_deletes_nothing(fake, db) -> None:
    """A --full listing whose page token expires must resume where *this* listing was, not from the stored
    (newer) watermark: otherwise the pages in between are never listed and reconciliation deletes them."""
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    expired: list[int] = []

    def expire_once(page: int) -> None:
        if page == 0 and not expired:
            expired.append(page)
            fake.expire_tokens()

    fake.page_hook = expire_once
    with psycopg.connect(db) as conn:
        summary = connector(fake).sync(conn, full=True)
    assert any(entry.status == 400 for entry in fake.requests("/rest/api/3/search/jql"))
    assert summary.deleted == 0
    served_vs_stored(fake, db)


def test_issue_updated_while_the_listing_is_read_is_not_skipped(fake, db) -> None:
    """The page token of the fake is an offset (as it may be in Jira): an issue of page 1 updated while page
    2 is asked for moves to the end and shifts every later issue one place left; the one that moved onto
    page 2's old first place is never listed, and the watermark then passes it for good."""
    first = min(
        (i for i in fake.issues.values() if i["fields"]["project"]["key"] == "PAY"),
        key=lambda i: (i["fields"]["updated"], int(i["id"])),
    )
    touched: list[int] = []

    def touch(page: int) -> None:
        if page == 1 and not touched:
            touched.append(page)
            first["fields"]["updated"] = "2026-01-12T09:00:00.000+0000"
            first["fields"]["summary"] += " (edited during the sync)"

    fake.page_hook = touch
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    assert touched
    served_vs_stored(fake, db)


def test_issue_moved_to_another_project_is_not_deleted(fake, db) -> None:
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    moved = sorted(i for i, issue in fake.issues.items() if issue["fields"]["project"]["key"] == "PAY")[0]
    issue = fake.issues[moved]
    issue["key"] = "OPS-900"
    issue["fields"]["project"] = {**issue["fields"]["project"], "key": "OPS", "name": "Operations"}
    issue["fields"]["updated"] = "2026-01-12T08:00:00.000+0000"
    with psycopg.connect(db) as conn:
        summary = connector(fake).sync(conn, full=True)
        gone = conn.execute("select count(*) from app.deleted_documents").fetchone()
    assert summary.deleted == 0 and gone == (0,)
    stored = dict(rows(db, "jira_issues"))
    assert stored[moved] == issue  # kept, as the source has it now (in OPS)
    served_vs_stored(fake, db)


# ---------------------------------------------------------------- loss 6: a late older webhook resurrects
@pytest.fixture
def hooks(db: str, tmp_path: Path) -> str:
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


def _deliver(hooks: str, payload: dict[str, Any], delivery: str) -> httpx.Response:
    body = json.dumps(payload).encode()
    signature = hmac.new(HOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-Hub-Signature": f"sha256={signature}", "X-Atlassian-Webhook-Identifier": delivery}
    return httpx.post(f"{hooks}/webhooks/jira", content=body, headers=headers)


def _jira_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def test_late_older_update_webhook_after_delete_does_not_resurrect(fake, db, hooks) -> None:
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    victim_id = sorted(i for i, issue in fake.issues.items() if issue["fields"]["project"]["key"] == "PAY")[0]
    victim = copy.deepcopy(fake.issues[victim_id])
    now = datetime.now(UTC)
    # at the source: edited a minute ago (that delivery is delayed), then deleted
    edited = copy.deepcopy(victim)
    edited["fields"]["updated"] = _jira_stamp(now - timedelta(minutes=1))
    edited["fields"]["summary"] += " (edited just before the deletion)"
    fake.delete_issue(victim_id)
    user = {"accountId": "abc", "displayName": "Someone"}
    deleted = {
        "timestamp": int(now.timestamp() * 1000),
        "webhookEvent": "jira:issue_deleted",
        "user": user,
        "issue": victim,
    }
    late = {
        "timestamp": int((now - timedelta(minutes=1)).timestamp() * 1000),
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "user": user,
        "issue": edited,
        "changelog": {"id": "990001", "items": [{"field": "summary", "fieldtype": "jira", "toString": "x"}]},
    }
    assert _deliver(hooks, deleted, "delete-1").status_code == 202
    assert _deliver(hooks, late, "late-update-1").status_code == 202  # kept verbatim in raw.webhook_events
    stored = dict(rows(db, "jira_issues"))
    assert victim_id not in stored
    assert "990001" not in dict(rows(db, "jira_changelogs"))
    # a newer sync agrees with the source
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    served_vs_stored(fake, db)


# ---------------------------------------------------------------- robustness
def test_changelog_404_of_an_issue_deleted_mid_sync_is_skipped_with_a_note(fake, db) -> None:
    fake.bulk_status = 404  # an instance without the bulk endpoint: per-issue changelogs
    page0 = sorted(
        (i for i in fake.issues.values() if i["fields"]["project"]["key"] == "PAY"),
        key=lambda i: (i["fields"]["updated"], int(i["id"])),
    )[:5]
    victim = page0[2]
    fake.page_hook = lambda page: fake.delete_issue(victim["id"]) if page == 0 else None
    with psycopg.connect(db) as conn:
        summary = connector(fake).sync(conn)
    assert any(victim["key"] in note for note in summary.notes)
    assert status_of(db, "issues:PAY")[0] == "succeeded"
    served_vs_stored(fake, db)


def test_issue_deleted_between_its_page_and_its_bulk_changelogs_leaves_raw(fake, db) -> None:
    """With the bulk endpoint a deleted issue's histories are simply absent; the issue itself was listed. The
    ids listing after the pages no longer has it, so it is asked for, answers 404 and is not kept."""
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    victim = sorted(i for i, issue in fake.issues.items() if issue["fields"]["project"]["key"] == "PAY")[3]
    fake.issues[victim]["fields"]["updated"] = "2026-01-12T08:00:00.000+0000"  # listed by the next sync

    def delete_victim(ids: list[str]) -> None:
        if victim in ids:
            fake.delete_issue(victim)

    fake.bulk_hook = delete_victim
    with psycopg.connect(db) as conn:
        summary = connector(fake).sync(conn)
        tombstone = conn.execute(
            "select detected_by from app.deleted_documents "
            "where table_name = 'jira_issues' and source_id = %s",
            (victim,),
        ).fetchone()
    assert summary.deleted == 1 and tombstone == ("sync",)
    served_vs_stored(fake, db)


def test_deleted_issue_keeps_its_change_histories(fake, db) -> None:
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    victim = max(
        (i for i, issue in fake.issues.items() if issue["fields"]["project"]["key"] == "PAY"),
        key=lambda i: len(fake.changelogs.get(i, [])),
    )
    histories = {str(h["id"]): h for h in fake.changelogs[victim]}
    assert histories
    fake.delete_issue(victim)
    with psycopg.connect(db) as conn:
        summary = connector(fake).sync(conn, full=True)
        kept = conn.execute(
            "select source_id, payload from app.deleted_documents where table_name = 'jira_changelogs'"
        ).fetchall()
    assert summary.deleted == 1
    assert dict(kept) == histories
    served_vs_stored(fake, db)


def test_custom_field_ids_come_from_the_settings_and_the_dbt_vars(fake, db, tmp_path) -> None:
    project = tmp_path / "dbt"
    project.mkdir()
    text = (PROJECT_ROOT / "dbt" / "dbt_project.yml").read_text()
    (project / "dbt_project.yml").write_text(text.replace("customfield_10021", "customfield_10555"))
    jira = JiraSettings(
        base_url=fake.url, email=EMAIL, api_token=TOKEN, projects=("PAY",), sprint_field="customfield_10777"
    )
    client = ApiClient(fake.url, auth=(EMAIL, TOKEN), policy=RetryPolicy(max_attempts=2, base_delay=0.01))
    with psycopg.connect(db) as conn:
        JiraConnector(jira, ConnectorSettings(page_size=50), client, dbt_project_dir=project).sync(conn)
    fields = fake.requests("/rest/api/3/search/jql")[0].query["fields"].split(",")
    assert "customfield_10777" in fields and "customfield_10020" not in fields  # the setting
    assert "customfield_10555" in fields and "customfield_10021" not in fields  # the dbt var
    assert "customfield_10001" in fields  # the dbt project's default


def test_killed_sync_is_marked_interrupted_by_the_next_run(fake, db) -> None:
    reached, released = threading.Event(), threading.Event()

    def stall(page: int) -> None:
        if page == 2 and not released.is_set():
            reached.set()
            released.wait(30)

    fake.page_hook = stall
    process = subprocess.Popen(
        [HEIMDALL, "sync", "jira"], env=_cli_env(fake, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert reached.wait(60), "the sync never asked for page 3"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        released.set()
    _wait_for_other_backends_to_end(db)
    assert status_of(db, "issues:PAY")[0] == "running"  # what a kill leaves behind
    with psycopg.connect(db) as conn:  # the next run (of another scope) sees that nobody runs it any more
        summary = connector(fake, projects=("OPS",), boards=()).sync(conn)
    status, error = status_of(db, "issues:PAY")
    assert status == "interrupted" and "interrupted" in error
    assert any("issues:PAY" in note for note in summary.notes)
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
    assert status_of(db, "issues:PAY")[0] == "succeeded"
    served_vs_stored(fake, db)


def test_a_live_sync_is_not_marked_interrupted(fake, db) -> None:
    reached, released = threading.Event(), threading.Event()

    def stall(page: int) -> None:
        if page == 1 and not released.is_set():
            reached.set()
            released.wait(30)

    fake.page_hook = stall
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with psycopg.connect(db) as conn:
                connector(fake).sync(conn)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert reached.wait(60)
        with psycopg.connect(db) as conn:
            connector(fake, projects=("OPS",), boards=()).sync(conn)
        assert status_of(db, "issues:PAY")[0] == "running"  # still in progress: left alone
    finally:
        released.set()
        worker.join(60)
    assert not errors and status_of(db, "issues:PAY")[0] == "succeeded"
    served_vs_stored(fake, db)


def test_killed_load_leaves_no_batch_running(fake, db, tmp_path) -> None:
    """`heimdall load` killed while its batch waits on a lock: the batch row stays `running`; the next sync
    marks it `interrupted`."""
    document = copy.deepcopy(next(iter(fake.issues.values())))
    document.update(id="777001", key="ZZZ-1")
    document["fields"]["project"] = {"id": "1", "key": "ZZZ", "name": "Elsewhere"}
    (tmp_path / "jira_issues.jsonl").write_text(json.dumps({"parent_id": None, "payload": document}) + "\n")
    env = _cli_env(fake, db)
    with psycopg.connect(db) as locker, psycopg.connect(db, autocommit=True) as watch:
        locker.execute("lock table raw.jira_issues in access exclusive mode")
        process = subprocess.Popen(
            [HEIMDALL, "load", str(tmp_path), "--source", "jira_cloud"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            waiting = watch.execute(
                "select count(*) from pg_stat_activity where datname = current_database() "
                "and wait_event_type = 'Lock'"
            ).fetchone()
            if waiting == (1,):
                break
            time.sleep(0.05)
        else:
            process.kill()
            raise AssertionError("the load never reached the locked table")
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        locker.rollback()
    _wait_for_other_backends_to_end(db)
    with psycopg.connect(db) as conn:
        batches = conn.execute(
            "select batch_id, status from app.load_batches where table_name = 'jira_issues'"
        ).fetchall()
    assert [status for _, status in batches] == ["running"]
    with psycopg.connect(db) as conn:
        connector(fake).sync(conn)
        after = dict(conn.execute("select batch_id, status from app.load_batches").fetchall())
    assert after[batches[0][0]] == "interrupted"
    assert "running" not in after.values()
    served_vs_stored(fake, db)


# ---------------------------------------------------------------- bulk changelogs: request counts
def _sync_counts(fake: FakeJira, url: str, **kwargs: Any) -> dict[str, int]:
    before = len(fake.log)
    with psycopg.connect(url) as conn:
        connector(fake, page_size=100, concurrency=4).sync(conn, **kwargs)
    log = fake.log[before:]
    return {
        "total": len(log),
        "search": sum(1 for e in log if e.path == "/rest/api/3/search/jql"),
        "bulkfetch": sum(1 for e in log if e.path == "/rest/api/3/changelog/bulkfetch"),
        "per_issue_changelog": sum(1 for e in log if e.path.endswith("/changelog")),
    }


def _touch(fake: FakeJira, count: int) -> None:
    for number, issue in enumerate(list(fake.issues.values())[:count]):
        issue["fields"]["updated"] = f"2026-02-01T10:{number % 60:02d}:00.000+0000"
        issue["fields"]["summary"] += " (edited)"
        history = {
            "id": str(90_000_000 + number),
            "author": None,
            "created": issue["fields"]["updated"],
            "items": [{"field": "summary", "fieldtype": "jira", "fieldId": "summary", "toString": "edited"}],
        }
        fake.changelogs.setdefault(str(issue["id"]), []).append(history)


@pytest.mark.parametrize("bulk", [True, False], ids=["bulkfetch", "per-issue"])
def test_bulk_changelogs_request_counts(db, bulk) -> None:
    issues, changelogs, sprints = jira_scaled_fixture(2000)
    with FakeJira(issues, changelogs, sprints, email=EMAIL, token=TOKEN) as fake:
        fake.bulk_created_epoch = True  # as the OpenAPI example has it; stored as Jira's string again
        if not bulk:
            fake.bulk_status = 404
        full = _sync_counts(fake, db)
        served_vs_stored(fake, db)
        _touch(fake, 30)
        incremental = _sync_counts(fake, db)
        served_vs_stored(fake, db)
    print(
        f"\n2,000 issues, {'bulkfetch' if bulk else 'per-issue fallback'}: "
        f"full {full}, incremental {incremental}"
    )
    if bulk:
        assert full["per_issue_changelog"] == 0 and incremental["per_issue_changelog"] == 0
        assert full["total"] <= 60 and incremental["total"] <= 5
        assert all(len(body["issueIdsOrKeys"]) <= 1000 for body in fake.bulk_bodies)
    else:  # the first 404 says the endpoint is missing: one attempt, then per issue for the rest of the run
        assert full["bulkfetch"] == 1 and full["per_issue_changelog"] == 2000
