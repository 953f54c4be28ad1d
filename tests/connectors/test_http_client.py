"""The connectors' HTTP client against a real scripted HTTP server on 127.0.0.1 (issue 10).

* A 200 whose body is not JSON is retried like a transport error, then a clear ConnectorError naming the
  endpoint.
* Retry-After is honoured as sent, up to HEIMDALL_CONNECTOR_RETRY_AFTER_MAX_SECONDS; refused clearly beyond.
* Loss 8: no credential ever appears in a repr or in a traceback rendered with its local variables.
"""

from __future__ import annotations

import base64
import io
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from rich.console import Console
from rich.pretty import pretty_repr
from rich.traceback import Traceback

from connectors.gitlab import GitlabConnector
from connectors.http import ApiClient, ConnectorError, RetryPolicy
from connectors.jira import JiraConnector
from connectors.state import SyncSummary
from warehouse.settings import ConnectorSettings, GitlabSettings, JiraSettings, Settings, get_settings

EMAIL = "bot@example.com"
JIRA_TOKEN = "ATATT3xJiraApiToken0123456789abcdef"
GITLAB_TOKEN = "glpat-GitlabAccessToken0123456789"
JIRA_HOOK_SECRET = "jira-webhook-secret-4f9a"
GITLAB_HOOK_SECRET = "gitlab-webhook-secret-77c1"
SIGNING_SECRET = "whsec_" + base64.b64encode(b"signing-key-for-the-repr-test-01").decode()
DB_PASSWORD = "pg-password-93kd"
BASIC = base64.b64encode(f"{EMAIL}:{JIRA_TOKEN}".encode()).decode()
SECRETS = (JIRA_TOKEN, GITLAB_TOKEN, BASIC, JIRA_HOOK_SECRET, GITLAB_HOOK_SECRET, SIGNING_SECRET, DB_PASSWORD)

HTML = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    cut_to: int | None = None  # send only this many body bytes, then close (Content-Length says more)


@dataclass
class Seen:
    at: float
    method: str
    path: str
    headers: dict[str, str]


class Scripted:
    """A real HTTP server answering from a script (the last reply repeats), logging every request."""

    def __init__(self, *replies: Reply) -> None:
        self.script = list(replies)
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with owner.lock:
                    owner.seen.append(Seen(time.monotonic(), self.command, self.path, dict(self.headers)))
                    reply = owner.script.pop(0) if len(owner.script) > 1 else owner.script[0]
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body)))
                if reply.cut_to is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(reply.body if reply.cut_to is None else reply.body[: reply.cut_to])
                if reply.cut_to is not None:
                    self.wfile.flush()
                    self.close_connection = True

            do_GET = _serve
            do_POST = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Scripted:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def scripted() -> Iterator[type[Scripted]]:
    yield Scripted


def client(url: str, waits: list[float] | None = None, **policy: Any) -> ApiClient:
    options: dict[str, Any] = {"max_attempts": 3, "base_delay": 0.01, "max_delay": 0.5, **policy}
    return ApiClient(
        url,
        auth=(EMAIL, JIRA_TOKEN),
        policy=RetryPolicy(**options),
        sleep=waits.append if waits is not None else time.sleep,
        seed=1,
    )


# ------------------------------------------------------------------------------ bodies that are not JSON
def test_a_200_html_page_is_retried_then_a_clear_error(scripted) -> None:
    waits: list[float] = []
    html = Reply(body=HTML, headers={"Content-Type": "text/html"})
    with scripted(html) as server, pytest.raises(ConnectorError) as failure:
        client(server.url, waits).get_json("/rest/api/3/myself")
    message = str(failure.value)
    assert len(server.seen) == 3 and len(waits) == 2  # retried like a transport error
    assert f"GET {server.url}/rest/api/3/myself" in message and "3 attempts" in message
    assert "not JSON" in message and "text/html" in message
    assert failure.value.__cause__ is None and failure.value.__context__ is None  # no raw traceback chained


