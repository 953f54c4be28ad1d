"""`heimdall load DIR` loses nothing: every bad line is a dead letter with its file, line and reason, the
rest of the file loads, and a file that names no raw table is reported rather than silently skipped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

HEIMDALL = str(Path(sys.executable).parent / "heimdall")
GOOD = 2000


def _issue(n: int) -> dict:
    return {
        "id": str(10_000 + n),
        "key": f"PAY-{n}",
        "fields": {"updated": "2026-01-05T10:00:00.000+0000", "summary": f"issue {n}"},
    }


def _line(n: int) -> bytes:
    return json.dumps({"parent_id": None, "payload": _issue(n)}).encode() + b"\n"


# line number (1-based, counted in the written file) -> (bad bytes, expected reason fragment)
BAD_LINES: dict[str, tuple[bytes, str]] = {
    "malformed JSON": (b'{"parent_id": null, "payload": {"id": "1"\n', "malformed JSON"),
    "raw NUL byte": (b'{"parent_id": null, "payload": {"id": "9\x00", "key": "PAY-9"}}\n', "malformed JSON"),
    "invalid UTF-8": (b'{"parent_id": null, "payload": {"id": "\xff\xfe"}}\n', "not valid UTF-8"),
    "no payload wrapper": (json.dumps(_issue(99_001)).encode() + b"\n", "without a 'payload' key"),
    "JSON array": (b'[{"parent_id": null, "payload": {}}]\n', "got a JSON list"),
    "lone surrogate": (
        b'{"parent_id": null, "payload": {"id": "77", "key": "PAY-77", '
        b'"fields": {"updated": "2026-01-05T10:00:00Z", "summary": "\\ud800"}}}\n',
        "lone surrogate",
    ),
    "NaN": (
        b'{"parent_id": null, "payload": {"id": "78", "key": "PAY-78", '
        b'"fields": {"updated": "2026-01-05T10:00:00Z", "points": NaN}}}\n',
        "not valid JSON",
    ),
    "deep nesting": (
        b'{"parent_id": null, "payload": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
        "nested too deeply",
    ),
}


@pytest.fixture
def env(warehouse_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HEIMDALL_DATABASE_URL": warehouse_url,
        "HEIMDALL_HOME": str(tmp_path / "home"),
        "COLUMNS": "200",
    }


def _write(folder: Path) -> dict[int, str]:
    """2,000 good issues with the bad lines spread among them; returns {line number: expected reason}."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[int, str] = {}
    bad = list(BAD_LINES.values())
    with (folder / "jira_issues.jsonl").open("wb") as fh:
        number = 0
        for n in range(GOOD):
            if n % 250 == 3 and bad:
                line, reason = bad.pop()
                number += 1
                fh.write(line)
                expected[number] = reason
            number += 1
            fh.write(_line(n))
    assert not bad
    return expected


def test_bad_lines_become_dead_letters_and_the_rest_loads(env, warehouse_url, tmp_path) -> None:
    folder = tmp_path / "docs"
    expected = _write(folder)
    done = subprocess.run([HEIMDALL, "load", str(folder)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 documents were rejected" in done.stdout and "jira_issues.jsonl line" in done.stdout
    with psycopg.connect(warehouse_url) as conn:
        stored = conn.execute("select count(*) from raw.jira_issues").fetchone()[0]
        letters = conn.execute(
            "select origin, reason, document from app.dead_letters where table_name = 'jira_issues' "
            "order by dead_letter_id"
        ).fetchall()
    assert stored == GOOD
    assert len(letters) == len(expected)
    by_line = {int(origin.rsplit(" ", 1)[1]): (reason, document) for origin, reason, document in letters}
    assert set(by_line) == set(expected)
    for number, fragment in expected.items():
        reason, document = by_line[number]
        assert fragment in reason, (number, reason)
        assert document  # the bad text is kept to fix and replay (NUL and surrogates made storable)


def test_a_file_naming_no_raw_table_is_reported(env, warehouse_url, tmp_path) -> None:
    folder = tmp_path / "typo"
    folder.mkdir()
    (folder / "jira_sprints.jsonl").write_text(
        json.dumps({"parent_id": None, "payload": {"id": 5, "state": "active", "name": "S5"}}) + "\n"
    )
    (folder / "jira_isues.jsonl").write_bytes(_line(1))
    done = subprocess.run([HEIMDALL, "load", str(folder)], env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert "not loaded: jira_isues.jsonl" in done.stderr
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.jira_sprints where source_id = '5'").fetchone()[0] == 1
