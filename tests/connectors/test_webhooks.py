"""Webhook intake on a real uvicorn server bound to 127.0.0.1, with the real specimen payloads
(../shared/specimens/gitlab-docs-webhooks, jira-webhooks-mattermost): accepted with the right secret or
signature, rejected (and counted, nothing stored) without, deduplicated on redelivery, bad bodies kept as dead
letters, webhook documents merged onto API documents, and the deliveries flowing into the marts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import uvicorn

from connectors.webhooks.app import create_app
from connectors.webhooks.verify import sign_standard_webhook
from tests.support import upstream_of
from warehouse.dbt_vars import vars_args
from warehouse.records import RawRecord
from warehouse.settings import PROJECT_ROOT, ConnectorSettings, GitlabSettings, JiraSettings, Settings

GITLAB_TOKEN = "gl-hook-s3cret"
SIGNING = "whsec_" + base64.b64encode(b"standard-webhooks-key-0123456789").decode()
JIRA_SECRET = "jira-hook-s3cret"


@pytest.fixture(scope="module")
def server(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    settings = Settings(
        home=tmp_path_factory.mktemp("hooks"),
        database_url=warehouse_url,
        dbt_project_dir=PROJECT_ROOT / "dbt",
        dbt_target_schema="marts",
        dbt_threads=2,
        jira=JiraSettings(webhook_secret=JIRA_SECRET),
        gitlab=GitlabSettings(webhook_secret=GITLAB_TOKEN, signing_secret=SIGNING),
        # the Jira specimens are real 2019 deliveries, whose payload timestamps are now checked for replays:
        # accept them here (refusing stale deliveries is tested in test_webhook_loss.py)
        connectors=ConnectorSettings(
            webhook_max_body_bytes=64_000, webhook_tolerance_seconds=20 * 365 * 86400
        ),
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(warehouse_url, settings), host="127.0.0.1", port=port, log_level="warning"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(10)


def post(server: str, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{server}/webhooks/{path}", content=body, headers=headers)


def _specimen(specimens: Path, name: str) -> bytes:
    return (specimens / name).read_bytes()


def _jira_headers(body: bytes, delivery: str, secret: str = JIRA_SECRET) -> dict[str, str]:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature": f"sha256={signature}", "X-Atlassian-Webhook-Identifier": delivery}


def _count(query, sql: str, *params: object) -> int:
    return int(query(sql, params or None)[0]["n"])


def test_healthz(server) -> None:
    response = httpx.get(f"{server}/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": True}


def test_gitlab_token_dedupe_and_merge_onto_the_api_document(server, specimens, load, query) -> None:
    # the API already gave us MR 99 (with diff stats the webhook does not carry)
    api = {
        "id": 99,
        "iid": 1,
        "project_id": 14,
        "title": "Old title",
        "state": "opened",
        "author": {"id": 51, "username": "root", "name": "Administrator"},
        "created_at": "2013-12-03T17:23:34.000Z",
        "updated_at": "2013-12-03T17:00:00.000Z",
        "diff_stats": {"additions": 12, "deletions": 3, "file_count": 2},
    }
    load([RawRecord("gitlab_merge_requests", api, "14")], source="gitlab")
    body = _specimen(specimens, "gitlab-docs-webhooks/merge_request_hook.json")
    headers = {
        "X-Gitlab-Token": GITLAB_TOKEN,
        "X-Gitlab-Event": "Merge Request Hook",
        "Idempotency-Key": "mr-1",
    }
    first = post(server, "gitlab", body, headers)
    again = post(server, "gitlab", body, headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["status"] == "duplicate"
    assert _count(query, "select count(*) as n from raw.webhook_events where delivery_id = 'mr-1'") == 1
    stored = query("select payload, source from raw.gitlab_merge_requests where source_id = '99'")[0]
    hook = json.loads(body)["object_attributes"]
    assert stored["source"] == "webhook"
    assert stored["payload"]["title"] == hook["title"]  # the newer webhook wins...
    assert stored["payload"]["diff_stats"] == api["diff_stats"]  # ...without erasing what it lacks
    assert stored["payload"]["author"]["username"] == "root"
    kept = query("select headers from raw.webhook_events where delivery_id = 'mr-1'")[0]["headers"]
    assert "x-gitlab-token" not in kept and kept["x-gitlab-event"] == "Merge Request Hook"


def test_gitlab_wrong_or_missing_token_is_rejected_and_counted(server, specimens, query) -> None:
    body = _specimen(specimens, "gitlab-docs-webhooks/push_hook.json")
    before = _count(query, "select count(*) as n from app.webhook_rejections")
    wrong = post(server, "gitlab", body, {"X-Gitlab-Token": "nope", "Idempotency-Key": "p1"})
    missing = post(server, "gitlab", body, {"Idempotency-Key": "p2"})
    assert (wrong.status_code, missing.status_code) == (401, 401)
    assert (
        _count(query, "select count(*) as n from raw.webhook_events where delivery_id in ('p1', 'p2')") == 0
    )
    assert _count(query, "select count(*) as n from app.webhook_rejections") == before + 2


def test_standard_webhooks_signatures(server, specimens, query) -> None:
    body = _specimen(specimens, "gitlab-docs-webhooks/note_hook_merge_request.json")
    stamp = int(time.time())
    good = {
        "webhook-id": "msg_note_1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign_standard_webhook(SIGNING, "msg_note_1", stamp, body),
        "X-Gitlab-Event": "Note Hook",
    }
    assert post(server, "gitlab", body, good).status_code == 202
    note = query("select payload from raw.gitlab_mr_notes where source_id = '1244'")[0]["payload"]
    assert (note["body"], note["noteable_id"], note["author"]["username"]) == (
        "This MR needs work.",
        7,
        "root",
    )
    assert note["created_at"] == "2015-05-17T18:21:36.000Z"
    tampered = post(server, "gitlab", body + b" ", {**good, "webhook-id": "msg_2"})
    old = stamp - 30 * 365 * 86400  # older than the fixture's tolerance
    stale_headers = {
        **good,
        "webhook-id": "msg_3",
        "webhook-timestamp": str(old),
        "webhook-signature": sign_standard_webhook(SIGNING, "msg_3", old, body),
    }
    stale = post(server, "gitlab", body, stale_headers)
    assert (tampered.status_code, stale.status_code) == (401, 401)


def test_pipeline_and_deployment_hooks(server, specimens, query) -> None:
    for name, event, delivery in (
        ("pipeline_hook.json", "Pipeline Hook", "pipe-31"),
        ("deployment_hook.json", "Deployment Hook", "dep-15"),
    ):
        body = _specimen(specimens, f"gitlab-docs-webhooks/{name}")
        headers = {"X-Gitlab-Token": GITLAB_TOKEN, "X-Gitlab-Event": event, "Idempotency-Key": delivery}
        assert post(server, "gitlab", body, headers).status_code == 202
    pipeline = query("select payload from raw.gitlab_pipelines where source_id = '31'")[0]["payload"]
    # "2016-08-12 15:23:28 UTC" -> REST form
    assert (pipeline["status"], pipeline["created_at"], pipeline["duration"]) == (
        "success",
        "2016-08-12T15:23:28.000Z",
        63,
    )
    assert _count(query, "select count(*) as n from raw.gitlab_jobs where parent_id = '31'") == len(
        json.loads(_specimen(specimens, "gitlab-docs-webhooks/pipeline_hook.json"))["builds"]
    )
    deployment = query("select payload from raw.gitlab_deployments where source_id = '15'")[0]["payload"]
    # "2021-04-28 21:50:00 +0200" = 19:50 UTC
    assert deployment["updated_at"] == "2021-04-28T19:50:00.000Z"
    assert deployment["environment"] == {"name": "staging", "tier": "staging"}
    assert deployment["sha"] == "279484c09fbe69ededfced8c1bb6e6d24616b468"


def _issue_hook(issue_id: int, work_item_type: str, state: str, updated: str) -> bytes:
    """An Issue Hook as GitLab sends it (no specimen of one is stored): the work item type in
    ``object_attributes.type``, timestamps in the hook's "YYYY-MM-DD HH:MM:SS UTC" form."""
    attributes = {
        "id": issue_id,
        "iid": 3,
        "project_id": 14,
        "title": "Checkout errors after release",
        "description": "Alerts fired for checkout",
        "state": state,
        "type": work_item_type,
        "created_at": "2024-06-27 10:00:00 UTC",
        "updated_at": updated,
        "closed_at": updated if state == "closed" else None,
        "url": f"http://example.com/acme/shop/-/issues/{issue_id}",
        "labels": [{"id": 1, "title": "incident"}],
        "action": "close" if state == "closed" else "open",
    }
    return json.dumps(
        {
            "object_kind": "issue",
            "event_type": "issue",
            "project": {"id": 14, "path_with_namespace": "acme/shop"},
            "object_attributes": attributes,
        }
    ).encode()


