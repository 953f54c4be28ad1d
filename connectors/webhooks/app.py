"""Webhook intake: ``POST /webhooks/gitlab``, ``POST /webhooks/jira``, ``GET /healthz`` (Starlette/uvicorn).

* Unauthenticated -> 401; nothing stored in raw; counted in ``app.webhook_rejections``.
  GitLab: ``X-Gitlab-Token`` equal to the configured secret (constant time), or a valid Standard Webhooks
  signature (``webhook-id`` / ``webhook-timestamp`` within the tolerance / ``webhook-signature``, ``whsec_``
  secret). Without any GitLab secret configured, every GitLab delivery is refused.
  Jira: ``X-Hub-Signature: sha256=<hex HMAC of the body>`` when a Jira secret is configured (Jira only signs
  admin webhooks registered with a secret; without one, deliveries are accepted and the docs say so).
* Authenticated but oversized (``HEIMDALL_WEBHOOK_MAX_BODY_BYTES``) -> 413, malformed JSON -> 400; the body
  (truncated to the limit) is kept in ``app.dead_letters`` with the reason.
* Accepted -> 202 once the delivery is durably stored: the verbatim payload and headers (secrets removed) in
  ``raw.webhook_events`` and its normalised documents through the loader (source ``webhook``), in one
  transaction. A redelivery (same ``Idempotency-Key`` / ``webhook-id`` / ``X-Atlassian-Webhook-Identifier``)
  -> 200, stored once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import psycopg
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.state import mark_deleted
from connectors.webhooks.normalize import gitlab_records, jira_records
from connectors.webhooks.verify import gitlab_token_ok, jira_signature_ok, standard_webhook_ok
from warehouse.loader import load_records
from warehouse.records import RawRecord
from warehouse.settings import Settings, get_settings

SECRET_HEADERS = {"x-gitlab-token", "authorization", "cookie", "proxy-authorization"}


class Intake:
    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.settings = settings

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def reject(
        self, source: str, status: int, reason: str, delivery_id: str | None, remote: str | None
    ) -> None:
        with self.connect() as conn:
            conn.execute(
                "insert into app.webhook_rejections (source, http_status, reason, delivery_id, remote_addr) "
                "values (%s, %s, %s, %s, %s)",
                (source, status, reason, delivery_id, remote),
            )

    def dead_letter(self, source: str, reason: str, body: bytes) -> None:
        with self.connect() as conn:
            conn.execute(
                "insert into app.dead_letters (source, table_name, reason, document) "
                "values ('webhook', %s, %s, %s)",
                (
                    f"webhook_events:{source}",
                    reason,
                    body.decode("utf-8", errors="replace").replace("\x00", ""),
                ),
            )

    def store(
        self,
        source: str,
        delivery_id: str,
        event: str | None,
        headers: dict[str, str],
        payload: Any,
        records: list[RawRecord],
        deleted_issue: str | None,
    ) -> bool:
        """Store one delivery and its documents atomically; False when it was already stored."""
        with self.connect() as conn, conn.transaction():
            row = conn.execute(
                "insert into raw.webhook_events (source, delivery_id, event_type, headers, payload) "
                "values (%s, %s, %s, %s, %s) on conflict (source, delivery_id) do nothing "
                "returning webhook_event_id",
                (source, delivery_id, event, json.dumps(headers), json.dumps(payload).replace("\\u0000", "")),
            ).fetchone()
            if row is None:
                return False
            if records:
                load_records(conn, records, "webhook")
            if deleted_issue:
                mark_deleted(conn, "jira_issues", [deleted_issue], "webhook", children="jira_changelogs")
        return True


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


def _delivery_id(headers: dict[str, str], names: tuple[str, ...], body: bytes) -> str:
    for name in names:
        if headers.get(name):
            return headers[name]
    return "sha256:" + hashlib.sha256(body).hexdigest()


def create_app(url: str | None = None, settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    if url is None:
        from warehouse import db as warehouse_db
        from warehouse.migrate import migrate

        url = warehouse_db.database_url()
        with warehouse_db.connect(url) as conn:
            migrate(conn)
    intake = Intake(url, settings)
    limit = settings.connectors.webhook_max_body_bytes

    async def receive(request: Request, source: str) -> JSONResponse:
        headers = {key.lower(): value for key, value in request.headers.items()}
        remote = request.client.host if request.client else None
        body, cut = await _body(request, limit)
        if source == "gitlab":
            secret, signing = settings.gitlab.webhook_secret, settings.gitlab.signing_secret
            token_ok = gitlab_token_ok(headers, secret)
            authenticated = token_ok or (
                not cut
                and standard_webhook_ok(headers, body, signing, settings.connectors.webhook_tolerance_seconds)
            )
            names: tuple[str, ...] = ("idempotency-key", "webhook-id", "x-gitlab-webhook-uuid")
        else:
            secret = settings.jira.webhook_secret
            token_ok = secret is None
            authenticated = token_ok or (not cut and jira_signature_ok(headers, body, str(secret)))
            names = ("x-atlassian-webhook-identifier",)
        delivery = _delivery_id(headers, names, body)
        if cut:
            if token_ok:
                await run_in_threadpool(
                    intake.dead_letter, source, f"body larger than {limit} bytes (truncated)", body
                )
            await run_in_threadpool(
                intake.reject, source, 413, f"body larger than {limit} bytes", delivery, remote
            )
            return JSONResponse({"error": f"body larger than {limit} bytes"}, status_code=413)
        if not authenticated:
            await run_in_threadpool(intake.reject, source, 401, "authentication failed", delivery, remote)
            return JSONResponse({"error": "authentication failed"}, status_code=401)
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("the body is not a JSON object")
        except ValueError as exc:
            await run_in_threadpool(intake.dead_letter, source, f"malformed JSON: {exc}", body)
            return JSONResponse({"error": f"malformed JSON: {exc}"}, status_code=400)
        if source == "gitlab":
            event = headers.get("x-gitlab-event") or payload.get("object_kind")
            records, deleted = gitlab_records(str(event), payload), None
        else:
            event = payload.get("webhookEvent")
            records, deleted = jira_records(payload)
        kept_headers = {key: value for key, value in headers.items() if key not in SECRET_HEADERS}
        stored = await run_in_threadpool(
            intake.store, source, delivery, event, kept_headers, payload, records, deleted
        )
        if not stored:
            return JSONResponse({"status": "duplicate", "delivery_id": delivery}, status_code=200)
        return JSONResponse({"status": "accepted", "delivery_id": delivery}, status_code=202)

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
