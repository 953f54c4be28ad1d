"""Real Jira payloads (../shared/specimens) go through the real loader and the same staging models as the
synthetic data. Expected values below were read off the specimen files by hand."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support import Preparation
from warehouse.records import RawRecord

csv.field_size_limit(2**31 - 1)


def _devlake_rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="") as handle:
        yield from csv.DictReader(handle)


def jira_specimen_records(root: Path) -> list[RawRecord]:
    records: list[RawRecord] = []
    # Jira Cloud REST v3 search page (OpenAPI example)
    page = json.loads((root / "jira-openapi/platform_v3_search_jql_GET_200.json").read_text())
    records += [RawRecord("jira_issues", issue) for issue in page["issues"]]
    # agile sprint pages (OpenAPI example and go-jira mock)
    for name in ("jira-openapi/agile_1_0_board_sprint_GET_200.json", "jira-go-jira-mocks/sprints.json"):
        sprints = json.loads((root / name).read_text())["values"]
        records += [RawRecord("jira_sprints", sprint) for sprint in sprints]
    sprint_issues = json.loads((root / "jira-go-jira-mocks/issues_in_sprint.json").read_text())["issues"]
    records += [RawRecord("jira_issues", issue) for issue in sprint_issues]
    # the issue objects inside captured webhooks; the later "resolved" delivery is loaded FIRST
    for name in (
        "webhook-issue-updated-resolved.json",
        "webhook-issue-created.json",
        "webhook-cloud-issue-created-many-fields.json",
        "webhook-server-issue-updated-in-progress.json",
    ):
        hook = json.loads((root / "jira-webhooks-mattermost" / name).read_text())
        records.append(RawRecord("jira_issues", hook["issue"]))
    # Apache DevLake's e2e raw tables: real responses, one item per row
    devlake = root / "devlake/jira/raw_tables"
    records += [
        RawRecord("jira_issues", json.loads(row["data"]))
        for row in _devlake_rows(devlake / "_raw_jira_api_issues.csv")
    ]
    records += [
        RawRecord(
            "jira_changelogs", json.loads(row["data"]), parent_id=str(json.loads(row["input"])["issue_id"])
        )
        for row in _devlake_rows(devlake / "_raw_jira_api_issue_changelogs.csv")
    ]
    records += [
        RawRecord("jira_sprints", json.loads(row["data"]), parent_id=json.loads(row["params"]).get("BoardId"))
        for row in _devlake_rows(devlake / "_raw_jira_api_sprints.csv")
    ]
    return records


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def prepare_in_background(prep: Preparation) -> None:
    """Load the specimens and run the Jira staging models (starts with the session, see tests/conftest.py)."""
    warehouse = prep.warehouse()
    summary = warehouse.load(jira_specimen_records(prep.specimens()), source="jira_cloud")
    assert summary.rejected == 0
    warehouse.dbt("run", "--select", "path:models/staging/jira")


@pytest.fixture(scope="module")
def staged(prepared) -> None:
    return prepared


def test_every_specimen_document_is_stored(staged, query) -> None:
    counts = {
        row["t"]: row["n"]
        for row in query(
            "select 'issues' as t, count(*) as n from raw.jira_issues union all "
            "select 'changelogs', count(*) from raw.jira_changelogs union all "
            "select 'sprints', count(*) from raw.jira_sprints"
        )
    }
    # issues: 1 search page + 1 sprint page + 3 distinct webhook issues (TES-41 twice) + 33 DevLake;
    # sprints: 2 OpenAPI (37, 72) + 6 go-jira + 30 DevLake, less sprint 37 which the OpenAPI example and
    # DevLake both use (two sites; a warehouse holds one site, so ids collide only in this test)
    assert counts == {"issues": 38, "changelogs": 279, "sprints": 2 + 6 + 30 - 1}
    # sprint documents carry no updated time, so the later delivery (DevLake) replaced the OpenAPI one
    sprint_37 = query("select payload->>'name' as name from raw.jira_sprints where source_id = '37'")
    assert sprint_37 == [{"name": "EE Sprint 27"}]


def test_devlake_issue_fields_parse(staged, query) -> None:
    row = query("select * from staging.stg_jira__issues where issue_key = 'EE-1'")[0]
    assert row["issue_id"] == "10063"
    assert row["project_key"] == "EE"
    assert row["issue_type"] == "故事"
    assert row["status_name"] == "已完成"
    assert row["priority_name"] == "Medium"
    assert row["assignee_account_id"] == "5ecfbd0c730ec90c1999cadf"
    assert row["has_assignee"] is True
    assert row["is_flagged"] is False
    # created 2020-06-12T08:13:13.360+0800, updated 2021-03-28T16:06:08.713+0800
    assert row["created_at"] == utc("2020-06-12T00:13:13.360")
    assert row["updated_at"] == utc("2021-03-28T08:06:08.713")
    assert row["resolved_at"] == utc("2020-06-19T06:31:18.495")
    sprints = query(
        "select sprint_id, sprint_name from staging.stg_jira__issue_sprints where issue_id = '10063'"
    )
    assert sprints == [{"sprint_id": "7", "sprint_name": "EE Sprint 7"}]


def test_devlake_changelog_items_parse(staged, query) -> None:
    items = query(
        "select issue_id, changed_at, field_name, from_value, from_string, to_value, to_string "
        "from staging.stg_jira__changelog_items where history_id = '58006'"
    )
    assert items == [
        {
            "issue_id": "13383",
            "changed_at": utc("2021-01-25T13:49:52.514"),  # 21:49:52.514+0800
            "field_name": "status",
            "from_value": "1",
            "from_string": "Open",
            "to_value": "10074",
            "to_string": "开发中",
        }
    ]


def test_sprints_parse_with_offsets(staged, query) -> None:
    rows = {row["sprint_id"]: row for row in query("select * from staging.stg_jira__sprints")}
    assert rows["7"]["sprint_name"] == "EE Sprint 7"
    assert rows["7"]["sprint_state"] == "closed"
    assert rows["7"]["board_id"] == "8"
    assert rows["7"]["started_at"] == utc("2020-06-12T00:38:51.882")
    assert rows["740"]["started_at"] == utc("2016-04-11T14:29:03.294")  # 07:29:03.294-07:00
    assert rows["740"]["completed_at"] == utc("2016-04-28T12:08:48.543")
    assert rows["72"]["sprint_state"] == "future"
    assert rows["72"]["started_at"] is None


def test_webhook_issue_documents_keep_the_newest_version(staged, query) -> None:
    row = query("select status_name, updated_at from staging.stg_jira__issues where issue_key = 'TES-41'")[0]
    # "created" (updated 19:01:52) arrived after "resolved" (19:15:40, status Done): the newest wins
    assert row["status_name"] == "Done"
    assert row["updated_at"] == utc("2019-02-16T03:15:40.477")
    server = query("select status_name, created_at from staging.stg_jira__issues where issue_key = 'TES-4'")[
        0
    ]
    assert server["status_name"] == "In Progress"


def test_go_jira_sprint_issue_parses(staged, query) -> None:
    row = query("select * from staging.stg_jira__issues where issue_key = 'AR-86'")[0]
    assert row["status_name"] == "Ready"
    assert row["created_at"] == utc("2015-12-02T15:39:15")  # 07:39:15.000-0800
    assert row["updated_at"] == utc("2016-02-01T16:17:04")


def test_every_row_of_every_jira_staging_model_evaluates(staged, query) -> None:
    # Forces every expression on every row (a cast error would surface here, not only in marts).
    # The OpenAPI examples are odd on purpose: "updated": 1 (a number) is read as epoch milliseconds,
    # as Jira webhooks send them.
    for model in (
        "stg_jira__issues",
        "stg_jira__changelog_items",
        "stg_jira__sprints",
        "stg_jira__issue_sprints",
    ):
        rows = query(f"select * from staging.{model}")
        assert rows, model
    ed1 = query("select updated_at from staging.stg_jira__issues where issue_key = 'ED-1'")[0]
    assert ed1["updated_at"] == datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC)
