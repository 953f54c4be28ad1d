"""The loader against a real PostgreSQL: COPY, upsert on natural key + updated_at, dead letters,
whole-batch rollback, and batch bookkeeping."""

from __future__ import annotations

import psycopg
import pytest

from warehouse.loader import LoadError, load_records
from warehouse.records import RawRecord


def jira_issue(issue_id: str, key: str, updated: str, summary: str = "Do the thing") -> RawRecord:
    return RawRecord(
        "jira_issues",
        {
            "id": issue_id,
            "key": key,
            "self": f"https://acme.atlassian.net/rest/api/3/issue/{issue_id}",
            "fields": {"summary": summary, "updated": updated, "created": "2026-01-05T09:00:00.000+0000"},
        },
    )


@pytest.fixture(autouse=True)
def _clean(warehouse_url: str) -> None:
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("truncate raw.jira_issues, raw.jira_changelogs, app.dead_letters")


def test_reloading_the_same_documents_changes_nothing(load, query) -> None:
    docs = [jira_issue(str(10000 + n), f"PAY-{n}", "2026-01-06T10:00:00.000+0000") for n in range(50)]
    first = load(docs)
    assert (first.received, first.loaded, first.unchanged, first.rejected) == (50, 50, 0, 0)
    before = query("select source_id, payload, batch_id from raw.jira_issues order by source_id")

    second = load(docs)
    assert (second.received, second.loaded, second.unchanged, second.rejected) == (50, 0, 50, 0)
    after = query("select source_id, payload, batch_id from raw.jira_issues order by source_id")
    assert after == before  # not even the batch_id moved: unchanged documents are not rewritten


def test_newest_document_wins_whatever_the_arrival_order(load, query) -> None:
    old = jira_issue("1", "PAY-1", "2026-01-06T10:00:00.000+0000", summary="old")
    new = jira_issue("1", "PAY-1", "2026-01-07T10:00:00.000+0000", summary="new")
    newest = jira_issue("1", "PAY-1", "2026-01-08T10:00:00.000+0000", summary="newest")

    load([new])
    load([old])  # an out-of-order, older delivery must not overwrite
    rows = query("select payload->'fields'->>'summary' as summary, updated_at from raw.jira_issues")
    assert [r["summary"] for r in rows] == ["new"]

    # duplicates inside one batch collapse to the newest, even when it is not last
    load([newest, old, new])
    rows = query("select payload->'fields'->>'summary' as summary from raw.jira_issues")
    assert [r["summary"] for r in rows] == ["newest"]


def test_malformed_documents_go_to_dead_letters_and_the_rest_loads(load, query) -> None:
    good = [
        jira_issue("1", "PAY-1", "2026-01-06T10:00:00.000+0000"),
        jira_issue("2", "PAY-2", "2026-01-06T10:00:00.000+0000"),
    ]
    bad = [
        RawRecord("jira_issues", ["not", "an", "object"]),
        RawRecord("jira_issues", {"id": "3", "key": "PAY-3", "fields": {"summary": "no updated"}}),
        RawRecord("jira_issues", {"id": "4", "key": "PAY-4", "fields": {"updated": "last tuesday"}}),
        RawRecord("jira_changelogs", {"id": "900", "created": "2026-01-06T10:00:00.000+0000", "items": []}),
        RawRecord("jira_issues", {"id": "6", "key": "PAY-6", "fields": {"updated": float("nan")}}),
    ]
    summary = load([good[0], *bad, good[1]])
    assert summary.rejected == 5
    assert summary.loaded == 2
    assert [r["source_id"] for r in query("select source_id from raw.jira_issues order by 1")] == ["1", "2"]

    # per table, in the order its documents arrived (the tables' batches may run in any order)
    letters = query(
        "select table_name, reason, document from app.dead_letters order by table_name, dead_letter_id"
    )
    reasons = {
        table: [letter["reason"] for letter in letters if letter["table_name"] == table]
        for table in ("jira_issues", "jira_changelogs")
    }
    assert reasons == {
        "jira_issues": [
            "document is not a JSON object (got list)",
            "missing required key 'fields.updated'",
            "unparseable timestamp in 'fields.updated': Invalid isoformat string: 'last tuesday'",
            "unparseable timestamp in 'fields.updated': not a timestamp: nan",
        ],
        "jira_changelogs": ["jira_changelogs documents need a parent_id (see docs/raw-layer.md)"],
    }
    assert len(letters) == 5
    # nothing is lost: the bad document's text is kept verbatim
    first_issue_letter = next(letter for letter in letters if letter["table_name"] == "jira_issues")
    assert first_issue_letter["document"] == '["not", "an", "object"]'

    batches = query(
        "select table_name, status, rows_received, rows_loaded, rows_rejected from app.load_batches "
        "where batch_id in (select batch_id from app.dead_letters)"
    )
    assert len(batches) == 2
    assert {
        (b["table_name"], b["status"], b["rows_received"], b["rows_loaded"], b["rows_rejected"])
        for b in batches
    } == {
        ("jira_issues", "succeeded", 6, 2, 4),
        ("jira_changelogs", "succeeded", 1, 0, 1),
    }


