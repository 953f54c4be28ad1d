"""Webhook deliveries that used to be lost (issue 10: loss 5 and the webhook robustness items).

Each is sent to a real uvicorn server on 127.0.0.1 backed by a real PostgreSQL: a hostile body ends as a 4xx
with a dead letter (never a 500 with nothing kept); unsigned Jira intake is refused by default; stale signed
deliveries are refused but kept; GitLab retries without ``Idempotency-Key`` are stored once; oversized signed
deliveries are recorded with their headers (secret values never).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from connectors.webhooks.app import create_app
from connectors.webhooks.verify import sign_standard_webhook
from warehouse.errors import SettingsError
from warehouse.settings import PROJECT_ROOT, ConnectorSettings, GitlabSettings, JiraSettings, Settings

GITLAB_TOKEN = "gl-loss-hook-token-7Qz"
SIGNING = "whsec_" + base64.b64encode(b"loss-standard-webhooks-key-01234").decode()
JIRA_SECRET = "jira-loss-hook-secret-9Xw"
LIMIT = 64_000
# What people paste into tickets: PostgreSQL's own message about NULs in JSON, with a literal backslash-u0000.
PG_MESSAGE = "ERROR:  unsupported Unicode escape sequence\nDETAIL:  \\u0000 cannot be converted to text."

Query = Callable[..., list[dict[str, Any]]]


def _settings(home: Path, url: str, **sections: Any) -> Settings:
    return Settings(
        home=home,
        database_url=url,
        dbt_project_dir=PROJECT_ROOT / "dbt",
        dbt_target_schema="marts",
        dbt_threads=2,
        jira=sections.get("jira", JiraSettings(webhook_secret=JIRA_SECRET)),
        gitlab=sections.get("gitlab", GitlabSettings(webhook_secret=GITLAB_TOKEN, signing_secret=SIGNING)),
        connectors=ConnectorSettings(webhook_max_body_bytes=LIMIT, webhook_tolerance_seconds=300),
    )


@contextmanager
def _serve(url: str, settings: Settings) -> Iterator[str]:
    """``create_app`` on a real uvicorn bound to 127.0.0.1 (a free port), stopped afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(url, settings), host="127.0.0.1", port=port, log_level="critical")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def server(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Jira signed (secret set), GitLab token + Standard Webhooks signing."""
    with _serve(warehouse_url, _settings(tmp_path_factory.mktemp("loss"), warehouse_url)) as base:
        yield base


def post(base: str, source: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{base}/webhooks/{source}", content=body, headers=headers, timeout=30)


def _now_ms() -> int:
    return int(time.time() * 1000)


def jira_event(
    issue_id: int, description: Any, *, stamp_ms: int | None = None, summary: Any = "A bug"
) -> dict:
    return {
        "timestamp": _now_ms() if stamp_ms is None else stamp_ms,
        "webhookEvent": "jira:issue_updated",
        "issue": {
            "id": str(issue_id),
            "key": f"HDL-{issue_id}",
            "fields": {
                "summary": summary,
                "description": description,
                "updated": "2026-11-30T10:00:00.000+0000",
                "created": "2026-11-29T09:00:00.000+0000",
                "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
                "project": {"key": "HDL"},
            },
        },
    }


def jira_headers(body: bytes, delivery: str) -> dict[str, str]:
    signature = hmac.new(JIRA_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature": f"sha256={signature}",
        "X-Atlassian-Webhook-Identifier": delivery,
    }


def gitlab_mr_event(mr_id: int, description: str, updated: str = "2026-11-30 10:00:00 UTC") -> dict:
    return {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "project": {"id": 14, "path_with_namespace": "acme/shop"},
        "object_attributes": {
            "id": mr_id,
            "iid": mr_id - 1000,
            "target_project_id": 14,
            "title": "Fix the loader",
            "description": description,
            "state": "opened",
            "source_branch": "fix",
            "target_branch": "main",
            "created_at": "2026-11-30 09:00:00 UTC",
            "updated_at": updated,
            "action": "update",
        },
    }


def gitlab_headers(**extra: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Gitlab-Token": GITLAB_TOKEN,
        "X-Gitlab-Event": "Merge Request Hook",
    } | extra


def _n(query: Query, statement: str, *params: object) -> int:
    return int(query(statement, params or None)[0]["n"])


def _letters(query: Query, needle: str) -> list[dict[str, Any]]:
    return query(
        "select reason, document, origin from app.dead_letters where source = 'webhook' and document like %s "
        "order by dead_letter_id",
        (f"%{needle}%",),
    )


# ---------------------------------------------------------------------------------------------------- loss 5
def test_literal_backslash_u0000_in_a_jira_text_is_stored(server: str, query: Query) -> None:
    """Loss 5: the pasted PostgreSQL message was answered 500 and kept nowhere; the sender retried forever."""
    body = json.dumps(jira_event(91001, PG_MESSAGE)).encode()
    first = post(server, "jira", body, jira_headers(body, "loss5-jira"))
    again = post(server, "jira", body, jira_headers(body, "loss5-jira"))  # Jira's retry of the same delivery
    assert (first.status_code, again.status_code) == (202, 200), first.text
    stored = query("select payload from raw.jira_issues where source_id = '91001'")[0]["payload"]
    assert stored["fields"]["description"] == PG_MESSAGE  # the literal text, byte for byte
    event = query("select payload from raw.webhook_events where delivery_id = 'loss5-jira'")[0]["payload"]
    assert event["issue"]["fields"]["description"] == PG_MESSAGE


def test_literal_backslash_u0000_in_a_gitlab_text_is_stored(server: str, query: Query) -> None:
    body = json.dumps(gitlab_mr_event(91002, f"CI fails with:\n{PG_MESSAGE}")).encode()
    response = post(server, "gitlab", body, gitlab_headers(**{"Idempotency-Key": "loss5-gitlab"}))
    assert response.status_code == 202, response.text
    stored = query("select payload from raw.gitlab_merge_requests where source_id = '91002'")[0]["payload"]
    assert stored["description"] == f"CI fails with:\n{PG_MESSAGE}"


def test_a_real_nul_character_is_replaced_on_the_parsed_object(server: str, query: Query) -> None:
    body = json.dumps(jira_event(91003, "before\u0000after")).encode()  # a JSON \u0000 escape: a real NUL
    response = post(server, "jira", body, jira_headers(body, "loss5-real-nul"))
    assert response.status_code == 202, response.text
    stored = query("select payload from raw.jira_issues where source_id = '91003'")[0]["payload"]
    assert stored["fields"]["description"] == "before\ufffdafter"
    event = query("select payload from raw.webhook_events where delivery_id = 'loss5-real-nul'")[0]["payload"]
    assert event["issue"]["fields"]["description"] == "before\ufffdafter"


def _lone_surrogate() -> bytes:
    return json.dumps(jira_event(91004, "half an emoji: \ud83d")).encode()  # ensure_ascii: the \ud83d escape


def _nan() -> bytes:
    return json.dumps(jira_event(91005, "story points", summary=float("nan"))).encode()  # a bare NaN token


def _infinity() -> bytes:
    return json.dumps(jira_event(91006, "estimate", summary=float("-inf"))).encode()  # -Infinity


def _deep() -> bytes:
    depth = 20_000  # far deeper than any real payload, still under the body limit
    event = json.dumps(jira_event(91007, "__DEEP__"))
    return event.replace('"__DEEP__"', "[" * depth + "]" * depth).encode()


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("surrogate", _lone_surrogate, "surrogate"),
        ("nan", _nan, "NaN"),
        ("infinity", _infinity, "Infinity"),
        ("deep", _deep, "nested too deeply"),
    ],
)
def test_unstorable_jira_bodies_are_4xx_dead_letters_never_500(
    server: str, query: Query, name: str, make: Callable[[], bytes], reason: str
) -> None:
    """Loss 5: lone surrogates, NaN/Infinity and very deep nesting were a 500 with nothing kept."""
    body = make()
    delivery = f"loss5-{name}"
    first = post(server, "jira", body, jira_headers(body, delivery))
    again = post(server, "jira", body, jira_headers(body, delivery))  # the sender's retry: same answer
    assert 400 <= first.status_code < 500, (first.status_code, first.text)
    assert again.status_code == first.status_code
    assert reason.lower() in first.json()["error"].lower()
    assert _n(query, "select count(*) as n from raw.webhook_events where delivery_id = %s", delivery) == 0
    letters = query(
        "select reason, document, origin from app.dead_letters where origin like %s order by dead_letter_id",
        (f"%{delivery}%",),
    )
    assert letters, "the delivery must be kept as a dead letter"
    assert reason.lower() in letters[0]["reason"].lower()
    assert letters[0]["document"] == body.decode()  # the body as received (ASCII here), whole


def test_unstorable_gitlab_body_is_a_dead_letter(server: str, query: Query) -> None:
    body = json.dumps(gitlab_mr_event(91008, "\udc80 lone low surrogate")).encode()
    response = post(server, "gitlab", body, gitlab_headers(**{"Idempotency-Key": "loss5-gitlab-surrogate"}))
    assert response.status_code == 400, response.text
    assert _n(query, "select count(*) as n from raw.gitlab_merge_requests where source_id = '91008'") == 0
    assert _letters(query, "lone low surrogate")


def test_a_payload_of_unexpected_shape_is_kept_not_500(server: str, query: Query) -> None:
    """Authenticated JSON that normalisation cannot read: the delivery is kept verbatim and the reason is a
    dead letter; the sender gets a 2xx so it does not resend the same bytes for ever."""
    body = json.dumps({"object_kind": "merge_request", "object_attributes": "not an object"}).encode()
    response = post(server, "gitlab", body, gitlab_headers(**{"Idempotency-Key": "odd-shape"}))
    assert response.status_code == 202, response.text
    assert _n(query, "select count(*) as n from raw.webhook_events where delivery_id = 'odd-shape'") == 1
    letters = query("select reason from app.dead_letters where origin like '%odd-shape%'")
    assert letters and "normalis" in letters[0]["reason"]


def test_database_down_is_503_so_the_sender_retries(tmp_path: Path) -> None:
    """No database: 503 (GitLab and Jira retry), never a bare 500."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    url = f"postgresql://nobody@127.0.0.1:{closed}/nothing?connect_timeout=2"
    with _serve(url, _settings(tmp_path, url)) as base:
        body = json.dumps(gitlab_mr_event(91009, "x")).encode()
        response = post(base, "gitlab", body, gitlab_headers(**{"Idempotency-Key": "db-down"}))
    assert response.status_code == 503, response.text


def test_a_malformed_signing_secret_stops_the_server_at_start(warehouse_url: str, tmp_path: Path) -> None:
    """It used to fail on every signed delivery instead (binascii.Error: a 500, nothing kept)."""
    secret = "whsec_not*base64*at*all"
    settings = _settings(tmp_path, warehouse_url, gitlab=GitlabSettings(signing_secret=secret))
    with pytest.raises(SettingsError) as failure:
        create_app(warehouse_url, settings)
    assert "HEIMDALL_GITLAB_SIGNING_SECRET" in str(failure.value) and secret not in str(failure.value)


# ----------------------------------------------------------------------------------------------- robustness
def test_unsigned_jira_deliveries_are_refused_by_default(
    warehouse_url: str, tmp_path: Path, query: Query
) -> None:
    body = json.dumps(jira_event(92001, "unsigned")).encode()
    headers = {"Content-Type": "application/json", "X-Atlassian-Webhook-Identifier": "unsigned-1"}
    refused = _settings(tmp_path, warehouse_url, jira=JiraSettings())
    with _serve(warehouse_url, refused) as base:
        response = post(base, "jira", body, headers)
    assert response.status_code == 401, response.text
    assert "HEIMDALL_JIRA_WEBHOOK_SECRET" in response.json()["error"]
    assert _n(query, "select count(*) as n from raw.webhook_events where delivery_id = 'unsigned-1'") == 0
    assert _n(query, "select count(*) as n from app.webhook_rejections where delivery_id = 'unsigned-1'") == 1

    allowed = _settings(tmp_path, warehouse_url, jira=JiraSettings(allow_unsigned_webhooks=True))
    with _serve(warehouse_url, allowed) as base:
        response = post(base, "jira", body, headers)
    assert response.status_code == 202, response.text
    assert _n(query, "select count(*) as n from raw.jira_issues where source_id = '92001'") == 1


def test_stale_signed_jira_delivery_is_refused_but_kept(server: str, query: Query) -> None:
    """A replay: correctly signed, but its ``timestamp`` is an hour old (tolerance 300 s)."""
    body = json.dumps(jira_event(92002, "replayed", stamp_ms=_now_ms() - 3_600_000)).encode()
    response = post(server, "jira", body, jira_headers(body, "stale-jira"))
    assert response.status_code == 401, response.text
    assert _n(query, "select count(*) as n from raw.webhook_events where delivery_id = 'stale-jira'") == 0
    assert _n(query, "select count(*) as n from raw.jira_issues where source_id = '92002'") == 0
    rejection = query(
        "select http_status, reason from app.webhook_rejections where delivery_id = 'stale-jira'"
    )
    assert rejection and "older than" in rejection[0]["reason"]
    letters = query("select reason, document from app.dead_letters where origin like '%stale-jira%'")
    assert letters and letters[0]["document"] == body.decode()  # kept for an operator, not in raw

    fresh = json.dumps(jira_event(92003, "fresh")).encode()
    assert post(server, "jira", fresh, jira_headers(fresh, "fresh-jira")).status_code == 202
    no_stamp = jira_event(92004, "no timestamp")
    del no_stamp["timestamp"]
    body = json.dumps(no_stamp).encode()
    assert post(server, "jira", body, jira_headers(body, "no-stamp-jira")).status_code == 202


def test_stale_standard_webhook_is_refused_but_kept(server: str, query: Query) -> None:
    body = json.dumps(gitlab_mr_event(92005, "replayed gitlab")).encode()
    old = int(time.time()) - 3600
    headers = {
        "Content-Type": "application/json",
        "X-Gitlab-Event": "Merge Request Hook",
        "webhook-id": "stale-std",
        "webhook-timestamp": str(old),
        "webhook-signature": sign_standard_webhook(SIGNING, "stale-std", old, body),
    }
    response = post(server, "gitlab", body, headers)
    assert response.status_code == 401, response.text
    assert _n(query, "select count(*) as n from raw.webhook_events where delivery_id = 'stale-std'") == 0
    letters = query("select reason from app.dead_letters where origin like '%stale-std%'")
    assert letters and "older than" in letters[0]["reason"]


def test_gitlab_retries_without_idempotency_key_are_deduplicated_by_content(
    server: str, query: Query
) -> None:
    """Before GitLab 17.4 there is no Idempotency-Key, and X-Gitlab-Webhook-UUID is new on every request."""
    body = json.dumps(gitlab_mr_event(92006, "retried delivery")).encode()
    first = post(server, "gitlab", body, gitlab_headers(**{"X-Gitlab-Webhook-UUID": str(uuid.uuid4())}))
    retry = post(server, "gitlab", body, gitlab_headers(**{"X-Gitlab-Webhook-UUID": str(uuid.uuid4())}))
    assert (first.status_code, retry.status_code) == (202, 200), (first.text, retry.text)
    assert first.json()["delivery_id"] == retry.json()["delivery_id"]
    assert first.json()["delivery_id"].startswith("sha256:")
    assert (
        _n(
            query,
            "select count(*) as n from raw.webhook_events "
            "where payload -> 'object_attributes' ->> 'id' = '92006'",
        )
        == 1
    )
    # the same body as another event is another delivery; a changed body is a new delivery
    other = post(
        server,
        "gitlab",
        body,
        gitlab_headers(**{"X-Gitlab-Event": "System Hook", "X-Gitlab-Webhook-UUID": "u3"}),
    )
    changed = json.dumps(gitlab_mr_event(92006, "retried delivery", "2026-11-30 11:00:00 UTC")).encode()
    newer = post(server, "gitlab", changed, gitlab_headers(**{"X-Gitlab-Webhook-UUID": "u4"}))
    assert (other.status_code, newer.status_code) == (202, 202)


def test_oversized_signed_deliveries_are_recorded_with_their_headers(server: str, query: Query) -> None:
    big = json.dumps(gitlab_mr_event(92007, "x" * (LIMIT + 10_000))).encode()
    stamp = int(time.time())
    gitlab = {
        "Content-Type": "application/json",
        "X-Gitlab-Event": "Merge Request Hook",
        "X-Gitlab-Token": "an-old-rotated-secret",  # wrong, and still never stored
        "Authorization": "Bearer custom-header-secret",
        "Idempotency-Key": "big-std",
        "webhook-id": "big-std",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign_standard_webhook(SIGNING, "big-std", stamp, big),
    }
    assert post(server, "gitlab", big, gitlab).status_code == 413
    jira_big = json.dumps(jira_event(92008, "y" * (LIMIT + 10_000))).encode()
    assert post(server, "jira", jira_big, jira_headers(jira_big, "big-jira")).status_code == 413

    rows = query(
        "select delivery_id, http_status, reason, headers::text as text, headers from app.webhook_rejections "
        "where delivery_id in ('big-std', 'big-jira') order by delivery_id"
    )
    assert [(row["delivery_id"], row["http_status"]) for row in rows] == [("big-jira", 413), ("big-std", 413)]
    jira_row, gitlab_row = rows
    assert gitlab_row["headers"]["webhook-id"] == "big-std"
    assert gitlab_row["headers"]["x-gitlab-event"] == "Merge Request Hook"
    assert gitlab_row["headers"]["webhook-timestamp"] == str(stamp)
    assert int(gitlab_row["headers"]["content-length"]) == len(big)
    assert (
        "an-old-rotated-secret" not in gitlab_row["text"] and "custom-header-secret" not in gitlab_row["text"]
    )
    assert jira_row["headers"]["x-atlassian-webhook-identifier"] == "big-jira"
    assert "x-hub-signature" in jira_row["headers"]
    # a signed body cannot be verified once cut: nothing of it is kept
    assert not _letters(query, "y" * 100)


def test_rejected_deliveries_keep_headers_without_secret_values(server: str, query: Query) -> None:
    body = json.dumps(gitlab_mr_event(92009, "wrong token")).encode()
    response = post(
        server, "gitlab", body, gitlab_headers(**{"X-Gitlab-Token": "guess-1", "Idempotency-Key": "bad-tok"})
    )
    assert response.status_code == 401
    row = query(
        "select headers, headers::text as text from app.webhook_rejections where delivery_id = 'bad-tok'"
    )[0]
    assert row["headers"]["x-gitlab-token"] == "[redacted]" and "guess-1" not in row["text"]
