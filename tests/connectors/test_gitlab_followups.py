"""Issue 10 integration follow-ups on the GitLab side, against the loopback fake GitLab and a real database:

* a reconciled merge request is archived with its commits *and* notes as its children, so when it comes
  back (a newer version at the source) all of them are stored again — commits used to be standalone
  tombstones that no restored MR lifted, so they were lost for good;
* the project listing is a run of its own (`projects` scope): `succeeded`, or `failed` with the error, never a
  status left `running` (`commit_page` records watermarks, not run statuses).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from connectors.http import ConnectorError
from tests.connectors.fakes import FakeGitlab, gitlab_fixture
from tests.connectors.test_gitlab_loss import TOKEN, assert_nothing_lost, connector, stamp, sync


@pytest.fixture(scope="module")
def small_docs() -> dict[str, list]:
    return gitlab_fixture()


@pytest.fixture
def small(small_docs: dict[str, list]) -> Iterator[FakeGitlab]:
    with FakeGitlab(copy.deepcopy(small_docs), token=TOKEN) as server:
        yield server


def _archived(db: str, mr_id: str) -> dict[str, list[tuple[str, str | None, bool]]]:
    """What app.deleted_documents holds for the MR and its children: table -> (id, parent table, restored)."""
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "select table_name, source_id, parent_table, restored_at is not null from app.deleted_documents "
            "where (table_name = 'gitlab_merge_requests' and source_id = %(id)s) or parent_id = %(id)s",
            {"id": mr_id},
        ).fetchall()
    found: dict[str, list[tuple[str, str | None, bool]]] = {}
    for table, source_id, parent_table, restored in rows:
        found.setdefault(table, []).append((source_id, parent_table, restored))
    return found


def test_a_merge_request_back_after_reconciliation_brings_its_commits_and_notes(
    small: FakeGitlab, db: str
) -> None:
    sync(db, small)
    assert_nothing_lost(small, db)
    mr = copy.deepcopy(
        next(m for m in small.mrs.values() if small.notes.get(m["id"]) and small.commits.get(m["id"]))
    )
    notes, commits = small.notes.pop(mr["id"]), small.commits.pop(mr["id"])
    del small.mrs[mr["id"]]
    assert sync(db, small, full=True).deleted == 1  # a 404: archived with its children
    archived = _archived(db, str(mr["id"]))
    assert archived["gitlab_merge_requests"] == [(str(mr["id"]), None, False)]
    assert sorted(archived["gitlab_mr_commits"]) == sorted(
        (f"{mr['id']}:{c['id']}", "gitlab_merge_requests", False) for c in commits
    )
    assert sorted(archived["gitlab_mr_notes"]) == sorted(
        (str(n["id"]), "gitlab_merge_requests", False) for n in notes
    )
    assert_nothing_lost(small, db)

    # back at the source (access restored, say), in a version newer than the deletion; its commits and
    # notes are as old as they were
    small.mrs[mr["id"]] = {**mr, "updated_at": stamp(datetime.now(UTC) + timedelta(minutes=1))}
    small.notes[mr["id"]], small.commits[mr["id"]] = notes, commits
    summary = sync(db, small)
    assert summary.tombstoned == 0
    archived = _archived(db, str(mr["id"]))
    assert all(restored for entries in archived.values() for _, _, restored in entries)
    assert_nothing_lost(small, db)


def _projects_scope(db: str) -> tuple[str | None, str | None, str | None]:
    with psycopg.connect(db) as conn:
        row = conn.execute(
            "select last_status, last_error, run_id from app.sync_state "
            "where source = 'gitlab' and scope = 'projects'"
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_the_project_listing_records_its_run(small: FakeGitlab, db: str) -> None:
    sync(db, small)
    status, error, run_id = _projects_scope(db)
    assert status == "succeeded" and error is None and run_id
    with psycopg.connect(db) as conn:
        running = conn.execute(
            "select scope from app.sync_state where source = 'gitlab' and last_status is distinct from "
            "'succeeded'"
        ).fetchall()
    assert running == []  # every scope of the run finished, none left running or without a status

    # a configured project that is gone: the listing fails, and its scope says why
    project = next(iter(small.projects.values()))
    gitlab = connector(small)
    gitlab.settings = gitlab.settings.model_copy(
        update={"projects": (*gitlab.settings.projects, f"{project['path_with_namespace']}-gone")}
    )
    with psycopg.connect(db) as conn, pytest.raises(ConnectorError, match="404"):
        gitlab.sync(conn)
    status, error, _ = _projects_scope(db)
    assert status == "failed" and error and "404" in error
