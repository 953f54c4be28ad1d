"""Deletions are tombstones the loader respects (docs/raw-layer.md), against a real PostgreSQL: a document
older than the deletion of its object never brings it back (whichever source delivers it, API or webhook),
nor does a change history of a deleted issue; only a newer document restores the object. And a load batch
left `running` by a dead session is recognised as interrupted, while a live one is left alone."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from connectors.state import mark_deleted
from warehouse.loader import mark_interrupted_batches
from warehouse.records import RawRecord

_ids = itertools.count(880_001)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _issue(issue_id: str, updated: datetime, summary: str = "an issue") -> dict[str, Any]:
    return {
        "id": issue_id,
        "key": f"TMB-{issue_id}",
        "fields": {"summary": summary, "updated": _stamp(updated), "project": {"key": "TMB"}},
    }


def _history(history_id: str, created: datetime) -> dict[str, Any]:
    return {"id": history_id, "created": _stamp(created), "items": [{"field": "status", "toString": "Done"}]}


@pytest.fixture
def ids() -> tuple[str, str, str]:
    return str(next(_ids)), str(next(_ids) + 10_000_000), str(next(_ids) + 20_000_000)


def _stored(query, table: str, source_id: str) -> dict[str, Any] | None:
    rows = query(f"select payload from raw.{table} where source_id = %s", (source_id,))
    return rows[0]["payload"] if rows else None


def _delete(url: str, issue_id: str) -> int:
    with psycopg.connect(url) as conn:
        return mark_deleted(conn, "jira_issues", [issue_id], "webhook", children="jira_changelogs")


@pytest.mark.parametrize("late_source", ["webhook", "jira_cloud"])
def test_an_older_document_does_not_bring_a_deleted_issue_back(
    warehouse_url, load, query, ids, late_source
) -> None:
    issue_id, history_id, late_history_id = ids
    now = datetime.now(UTC)
    load(
        [
            RawRecord("jira_issues", _issue(issue_id, now - timedelta(hours=2))),
            RawRecord("jira_changelogs", _history(history_id, now - timedelta(hours=2)), parent_id=issue_id),
        ],
        source="jira_cloud",
    )
    assert _delete(warehouse_url, issue_id) == 1
    # the update made a minute before the deletion, delivered after it
    late = load(
        [
            RawRecord(
                "jira_issues", _issue(issue_id, now - timedelta(minutes=1), "edited before the delete")
            ),
            RawRecord(
                "jira_changelogs", _history(late_history_id, now - timedelta(minutes=1)), parent_id=issue_id
            ),
        ],
        source=late_source,
    )
    assert _stored(query, "jira_issues", issue_id) is None
    assert _stored(query, "jira_changelogs", late_history_id) is None
    assert late.loaded == 0 and late.tombstoned == 2 and late.unchanged == 0
    kept = query(
        "select table_name, source_id, restored_at from app.deleted_documents "
        "where source_id in (%s, %s) order by table_name",
        (issue_id, history_id),
    )
    assert [(k["table_name"], k["source_id"], k["restored_at"]) for k in kept] == [
        ("jira_changelogs", history_id, None),
        ("jira_issues", issue_id, None),
    ]
    batches = query(
        "select sum(rows_tombstoned) as n from app.load_batches where batch_id >= %s",
        (min(batch.batch_id for batch in late.batches),),
    )
    assert batches[0]["n"] == 2


def test_a_deletion_of_a_document_raw_never_had_still_blocks_a_late_delivery(warehouse_url, load, query, ids):
    issue_id, _, _ = ids
    assert _delete(warehouse_url, issue_id) == 0  # deleted before any sync saw it
    load([RawRecord("jira_issues", _issue(issue_id, datetime.now(UTC) - timedelta(seconds=30)))], "webhook")
    assert _stored(query, "jira_issues", issue_id) is None
    tombstone = query(
        "select payload, restored_at from app.deleted_documents where source_id = %s", (issue_id,)
    )
    assert tombstone == [{"payload": None, "restored_at": None}]


def test_only_a_newer_document_restores_it_and_lifts_its_histories_tombstones(
    warehouse_url, load, query, ids
):
    issue_id, history_id, later_history_id = ids
    now = datetime.now(UTC)
    load(
        [
            RawRecord("jira_issues", _issue(issue_id, now - timedelta(hours=1))),
            RawRecord("jira_changelogs", _history(history_id, now - timedelta(hours=1)), parent_id=issue_id),
        ]
    )
    _delete(warehouse_url, issue_id)
    restored = _issue(issue_id, now + timedelta(minutes=5), "restored from the trash")
    # one batch with the stale and the newer version: the newer one restores the issue
    load(
        [
            RawRecord("jira_issues", _issue(issue_id, now - timedelta(minutes=1))),
            RawRecord("jira_issues", restored),
        ],
        source="jira_cloud",
    )
    assert _stored(query, "jira_issues", issue_id) == restored
    rows = query(
        "select table_name, restored_at is not null as restored from app.deleted_documents "
        "where source_id in (%s, %s) order by table_name",
        (issue_id, history_id),
    )
    assert [(r["table_name"], r["restored"]) for r in rows] == [
        ("jira_changelogs", True),
        ("jira_issues", True),
    ]
    # its histories load again (the old one from a resync, a new one)
    load(
        [
            RawRecord("jira_changelogs", _history(history_id, now - timedelta(hours=1)), parent_id=issue_id),
            RawRecord("jira_changelogs", _history(later_history_id, now), parent_id=issue_id),
        ],
        source="jira_cloud",
    )
    assert _stored(query, "jira_changelogs", history_id) is not None
    assert _stored(query, "jira_changelogs", later_history_id) is not None
    # deleted again (at a known time): a new tombstone, the payload of the restored version kept
    with psycopg.connect(warehouse_url) as conn:
        deleted_at = now + timedelta(minutes=10)
        assert mark_deleted(conn, "jira_issues", [issue_id], "webhook", deleted_at=deleted_at) == 1
    again = query("select payload, restored_at from app.deleted_documents where source_id = %s", (issue_id,))
    assert again == [{"payload": restored, "restored_at": None}]
    load([RawRecord("jira_issues", restored)], source="jira_cloud")
    assert _stored(query, "jira_issues", issue_id) is None  # not newer than the second deletion


def test_a_batch_left_running_by_a_dead_session_is_marked_interrupted(warehouse_url, query) -> None:
    def start_batch(conn: psycopg.Connection) -> int:
        row = conn.execute(
            "insert into app.load_batches (source, table_name, rows_received, backend_pid, backend_started) "
            "values ('synthetic', 'jira_issues', 1, pg_backend_pid(), "
            "(select backend_start from pg_stat_activity where pid = pg_backend_pid())) returning batch_id"
        ).fetchone()
        conn.commit()
        assert row is not None
        return int(row[0])

    with psycopg.connect(warehouse_url) as dead:
        dead_batch = start_batch(dead)
        dead_pid = dead.info.backend_pid
    with psycopg.connect(warehouse_url, autocommit=True) as watch:  # wait until that session has ended
        for _ in range(400):
            if watch.execute(
                "select count(*) from pg_stat_activity where pid = %s", (dead_pid,)
            ).fetchone() == (0,):
                break
            watch.execute("select pg_sleep(0.05)")
    with psycopg.connect(warehouse_url) as live, psycopg.connect(warehouse_url) as sweeper:
        live_batch = start_batch(live)
        marked = mark_interrupted_batches(sweeper)
        sweeper.commit()
        statuses = dict(
            (r["batch_id"], (r["status"], r["error"]))
            for r in query(
                "select batch_id, status, error from app.load_batches where batch_id in (%s, %s)",
                (dead_batch, live_batch),
            )
        )
    assert (dead_batch, "synthetic", "jira_issues") in marked
    assert statuses[dead_batch][0] == "interrupted" and "interrupted" in statuses[dead_batch][1]
    assert statuses[live_batch] == ("running", None)  # its session is alive: in progress
