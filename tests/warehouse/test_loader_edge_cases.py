"""Loader edge cases (issue 10): a document the loader cannot store is a dead letter with the reason, and the
rest of its batch loads, however the document is built. The NUL clean-up (`jsonb` holds no NUL) recurses
deeper than `json.dumps` does, so a document a few hundred levels deep used to pass the first serialisation
and then fail the whole batch with a RecursionError."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from warehouse.loader import RejectedDocument, document_text, load_records, payload_json
from warehouse.records import RawRecord

UPDATED = "2026-01-05T10:00:00.000+0000"


def _issue(issue_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": str(issue_id),
        "key": f"EDGE-{issue_id}",
        "fields": {"summary": f"issue {issue_id}", "updated": UPDATED, **fields},
    }


def _deep(depth: int, leaf: Any, shape: str) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"n": value} if shape == "objects" else [value]
    return value


def _stored_ids(url: str, ids: list[str]) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select source_id from raw.jira_issues where source_id = any(%s)", (ids,)
        ).fetchall()
    return {row[0] for row in rows}


@pytest.mark.parametrize("shape", ["objects", "arrays"])
@pytest.mark.parametrize("depth", [600, 5000], ids=["600-deep", "5000-deep"])
def test_a_deep_document_with_a_real_nul_is_a_dead_letter_and_the_batch_loads(
    warehouse_url: str, shape: str, depth: int
) -> None:
    """600 levels: `json.dumps` manages, the NUL clean-up (two frames a level) does not — it used to raise
    outside the guard and roll back the batch. 5000 levels: even `json.dumps` (and `repr`) give up."""
    base = 700_000 + depth * 10 + (0 if shape == "objects" else 5)
    good = [_issue(base + n) for n in range(1, 5)]
    bad = _issue(base, deep=_deep(depth, "pasted \x00 from a log", shape))
    records = [RawRecord("jira_issues", document) for document in (good[0], bad, *good[1:])]
    with psycopg.connect(warehouse_url) as conn:
        summary = load_records(conn, records, "synthetic")
        conn.commit()
        (batch,) = summary.batches
        letters = conn.execute(
            "select reason, document from app.dead_letters where batch_id = %s", (batch.batch_id,)
        ).fetchall()
        status = conn.execute(
            "select status from app.load_batches where batch_id = %s", (batch.batch_id,)
        ).fetchone()
    assert status == ("succeeded",)
    assert (summary.received, summary.loaded, summary.rejected) == (5, 4, 1)
    assert len(letters) == 1
    reason, document = letters[0]
    assert "nested too deeply" in reason
    assert "\x00" not in document and document  # kept as text a `text` column holds
    assert _stored_ids(warehouse_url, [str(base + n) for n in range(5)]) == {d["id"] for d in good}


def test_a_shallow_document_with_a_real_nul_is_stored_with_the_nul_replaced(warehouse_url: str) -> None:
    document = _issue(710_001, summary="a \x00 b", comment="typed literally: \\u0000")
    with psycopg.connect(warehouse_url) as conn:
        summary = load_records(conn, [RawRecord("jira_issues", document)], "synthetic")
        conn.commit()
        (payload,) = conn.execute("select payload from raw.jira_issues where source_id = '710001'").fetchone()
    assert summary.loaded == 1
    assert payload["fields"]["summary"] == "a \ufffd b"
    assert payload["fields"]["comment"] == "typed literally: \\u0000"  # a literal backslash-u0000 as typed


def test_payload_json_and_document_text_are_the_loaders_public_rules() -> None:
    """The webhook intake uses these to decide whether a delivery is storable (the loader's own rules)."""
    assert payload_json({"a": "x\x00y"}) == '{"a":"x\ufffdy"}'
    for unstorable, reason in (
        ({"a": float("nan")}, "not valid JSON"),
        ({"a": "\ud800"}, "lone surrogate"),
        (_deep(600, "\x00", "objects"), "nested too deeply"),
        (_deep(5000, 1, "arrays"), "nested too deeply"),
    ):
        with pytest.raises(RejectedDocument, match=reason):
            payload_json(unstorable)
    assert document_text(b"\xff\x00{") == "\ufffd\ufffd{"
    assert set(document_text("a\ud800")) == {"a", "\ufffd"}  # a lone surrogate: U+FFFD per byte
    assert "nested too deeply" in document_text(_deep(5000, 1, "objects"))