def test_a_truncated_json_body_is_retried_and_recovers(scripted) -> None:
    page = b'{"values": [1, 2, 3], "isLast": true}'
    with scripted(Reply(body=page[:17]), Reply(body=page)) as server:  # a complete response, cut JSON
        assert client(server.url, []).get_json("/page") == {"values": [1, 2, 3], "isLast": True}
    assert len(server.seen) == 2


def test_a_connection_cut_mid_body_is_retried(scripted) -> None:
    page = b'{"values": [1, 2, 3], "isLast": true}'
    with scripted(Reply(body=page, cut_to=10), Reply(body=page)) as server:  # Content-Length says more
        assert client(server.url, []).get_json("/page")["isLast"] is True
    assert len(server.seen) == 2


def test_request_checks_the_body_for_callers_that_read_it_later(scripted) -> None:
    """GitLab's REST paging uses ``request()`` (for the paging headers) and then ``response.json()``."""
    text = Reply(body=b"Retry later", headers={"Content-Type": "text/plain"})
    with scripted(text) as server, pytest.raises(ConnectorError, match="not JSON"):
        client(server.url, []).request("GET", "/api/v4/projects/1/pipelines")
    with scripted(Reply(body=b'[{"id": 1}]')) as server:
        response = client(server.url, []).request("GET", "/api/v4/projects/1/pipelines")
        assert response.json() == [{"id": 1}]
    with scripted(Reply(status=204, body=b"", headers={})) as server:
        assert client(server.url, []).request("POST", "/nothing").status_code == 204


def test_a_non_json_post_answer_is_a_clear_error(scripted) -> None:
    html = Reply(body=HTML, headers={"Content-Type": "text/html"})
    with scripted(html) as server, pytest.raises(ConnectorError, match=r"POST .*/api/graphql .*not JSON"):
        client(server.url, []).post_json("/api/graphql", {"query": "{ currentUser { id } }"})


# ------------------------------------------------------------------------------------------- Retry-After
def test_retry_after_is_honoured_as_sent_not_cut_to_the_backoff_cap(scripted) -> None:
    """The backoff cap (max_delay 0.5 s here, 60 s by default) used to shorten a longer Retry-After."""
    limited = Reply(status=429, body=b"Retry later", headers={"Retry-After": "2"})
    waits: list[float] = []
    with scripted(limited, Reply(body=b'{"ok": true}')) as server:
        assert client(server.url, waits, max_delay=0.5, retry_after_max=30).get_json("/x") == {"ok": True}
    assert waits == [2.0]  # the client waited the full 2 s it was told, not the 0.5 s backoff cap


def test_retry_after_as_an_http_date(scripted) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    waits: list[float] = []
    limited = Reply(status=503, body=b"busy", headers={"Retry-After": when})
    with scripted(limited, Reply(body=b"[]")) as server:
        assert client(server.url, waits, retry_after_max=600).get_json("/x") == []
    assert len(waits) == 1 and 110 <= waits[0] <= 121


def test_retry_after_beyond_the_configured_maximum_is_a_clear_error(scripted) -> None:
    waits: list[float] = []
    limited = Reply(status=429, body=b"Retry later", headers={"Retry-After": "3600"})
    with scripted(limited) as server, pytest.raises(ConnectorError) as failure:
        client(server.url, waits, retry_after_max=900).get_json("/rest/api/3/search/jql")
    message = str(failure.value)
    assert waits == [] and len(server.seen) == 1  # no silent shorter wait, no hammering
    assert "/rest/api/3/search/jql" in message and "3600" in message
    assert "HEIMDALL_CONNECTOR_RETRY_AFTER_MAX_SECONDS" in message and failure.value.status == 429


def test_the_retry_after_maximum_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert RetryPolicy.from_settings(
        ConnectorSettings(retry_after_max_seconds=42, max_attempts=3)
    ) == RetryPolicy(max_attempts=3, retry_after_max=42)
    monkeypatch.setenv("HEIMDALL_CONNECTOR_RETRY_AFTER_MAX_SECONDS", "1234")
    get_settings.cache_clear()
    try:
        # the connectors build RetryPolicy(max_attempts=...): the maximum still follows the setting
        assert RetryPolicy(max_attempts=2).retry_after_max == 1234
    finally:
        get_settings.cache_clear()


