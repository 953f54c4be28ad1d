"""Webhook intake: ``POST /webhooks/gitlab``, ``POST /webhooks/jira``, ``GET /healthz`` (Starlette/uvicorn).

Every delivery ends in exactly one of these, and none is a bare 500 with nothing kept:

* Unauthenticated -> 401; nothing stored in raw; a row in ``app.webhook_rejections`` with the request headers
  (secret headers' values replaced by ``[redacted]``).
  GitLab: ``X-Gitlab-Token`` equal to the configured secret (constant time), or a valid Standard Webhooks
  signature (``webhook-id`` / ``webhook-timestamp`` within the tolerance / ``webhook-signature``, ``whsec_``
  secret). Without any GitLab secret configured, every GitLab delivery is refused.
  Jira: ``X-Hub-Signature: sha256=<hex HMAC of the body>`` with ``HEIMDALL_JIRA_WEBHOOK_SECRET``. Without a
  secret, Jira deliveries are refused unless ``HEIMDALL_JIRA_ALLOW_UNSIGNED_WEBHOOKS`` is set (local testing).
* Correctly signed but stale (Standard Webhooks ``webhook-timestamp``, Jira payload ``timestamp``, outside
  ``HEIMDALL_WEBHOOK_TOLERANCE_SECONDS``) -> 401 as a possible replay: not stored in raw, but rejected *and*
  kept whole in ``app.dead_letters`` (it is authentic; a late retry can be replayed by an operator).
* Oversized (``HEIMDALL_WEBHOOK_MAX_BODY_BYTES``) -> 413, rejected with its headers; when the delivery is
  authenticated independently of its body (GitLab token, allowed unsigned Jira) the body, truncated to the
  limit, is also a dead letter. A signed body cannot be verified once cut: only its headers are kept.
* Authenticated but not storable -> 400 and the body in ``app.dead_letters`` with the reason: not JSON, not
  an object, not UTF-8, ``NaN``/``Infinity`` (not JSON), nested too deeply, lone surrogates. NUL characters
  are replaced on the parsed object (like the loader does), so a *literal* backslash-u0000 typed in a text is
  kept as typed.
* Accepted -> 202 once the delivery is durably stored: the verbatim payload and headers (secret headers
  removed) in ``raw.webhook_events`` and its normalised documents through the loader (source ``webhook``), in
  one transaction. When the payload cannot be normalised, or its documents cannot be loaded, the delivery is
  still stored and the reason is a dead letter. A ``jira:issue_deleted`` leaves a tombstone dated by the
  payload's ``timestamp`` (the source's clock; now when absent or ahead). A redelivery -> 200, stored once.
  Dedupe key: GitLab ``Idempotency-Key``, else ``webhook-id``, else a hash of the event and the body
  (``X-Gitlab-Webhook-UUID`` is new on every request, retries included); Jira
  ``X-Atlassian-Webhook-Identifier``, else the body's hash.
* Database unavailable -> 503 with ``Retry-After`` (the sender retries; nothing was acknowledged).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.state import mark_deleted
from connectors.webhooks.normalize import gitlab_records, jira_event_time, jira_records
from connectors.webhooks.verify import (
    Verdict,
    gitlab_token_ok,
    jira_signature_ok,
    jira_timestamp,
    signing_key,
    standard_webhook_verdict,
)
from warehouse.errors import SettingsError
from warehouse.loader import RejectedDocument, document_text, load_records, payload_json  # the loader's rules
from warehouse.records import RawRecord
from warehouse.settings import Settings, get_settings, redact_url

log = logging.getLogger("heimdall.webhooks")

# Headers whose values are credentials: dropped from raw.webhook_events, "[redacted]" in rejections.
SECRET_HEADERS = frozenset(
    {
        "x-gitlab-token",
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "x-auth-token",
        "private-token",
    }
)
REDACTED = "[redacted]"
DATABASE_RETRY_AFTER = "30"


@dataclass
class Answer:
    status: int
    content: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(repr=False)
class Delivery:
    source: str
    headers: dict[str, str]
    body: bytes
    cut: bool
    remote: str | None
    event: str | None = None
    delivery_id: str = ""

    @property
    def origin(self) -> str:
        return f"webhook {self.source} delivery {self.delivery_id}"

    def __repr__(self) -> str:  # never the secret headers' values (X-Gitlab-Token is the secret itself)
        return (
            f"Delivery(source={self.source!r}, delivery_id={self.delivery_id!r}, event={self.event!r}, "
            f"bytes={len(self.body)}, cut={self.cut}, headers={rejected_headers(self.headers)!r})"
        )


def _clean(value: str) -> str:
    return value.replace("\x00", "\ufffd")


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers stored with an accepted delivery: secret headers left out."""
    return {key: _clean(value) for key, value in headers.items() if key not in SECRET_HEADERS}


