"""The read-only HTTP API: ``POST /api/ask``, ``GET /api/recommendations``, ``GET /api/health``,
``GET /api/openapi.json`` (Starlette; `heimdall api serve` runs it with uvicorn on HEIMDALL_API_PORT).

Its own app and port, beside the webhook intake (connectors/webhooks/app.py) but sharing nothing with it.
Every
request signs in as Guarded Ask's login role (member of heimdall_ask: SELECT on ``marts`` only) and runs in a
read-only transaction through insights.ask.execute; nothing here writes.

* ``POST /api/ask`` with ``{"question": "..."}``: 200 and the answer; 422 and the refusal (why, the parameter
at
  fault, example questions); 400 when the body is not a JSON object with a string ``question``; 413 when the
  body is larger than HEIMDALL_API_MAX_BODY_BYTES (default 256 KiB; a question itself is refused with 422
  above
  500 characters); 503 when the warehouse cannot answer.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import psycopg
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from heimdall.api.openapi import openapi_document
from insights.ask.compiler import Refusal, plan_for
from insights.ask.execute import (
    AskError,
    ask,
    connect_as_asker,
    load_catalog,
    read_only,
    run_intent,
)
from insights.ask.render import refusal_json, to_json
from warehouse.settings import ApiSettings

log = logging.getLogger("heimdall.api")


class BodyTooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _question_of(body: bytes) -> tuple[Any, str | None]:
    """The ``question`` of a JSON object body, or why there is none (-> 400)."""
    try:
        payload = json.loads(body)
    except RecursionError:
        return None, "malformed JSON: nested too deeply"
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        return None, f"malformed JSON: {str(exc)[:200]}"
    if not isinstance(payload, dict):
        return None, 'the body must be a JSON object like {"question": "..."}'
    if "question" not in payload:
        return None, "missing field: question"
    if not isinstance(payload["question"], str):
        return None, "question must be a string"
    return payload["question"], None


def create_app(login_url: str, api: ApiSettings | None = None) -> Starlette:
    """The API app, signing in with ``login_url`` (a libpq URL of the ask login; never logged)."""
    api = api or ApiSettings()
    timeout_ms = api.statement_timeout_seconds * 1000
    document = openapi_document(api.max_body_bytes)

    def answer(question: Any) -> dict[str, Any]:
        with connect_as_asker(login_url) as conn:
            return to_json(ask(conn, question, timeout_ms=timeout_ms))

    def recommendations(team: str | None, limit: int | None) -> dict[str, Any]:
        with connect_as_asker(login_url) as conn:
            result = run_intent(
                conn, lambda catalog: plan_for("recommendations", catalog, team=team, limit=limit), timeout_ms
            )
        return to_json(result)

    def health() -> dict[str, Any]:
        with connect_as_asker(login_url) as conn, read_only(conn, timeout_ms):
            catalog = load_catalog(conn)
        return {
            "status": "ok",
            "database": "ok",
            "as_of": catalog.today.isoformat(),
            "teams": len(catalog.teams),
        }

    async def run(work: Any, *args: Any) -> JSONResponse:
        try:
            result = await run_in_threadpool(work, *args)
        except (AskError, psycopg.Error) as exc:
            log.warning("api: the warehouse could not answer: %s", type(exc).__name__)
            return _error(503, str(exc) if isinstance(exc, AskError) else "the warehouse cannot be reached")
        except Exception as exc:  # a bug: say so without details
            log.error("api: internal error %s", type(exc).__name__, exc_info=True)
            return _error(500, "internal error")
        status = 422 if result.get("status") == "refused" else 200
        return JSONResponse(result, status_code=status)

    async def post_ask(request: Request) -> JSONResponse:
        try:
            body = await _body(request, api.max_body_bytes)
        except BodyTooLarge:
            return _error(413, f"the body is larger than {api.max_body_bytes} bytes")
        question, problem = _question_of(body)
        if problem:
            return _error(400, problem)
        return await run(answer, question)

    async def get_recommendations(request: Request) -> JSONResponse:
        team = request.query_params.get("team") or None
        raw_limit = request.query_params.get("limit")
        limit: int | None = None
        if raw_limit is not None:
            if not raw_limit.isdigit() or len(raw_limit) > 6:
                refusal = Refusal("recommendations", "limit: must be a whole number 1-100", parameter="limit")
                return JSONResponse(refusal_json(refusal), status_code=422)
            limit = int(raw_limit)
        return await run(recommendations, team, limit)

    async def get_health(request: Request) -> JSONResponse:
        try:
            return JSONResponse(await run_in_threadpool(health))
        except Exception as exc:
            log.warning("api: health check failed: %s", type(exc).__name__)
            return JSONResponse(
                {"status": "unavailable", "error": "the marts cannot be read"}, status_code=503
            )

    async def get_openapi(request: Request) -> JSONResponse:
        return JSONResponse(document)

    return Starlette(
        routes=[
            Route("/api/ask", post_ask, methods=["POST"]),
            Route("/api/recommendations", get_recommendations, methods=["GET"]),
            Route("/api/health", get_health, methods=["GET"]),
            Route("/api/openapi.json", get_openapi, methods=["GET"]),
        ]
    )