def test_a_database_error_rolls_the_whole_batch_back_and_says_why(warehouse_url, load, query) -> None:
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            """
            create or replace function raw.explode_on_boom() returns trigger language plpgsql as $$
            begin
                if new.payload->>'key' = 'BOOM-1' then
                    raise exception 'disk on fire while writing %', new.payload->>'key';
                end if;
                return new;
            end $$;
            create trigger explode before insert on raw.jira_issues
                for each row execute function raw.explode_on_boom();
            """
        )
    earlier_batches = [row["batch_id"] for row in query("select batch_id from app.load_batches")]
    try:
        docs = [
            jira_issue("1", "PAY-1", "2026-01-06T10:00:00.000+0000"),
            RawRecord("jira_issues", {"oops": True}),  # would be a dead letter, but the batch dies
            jira_issue("2", "BOOM-1", "2026-01-06T10:00:00.000+0000"),
        ]
        with pytest.raises(LoadError, match=r"rolled back whole: .*disk on fire while writing BOOM-1"):
            load(docs)
        assert query("select count(*) as n from raw.jira_issues")[0]["n"] == 0
        assert query("select count(*) as n from app.dead_letters")[0]["n"] == 0
        # the batch this load recorded (compared as a set with the earlier ones, not by id order)
        recorded = query(
            "select status, error, finished_at from app.load_batches where batch_id <> all(%s)",
            (earlier_batches,),
        )
        assert len(recorded) == 1, recorded
        failed = recorded[0]
        assert failed["status"] == "failed"
        assert "disk on fire while writing BOOM-1" in failed["error"]
        assert failed["finished_at"] is not None
    finally:
        with psycopg.connect(warehouse_url) as conn:
            conn.execute("drop trigger explode on raw.jira_issues")


def test_mixed_streams_are_split_into_per_table_batches(warehouse_url, query) -> None:
    records = [jira_issue(str(n), f"PAY-{n}", "2026-01-06T10:00:00.000+0000") for n in range(7)]
    records += [
        RawRecord(
            "jira_changelogs",
            {"id": str(500 + n), "created": "2026-01-06T11:00:00.000+0000", "items": []},
            parent_id=str(n),
        )
        for n in range(3)
    ]
    with psycopg.connect(warehouse_url) as conn:
        summary = load_records(conn, records, "synthetic", batch_size=3)
    assert [(b.table, b.received) for b in summary.batches] == [
        ("jira_issues", 3),
        ("jira_issues", 3),
        ("jira_changelogs", 3),
        ("jira_issues", 1),
    ]
    assert query("select count(*) as n from raw.jira_changelogs")[0]["n"] == 3
    assert query("select parent_id from raw.jira_changelogs where source_id = '501'")[0]["parent_id"] == "1"


def test_unknown_source_is_refused_before_anything_is_written(warehouse_url, query) -> None:
    before = query("select count(*) as n from app.load_batches")[0]["n"]
    with psycopg.connect(warehouse_url) as conn, pytest.raises(LoadError, match="unknown source 'jira'"):
        load_records(conn, [jira_issue("1", "PAY-1", "2026-01-06T10:00:00.000+0000")], "jira")
    assert query("select count(*) as n from app.load_batches")[0]["n"] == before


def test_nul_characters_are_replaced_not_fatal(load, query) -> None:
    # Real Jira text sometimes carries U+0000 (see the DevLake specimen EE-4); jsonb cannot store it.
    doc = RawRecord(
        "jira_issues",
        {"id": "5", "key": "PAY-5", "fields": {"updated": "2026-01-06T10:00:00Z", "summary": "chart\u0000"}},
    )
    summary = load([doc])
    assert (summary.loaded, summary.rejected) == (1, 0)
    row = query("select payload->'fields'->>'summary' as summary from raw.jira_issues where source_id = '5'")
    assert row == [{"summary": "chart\ufffd"}]


def test_several_batches_in_one_caller_transaction_stay_in_their_tables(load, query, warehouse_url) -> None:
    """A connector loads a page (issues, then their change histories) and its watermark in one transaction:
    each batch must write only its own documents."""
    import psycopg

    from warehouse.loader import load_records

    records = [
        RawRecord(
            "jira_issues",
            {"id": "7001", "key": "TX-1", "fields": {"updated": "2026-01-05T10:00:00.000+0000"}},
        ),
        RawRecord(
            "jira_changelogs", {"id": "8001", "created": "2026-01-05T10:00:00.000+0000", "items": []}, "7001"
        ),
        RawRecord("jira_sprints", {"id": 9001, "state": "active"}, "1"),
    ]
    with psycopg.connect(warehouse_url) as conn, conn.transaction():
        summary = load_records(conn, records, "jira_cloud")
    assert summary.loaded == 3 and summary.unchanged == 0
    for table, expected in (
        ("jira_issues", ["7001"]),
        ("jira_changelogs", ["8001"]),
        ("jira_sprints", ["9001"]),
    ):
        rows = query(f"select source_id from raw.{table} where source = 'jira_cloud'")
        assert [row["source_id"] for row in rows] == expected, table