def test_gitlab_incident_issue_hooks(server, query) -> None:
    headers = {"X-Gitlab-Token": GITLAB_TOKEN, "X-Gitlab-Event": "Issue Hook"}
    for delivery, body in (
        ("inc-open", _issue_hook(501, "Incident", "opened", "2024-06-27 10:00:00 UTC")),
        ("inc-close", _issue_hook(501, "Incident", "closed", "2024-06-27 12:30:00 UTC")),
        ("plain-issue", _issue_hook(502, "Issue", "opened", "2024-06-27 10:00:00 UTC")),
    ):
        assert post(server, "gitlab", body, {**headers, "Idempotency-Key": delivery}).status_code == 202
    stored = query("select source_id, payload from raw.gitlab_issues")
    assert [row["source_id"] for row in stored] == ["501"]  # an ordinary issue is kept only as the delivery
    incident = stored[0]["payload"]
    assert (incident["state"], incident["closed_at"], incident["issue_type"]) == (
        "closed",
        "2024-06-27T12:30:00.000Z",
        "incident",
    )
    assert incident["references"] == {"full": "acme/shop#3"} and incident["labels"] == ["incident"]
    assert (
        _count(query, "select count(*) as n from raw.webhook_events where delivery_id = 'plain-issue'") == 1
    )