def rejected_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers stored with a rejection: secret headers named (that one was sent helps) but not shown."""
    return {key: REDACTED if key in SECRET_HEADERS else _clean(value) for key, value in headers.items()}


def content_id(event: str | None, body: bytes) -> str:
    """A delivery id from what was delivered, when the sender gives none that is stable across retries."""
    digest = hashlib.sha256()
    if event is not None:
        digest.update(event.encode("utf-8", errors="replace") + b"\n")
    digest.update(body)
    return "sha256:" + digest.hexdigest()


def _not_json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value (RFC 8259)")


def parse_payload(body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The body as a JSON object, or why it cannot be one."""
    try:
        payload = json.loads(body, parse_constant=_not_json_constant)
    except RecursionError:
        return None, "malformed JSON: nested too deeply to parse"
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN / Infinity
        return None, f"malformed JSON: {exc}"
    if not isinstance(payload, dict):
        return None, f"malformed JSON: the body is not a JSON object (got {type(payload).__name__})"
    return payload, None


class Intake:
    """Authentication, parsing and durable storage of deliveries (runs in Starlette's thread pool)."""

    def __init__(self, url: str, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self.settings = settings
        self.clock = clock
        self.limit = settings.connectors.webhook_max_body_bytes
        self.tolerance = settings.connectors.webhook_tolerance_seconds
        self._signing_key: bytes | None = None
        if settings.gitlab.signing_secret:
            try:
                self._signing_key = signing_key(settings.gitlab.signing_secret)
            except ValueError as exc:
                raise SettingsError(f"HEIMDALL_GITLAB_SIGNING_SECRET: {exc}") from None

    def __repr__(self) -> str:
        return f"Intake(url={redact_url(self.url)!r}, limit={self.limit}, tolerance={self.tolerance})"

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    # ------------------------------------------------------------------------------------------ bookkeeping
    def reject(self, delivery: Delivery, status: int, reason: str) -> Answer:
        with self.connect() as conn:
            conn.execute(
                "insert into app.webhook_rejections (source, http_status, reason, delivery_id, remote_addr, "
                "headers) values (%s, %s, %s, %s, %s, %s)",
                (
                    delivery.source,
                    status,
                    reason,
                    delivery.delivery_id,
                    delivery.remote,
                    json.dumps(rejected_headers(delivery.headers)),
                ),
            )
        return Answer(status, {"error": reason, "delivery_id": delivery.delivery_id})

    def dead_letter(self, delivery: Delivery, reason: str, conn: psycopg.Connection | None = None) -> None:
        statement = (
            "insert into app.dead_letters (source, table_name, reason, document, origin) "
            "values ('webhook', %s, %s, %s, %s)"
        )
        params = (f"webhook_events:{delivery.source}", reason, document_text(delivery.body), delivery.origin)
        if conn is not None:
            conn.execute(statement, params)
            return
        with self.connect() as own:
            own.execute(statement, params)

    def store(
        self,
        delivery: Delivery,
        payload_text: str,
        records: list[RawRecord],
        deleted_issue: str | None,
        problems: list[str],
        deleted_at: datetime | None = None,
    ) -> bool:
        """Store one delivery, its documents and any dead letter atomically; False when already stored.
        ``deleted_at`` is when the source deleted ``deleted_issue`` (default: now)."""
        with self.connect() as conn, conn.transaction():
            row = conn.execute(
                "insert into raw.webhook_events (source, delivery_id, event_type, headers, payload) "
                "values (%s, %s, %s, %s, %s) on conflict (source, delivery_id) do nothing "
                "returning webhook_event_id",
                (
                    delivery.source,
                    delivery.delivery_id,
                    delivery.event,
                    json.dumps(kept_headers(delivery.headers)),
                    payload_text,
                ),
            ).fetchone()
            if row is None:
                return False
            if records:
                load_records(conn, records, "webhook")
            if deleted_issue:
                mark_deleted(
                    conn,
                    "jira_issues",
                    [deleted_issue],
                    "webhook",
                    children="jira_changelogs",
                    deleted_at=deleted_at,
                )
            for problem in problems:
                self.dead_letter(delivery, problem, conn)
        return True

    # ------------------------------------------------------------------------------------------- decisions
    def receive(self, delivery: Delivery) -> Answer:
        if delivery.source == "gitlab":
            return self._gitlab(delivery)
        return self._jira(delivery)

    def _gitlab(self, delivery: Delivery) -> Answer:
        headers = delivery.headers
        delivery.event = headers.get("x-gitlab-event")
        delivery.delivery_id = (
            headers.get("idempotency-key")
            or headers.get("webhook-id")
            or content_id(delivery.event, delivery.body)
        )
        secret = self.settings.gitlab.webhook_secret
        if not (secret or self._signing_key):
            return self.reject(
                delivery,
                401,
                "authentication failed: no GitLab webhook secret is configured "
                "(HEIMDALL_GITLAB_WEBHOOK_SECRET or HEIMDALL_GITLAB_SIGNING_SECRET)",
            )
        if gitlab_token_ok(headers, secret):
            return self._authenticated(delivery, body_trusted_when_cut=True)
        if delivery.cut:
            return self._oversized(delivery, keep_body=False)
        verdict = standard_webhook_verdict(
            headers, delivery.body, self._signing_key, self.tolerance, self.clock()
        )
        if verdict is Verdict.STALE:
            stamp = float(headers["webhook-timestamp"])
            return self._stale(delivery, stamp, "webhook-timestamp")
        if verdict is not Verdict.OK:
            return self.reject(delivery, 401, "authentication failed")
        return self._authenticated(delivery, body_trusted_when_cut=False)

    def _jira(self, delivery: Delivery) -> Answer:
        headers = delivery.headers
        delivery.delivery_id = headers.get("x-atlassian-webhook-identifier") or content_id(
            None, delivery.body
        )
        secret = self.settings.jira.webhook_secret
        if secret is None:
            if not self.settings.jira.allow_unsigned_webhooks:
                return self.reject(
                    delivery,
                    401,
                    "authentication failed: unsigned Jira deliveries are refused; register the Jira "
                    "webhook with a secret and set HEIMDALL_JIRA_WEBHOOK_SECRET "
                    "(HEIMDALL_JIRA_ALLOW_UNSIGNED_WEBHOOKS accepts them, for local testing only)",
                )
            return self._authenticated(delivery, body_trusted_when_cut=True)
        if delivery.cut:
            return self._oversized(delivery, keep_body=False)
        if not jira_signature_ok(headers, delivery.body, secret):
            return self.reject(delivery, 401, "authentication failed")
        return self._authenticated(delivery, body_trusted_when_cut=False, signed_jira=True)

    def _oversized(self, delivery: Delivery, keep_body: bool) -> Answer:
        reason = f"body larger than {self.limit} bytes"
        if keep_body:
            self.dead_letter(delivery, f"{reason} (truncated to the limit)")
        return self.reject(delivery, 413, reason)

    def _stale(self, delivery: Delivery, stamp: float, where: str) -> Answer:
        age = self.clock() - stamp
        reason = (
            f"possible replay: the {where} is {abs(age):.0f} s {'older than' if age > 0 else 'ahead of'} "
            f"the server clock, beyond the {self.tolerance} s tolerance (HEIMDALL_WEBHOOK_TOLERANCE_SECONDS)"
        )
        self.dead_letter(delivery, f"refused, not stored in raw: {reason}")
        return self.reject(delivery, 401, reason)

    def _authenticated(
        self, delivery: Delivery, *, body_trusted_when_cut: bool, signed_jira: bool = False
    ) -> Answer:
        if delivery.cut:
            return self._oversized(delivery, keep_body=body_trusted_when_cut)
        payload, problem = parse_payload(delivery.body)
        if payload is None:
            return self._unstorable(delivery, str(problem))
        if signed_jira:
            stamp = jira_timestamp(payload)
            if stamp is not None and abs(self.clock() - stamp) > self.tolerance:
                return self._stale(delivery, stamp, "payload timestamp")
        try:
            payload_text = payload_json(payload)
        except RejectedDocument as exc:  # NaN, lone surrogates, nested too deeply (NULs included)
            return self._unstorable(delivery, f"unstorable JSON: {exc}")
        problems: list[str] = []
        records: list[RawRecord] = []
        deleted: str | None = None
        deleted_at: datetime | None = None
        try:
            if delivery.source == "gitlab":
                kind = payload.get("object_kind")
                if delivery.event is None and isinstance(kind, str):
                    delivery.event = kind
                records = gitlab_records(str(delivery.event), payload)
            else:
                event = payload.get("webhookEvent")
                delivery.event = event if isinstance(event, str) else None
                records, deleted = jira_records(payload)
                if deleted:
                    deleted_at = self._deletion_time(payload)
        except Exception as exc:  # an unexpected shape: keep the delivery, say why it gave no documents
            records, deleted, deleted_at = [], None, None
            problems.append(f"could not normalise the delivery: {type(exc).__name__}: {exc}")
        try:
            stored = self.store(delivery, payload_text, records, deleted, problems, deleted_at)
        except psycopg.OperationalError:
            raise
        except Exception as exc:
            if isinstance(exc.__cause__, psycopg.OperationalError):
                raise
            # its documents cannot be loaded (the loader says why): the delivery itself is still kept
            log.warning("webhook %s: documents not loaded: %s", delivery.origin, exc)
            problems.append(f"its documents could not be loaded: {type(exc).__name__}: {exc}")
            stored = self.store(delivery, payload_text, [], None, problems)
        if not stored:
            return Answer(200, {"status": "duplicate", "delivery_id": delivery.delivery_id})
        content: dict[str, Any] = {"status": "accepted", "delivery_id": delivery.delivery_id}
        if problems:
            content["dead_letters"] = problems
        return Answer(202, content)

    def _deletion_time(self, payload: dict[str, Any]) -> datetime | None:
        """When the source deleted the issue: the event's ``timestamp``, so a tombstone is ordered by the
        source's clock (only a document updated after the deletion restores the issue). A time ahead of
        this server's clock (skew) counts as now; None (now) when the payload has none."""
        happened = jira_event_time(payload)
        if happened is None:
            return None
        return min(happened, datetime.fromtimestamp(self.clock(), tz=UTC))

    def _unstorable(self, delivery: Delivery, reason: str) -> Answer:
        self.dead_letter(delivery, reason)
        return Answer(400, {"error": reason, "delivery_id": delivery.delivery_id})


async def _body(request: Request, limit: int) -> tuple[bytes, bool]:
    """The body, at most ``limit`` bytes, and whether it was cut."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
    return b"".join(chunks), False


def create_app(url: str | None = None, settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    if url is None:
        from warehouse import db as warehouse_db
        from warehouse.migrate import migrate

        url = warehouse_db.database_url()
        with warehouse_db.connect(url) as conn:
            migrate(conn)
    intake = Intake(url, settings)

    async def receive(request: Request, source: str) -> JSONResponse:
        body, cut = await _body(request, intake.limit)
        delivery = Delivery(
            source,
            {key.lower(): value for key, value in request.headers.items()},
            body,
            cut,
            request.client.host if request.client else None,
        )
        try:
            answer = await run_in_threadpool(intake.receive, delivery)
        except psycopg.OperationalError as exc:
            # nothing was acknowledged: the sender keeps the delivery and retries
            log.error("webhook %s: database unavailable: %s", source, type(exc).__name__)
            return JSONResponse(
                {"error": "database unavailable; retry later"},
                status_code=503,
                headers={"Retry-After": DATABASE_RETRY_AFTER},
            )
        except Exception as exc:  # a bug: never answer 500 with nothing kept
            log.error("webhook %s: internal error %s: %s", source, type(exc).__name__, exc)
            reason = f"internal error: {type(exc).__name__}: {exc}"
            try:
                await run_in_threadpool(intake.dead_letter, delivery, reason)
            except Exception:
                return JSONResponse(
                    {"error": "internal error; retry later"},
                    status_code=503,
                    headers={"Retry-After": DATABASE_RETRY_AFTER},
                )
            return JSONResponse(
                {"error": "internal error; the delivery is kept as a dead letter"}, status_code=500
            )
        return JSONResponse(answer.content, status_code=answer.status, headers=answer.headers or None)

    async def gitlab(request: Request) -> JSONResponse:
        return await receive(request, "gitlab")

    async def jira(request: Request) -> JSONResponse:
        return await receive(request, "jira")

    async def healthz(request: Request) -> JSONResponse:
        def ping() -> bool:
            try:
                with intake.connect() as conn:
                    conn.execute("select 1")
                return True
            except psycopg.Error:
                return False

        ok = await run_in_threadpool(ping)
        return JSONResponse(
            {"status": "ok" if ok else "degraded", "database": ok}, status_code=200 if ok else 503
        )

    return Starlette(
        routes=[
            Route("/webhooks/gitlab", gitlab, methods=["POST"]),
            Route("/webhooks/jira", jira, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
