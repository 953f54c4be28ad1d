"""The read-only HTTP API on a real uvicorn server on 127.0.0.1, signed in as the ask login: 200 answers, 422
refusals, 413 oversized bodies, 400 malformed JSON, the recommendations and health endpoints, the OpenAPI
description (served and committed), and the hostile questions through HTTP with the same guarantees (only
templates sent, no 500)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from heimdall.api.app import create_app
from heimdall.api.openapi import openapi_yaml
from insights.ask.execute import allowed_statements, observe_statements
from tests.ask.conftest import AskOrg
from tests.ask.hostile import hostile_questions
from warehouse.settings import PROJECT_ROOT, ApiSettings

BODY_CAP = 64 * 1024


@pytest.fixture(scope="module")
def server(ask_org: AskOrg) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = ApiSettings(login=ask_org.login, max_body_bytes=BODY_CAP)
    config = uvicorn.Config(
        create_app(ask_org.login_url, api), host="127.0.0.1", port=port, log_level="warning"
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


@pytest.fixture(scope="module")
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as http:
        yield http


def test_an_answer(client: httpx.Client) -> None:
    response = client.post(
        "/api/ask", json={"question": "which tickets waited longest for review last month in checkout?"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "answered" and body["intent"] == "longest_review_waits"
    assert body["parameters"]["team"] == "checkout" and body["parameters"]["period"] == "last month"
    assert (
        body["parameters"]["period_start"] == "2026-10-01"
        and body["parameters"]["period_end"] == "2026-10-31"
    )
    assert body["sql"].startswith("select") and "%(team)s" in body["sql"]
    assert body["bound"] == {
        "team": "checkout",
        "until": "2026-11-01T00:00:00+00:00",
        "since": "2026-10-01T00:00:00+00:00",
        "limit": 10,
    }
    assert body["rows"] and body["columns"][0] == "issue_key"
    assert all(row["team_id"] == "checkout" for row in body["rows"])
    hours = [row["review_wait_hours"] for row in body["rows"]]
    assert hours == sorted(hours, reverse=True)
    assert body["reading"].startswith(body["rows"][0]["issue_key"])


def test_a_refusal_is_422_and_names_the_parameter(client: httpx.Client) -> None:
    for question, parameter in [
        ("slowest reviews in narnia", "team"),
        ("slowest reviews since 2030-01-01", "period"),
        ("top 10000 slowest reviews", "limit"),
        ("x" * 5000, "question"),
        ("what is the meaning of life", None),
    ]:
        response = client.post("/api/ask", json={"question": question})
        assert response.status_code == 422, question
        body = response.json()
        assert body["status"] == "refused" and body["parameter"] == parameter
        assert body["reason"] and len(body["examples"]) >= 16


def test_an_oversized_body_is_413(client: httpx.Client) -> None:
    big = json.dumps({"question": "slowest reviews " + "x" * (BODY_CAP + 10)})
    assert (
        client.post("/api/ask", content=big, headers={"content-type": "application/json"}).status_code == 413
    )

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap is enforced while streaming
        yield b'{"question": "'
        for _ in range(100):
            yield b"y" * 1024
        yield b'"}'

    assert client.post("/api/ask", content=chunks()).status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"not json",
        b"[1, 2]",
        b'"question"',
        b"{}",
        b'{"question": 42}',
        b'{"question": null}',
        b"\xff\xfe",
        b'{"question": ["slowest reviews"]}',
        b"[" * 10_000,
    ],
)
def test_malformed_json_is_400(client: httpx.Client, body: bytes) -> None:
    response = client.post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]


def test_recommendations_and_health(client: httpx.Client, ask_org: AskOrg) -> None:
    response = client.get("/api/recommendations")
    assert response.status_code == 200
    rows = response.json()["rows"]
    expected = ask_org.query(
        "select recommendation_id from marts.fct_recommendations order by rank, recommendation_id"
    )
    assert [row["recommendation_id"] for row in rows] == [row["recommendation_id"] for row in expected][:10]
    team = expected[0]["recommendation_id"].split(":")[0] if expected else "checkout"
    only = client.get("/api/recommendations", params={"team": team, "limit": 1}).json()
    assert all(row["team_id"] == team for row in only["rows"]) and len(only["rows"]) <= 1
    assert client.get("/api/recommendations", params={"team": "'; drop table x; --"}).status_code == 422
    assert client.get("/api/recommendations", params={"limit": "1000"}).status_code == 422
    assert client.get("/api/recommendations", params={"limit": "x"}).status_code == 422
    health = client.get("/api/health")
    assert health.status_code == 200 and health.json() == {
        "status": "ok",
        "database": "ok",
        "as_of": "2026-11-20",
        "teams": 3,
    }
    assert client.get("/api/ask").status_code == 405
    assert client.post("/api/recommendations").status_code == 405


def test_the_openapi_description(client: httpx.Client) -> None:
    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {"/api/ask", "/api/recommendations", "/api/health", "/api/openapi.json"}
    assert set(document["paths"]["/api/ask"]["post"]["responses"]) == {"200", "400", "413", "422", "503"}
    committed = PROJECT_ROOT / "docs" / "api-openapi.yaml"
    assert committed.read_text() == openapi_yaml(), "run `heimdall api openapi --write`"


def test_hostile_questions_over_http(client: httpx.Client) -> None:
    """Every hostile question through the API: 200 or 422 (or 400/413 for what is not a valid body), never
    500, and only templates are sent (the server runs in this process: the observer sees its statements)."""
    sent: list[tuple[int, str, Any]] = []
    statuses: dict[int, int] = {}
    allowed = allowed_statements()
    questions = hostile_questions()[::2]  # every other one: the full set runs in test_hostile.py
    with observe_statements(lambda *s: sent.append(s)):
        for question in questions:
            status = client.post("/api/ask", json={"question": question}).status_code
            statuses[status] = statuses.get(status, 0) + 1
    assert set(statuses) <= {200, 413, 422}, statuses
    assert statuses.get(200, 0) > 0 and statuses.get(422, 0) > 0
    assert sent and all(any(statement is template for template in allowed) for _, statement, _ in sent)