def test_bad_bodies_are_dead_letters(server, query) -> None:
    malformed = post(server, "gitlab", b'{"object_kind": ', {"X-Gitlab-Token": GITLAB_TOKEN})
    oversized = post(server, "gitlab", b"x" * 70_000, {"X-Gitlab-Token": GITLAB_TOKEN})
    assert (malformed.status_code, oversized.status_code) == (400, 413)
    letters = query("select reason, length(document) as size from app.dead_letters where source = 'webhook'")
    reasons = " | ".join(row["reason"] for row in letters)
    assert "malformed JSON" in reasons and "larger than 64000 bytes" in reasons
    assert max(row["size"] for row in letters) == 64_000  # kept, truncated to the limit


def test_jira_signed_deliveries_flow_into_the_marts(server, specimens, dbt, query) -> None:
    folder = "jira-webhooks-mattermost"
    for n, name in enumerate(
        (
            "webhook-issue-created.json",
            "webhook-issue-updated-started-working.json",
            "webhook-issue-updated-resolved.json",
            "webhook-cloud-comment-created.json",
        )
    ):
        body = _specimen(specimens, f"{folder}/{name}")
        response = post(server, "jira", body, _jira_headers(body, f"jira-{n}"))
        assert response.status_code == 202, response.text
    body = _specimen(specimens, f"{folder}/webhook-issue-updated-resolved.json")
    assert post(server, "jira", body, _jira_headers(body, "jira-2")).status_code == 200
    forged = post(server, "jira", body, _jira_headers(body, "jira-x", "wrong"))
    assert forged.status_code == 401
    # deleted at the source: gone from raw, kept in app.deleted_documents
    deleted = _specimen(specimens, f"{folder}/webhook-issue-deleted.json")
    idt = json.loads(deleted)["issue"]
    load_first = post(
        server,
        "jira",
        json.dumps({**json.loads(deleted), "webhookEvent": "jira:issue_updated"}).encode(),
        headers=_jira_headers(
            json.dumps({**json.loads(deleted), "webhookEvent": "jira:issue_updated"}).encode(),
            "jira-idt-update",
        ),
    )
    assert load_first.status_code == 202
    # only the marts read below and their upstream (with their data and unit tests)
    marts = ("fct_issue_status_intervals", "fct_issue_lifecycle", "fct_merge_requests")
    build = ("build", *upstream_of(*marts), *vars_args(as_of="2019-03-01T00:00:00+00:00"))
    dbt(*build)
    in_intervals = "select count(*) as n from marts.fct_issue_status_intervals where issue_id = %s"
    assert _count(query, in_intervals, idt["id"]) > 0
    # deleted at the source: gone from raw, kept in app.deleted_documents, and gone from the incremental mart
    assert post(server, "jira", deleted, _jira_headers(deleted, "jira-idt-del")).status_code == 202
    assert _count(query, "select count(*) as n from raw.jira_issues where source_id = %s", idt["id"]) == 0
    assert (
        _count(query, "select count(*) as n from app.deleted_documents where source_id = %s", idt["id"]) == 1
    )

    dbt(*build)
    assert _count(query, in_intervals, idt["id"]) == 0
    issue = query("select * from marts.fct_issue_lifecycle where issue_key = 'TES-41'")[0]
    assert issue["current_status"] == "Done"
    # started: the "started working" delivery at 1550286862039 ms = 2019-02-16 03:14:22.039 UTC;
    # done: 1550286940507 ms = 03:15:40.507 UTC -> cycle time 78.468 s = 0.0218 h
    assert issue["cycle_time_hours"] == Decimal("0.0218")
    assert (
        query("select count(*) as n from marts.fct_issue_lifecycle where issue_key = 'IDT-19'")[0]["n"] == 0
    )
    merge_request = query("select * from marts.fct_merge_requests where merge_request_id = '99'")[0]
    assert merge_request["size_lines"] == 15  # 12 + 3 from the API document, kept under the webhook update