# ------------------------------------------------------------------------------------ loss 8: no secret shown
def _connectors(url: str) -> tuple[JiraConnector, GitlabConnector, Settings]:
    settings = Settings(
        database_url=f"postgresql://heimdall:{DB_PASSWORD}@127.0.0.1:1/heimdall",
        jira=JiraSettings(
            base_url=url,
            email=EMAIL,
            api_token=JIRA_TOKEN,
            projects=("HDL",),
            webhook_secret=JIRA_HOOK_SECRET,
        ),
        gitlab=GitlabSettings(
            base_url=url,
            token=GITLAB_TOKEN,
            projects=("acme/shop",),
            webhook_secret=GITLAB_HOOK_SECRET,
            signing_secret=SIGNING_SECRET,
        ),
        connectors=ConnectorSettings(max_attempts=2),
    )
    # built exactly as `heimdall sync` builds them: the connectors make their own ApiClient
    return (
        JiraConnector(settings.jira, settings.connectors),
        GitlabConnector(settings.gitlab, settings.connectors),
        settings,
    )


def _rendered(exc: BaseException) -> str:
    """The exception as rich (show_locals=True, nothing shortened) and the stdlib (capture_locals) show it."""
    console = Console(record=True, width=300, file=io.StringIO(), color_system=None)
    console.print(
        Traceback.from_exception(
            type(exc),
            exc,
            exc.__traceback__,
            show_locals=True,
            locals_max_length=10_000,
            locals_max_string=100_000,
        )
    )
    plain = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    return console.export_text() + plain


def _boom(seconds: float) -> None:
    raise RuntimeError("forced failure while waiting")


def _assert_clean(text: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, f"credentials shown: {leaked}"


def test_no_credential_in_any_repr_or_traceback_with_locals(scripted) -> None:
    html = Reply(body=HTML, headers={"Content-Type": "text/html"})
    with scripted(Reply(status=503, body=b"busy", headers={}), html) as server:
        jira, gitlab, settings = _connectors(server.url)
        from connectors.webhooks.app import Delivery, Intake

        intake = Intake(str(settings.database_url), settings)
        delivery = Delivery(
            "gitlab",
            {"x-gitlab-token": GITLAB_HOOK_SECRET, "authorization": f"Bearer {GITLAB_TOKEN}"},
            b"{}",
            False,
            None,
        )
        objects: list[Any] = [
            jira,
            jira.client,
            jira.client.policy,
            gitlab,
            gitlab.client,
            gitlab.client.policy,
            settings,
            settings.jira,
            settings.gitlab,
            intake,
            delivery,
            SyncSummary(),
        ]
        for obj in objects:
            _assert_clean(repr(obj))
            _assert_clean(pretty_repr(obj, max_string=None))
        assert "bot@example.com" not in repr(jira.client)  # not even the account

        tracebacks: list[BaseException] = []
        # 1. GitLab: a 503, then the wait between attempts fails (the retry loop's frames are on the stack)
        gitlab.client.sleep = _boom
        with pytest.raises(RuntimeError) as forced:
            gitlab.check()
        tracebacks.append(forced.value)
        # 2. Jira: a 200 proxy page instead of JSON
        with pytest.raises(Exception) as not_json:
            jira.check()
        tracebacks.append(not_json.value)
        # 3. an error raised inside httpx itself (the request is being built with the auth and headers)
        for connector in (jira, gitlab):
            with pytest.raises(TypeError) as inside:
                connector.client.post_json("/x", {"not serialisable": object()})
            tracebacks.append(inside.value)
        for exc in tracebacks:
            text = _rendered(exc)
            assert "ApiClient" in text or "httpx" in text  # the frames with the client are really there
            _assert_clean(text)
    # the requests did carry the credentials: the server saw them, nobody else
    assert any(seen.headers.get("Authorization") == f"Bearer {GITLAB_TOKEN}" for seen in server.seen)
    assert any(seen.headers.get("Authorization") == f"Basic {BASIC}" for seen in server.seen)


def test_the_cli_never_shows_locals() -> None:
    from heimdall.cli import app

    assert app.pretty_exceptions_show_locals is False
