"""Fake Jira Cloud and GitLab servers for the connector tests: real HTTP servers bound to 127.0.0.1 (no
patched clients), serving paginated API responses from generator documents, with injectable faults."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

Response = tuple[int, dict[str, str], Any]


@dataclass
class Fault:
    """Answer the next ``times`` requests whose path starts with ``path`` with ``status`` (and headers)."""

    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    delay: float = 0.0


@dataclass
class Logged:
    at: float
    method: str
    path: str
    query: dict[str, str]
    status: int


class FakeServer:
    """Base: routing, auth, faults, slow paths and a request log. Subclasses implement ``route``."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.slow: dict[str, float] = {}
        self.log: list[Logged] = []
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def authorized(self, headers: Any) -> bool:
        return True

    def route(self, method: str, path: str, query: dict[str, str], body: Any) -> Response:
        raise NotImplementedError

    def requests(self, prefix: str) -> list[Logged]:
        return [entry for entry in self.log if entry.path.startswith(prefix)]

    def _answer(self, method: str, raw_path: str, headers: Any, body: bytes) -> Response:
        parts = urlsplit(raw_path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        path = parts.path
        for prefix, seconds in self.slow.items():
            if path.startswith(prefix):
                time.sleep(seconds)
        with self.lock:
            fault = next((f for f in self.faults if path.startswith(f.path) and f.times > 0), None)
            if fault:
                fault.times -= 1
        if fault:
            time.sleep(fault.delay)
            response: Response = (fault.status, fault.headers, {"errorMessages": ["injected fault"]})
        elif not self.authorized(headers):
            response = (401, {}, {"errors": [{"message": "Invalid token"}]})
        else:
            payload = json.loads(body) if body else None
            response = self.route(method, path, query, payload)
        with self.lock:
            self.log.append(Logged(time.monotonic(), method, path, query, response[0]))
        return response

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = server._answer(self.command, self.path, self.headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = _serve
            do_POST = _serve

        return Handler


def _jira_time(value: str) -> datetime:
    return datetime.fromisoformat(re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value))


class FakeJira(FakeServer):
    """Jira Cloud REST v3 + agile 1.0, enough for the connector: /myself, /search/jql (nextPageToken, JQL
    ``project = "X" AND updated >= "yyyy/MM/dd HH:mm"`` read in the user's time zone, ORDER BY updated ASC),
    /issue/{key}/changelog (startAt/isLast) and /board/{id}/sprint (startAt/isLast). Basic auth."""

    def __init__(
        self,
        issues: list[dict[str, Any]],
        changelogs: dict[str, list[dict[str, Any]]],
        sprints: dict[str, list[dict[str, Any]]],
        *,
        email: str = "bot@example.com",
        token: str = "jira-token",
        time_zone: str = "Europe/Berlin",
    ) -> None:
        super().__init__()
        self.issues = {str(issue["id"]): issue for issue in issues}
        self.changelogs = changelogs
        self.sprints = sprints
        self.credentials = base64.b64encode(f"{email}:{token}".encode()).decode()
        self.time_zone = time_zone
        self.token_generation = 0
        self.page_hook: Callable[[int], None] | None = None

    def authorized(self, headers: Any) -> bool:
        return headers.get("Authorization") == f"Basic {self.credentials}"

    def expire_tokens(self) -> None:
        self.token_generation += 1

    def route(self, method: str, path: str, query: dict[str, str], body: Any) -> Response:
        if path == "/rest/api/3/myself":
            return 200, {}, {"accountId": "abc", "displayName": "Heimdall Bot", "timeZone": self.time_zone}
        if path == "/rest/api/3/search/jql":
            return self._search(query)
        match = re.fullmatch(r"/rest/api/3/issue/([^/]+)/changelog", path)
        if match:
            issue = next((i for i in self.issues.values() if i["key"] == match.group(1)), None)
            if issue is None:
                return 404, {}, {"errorMessages": ["Issue does not exist"]}
            values = self.changelogs.get(str(issue["id"]), [])
            return 200, {}, self._offset_page(values, query, 100)
        match = re.fullmatch(r"/rest/agile/1.0/board/([^/]+)/sprint", path)
        if match:
            return 200, {}, self._offset_page(self.sprints.get(match.group(1), []), query, 50)
        return 404, {}, {"errorMessages": [f"no route {path}"]}

    @staticmethod
    def _offset_page(values: list[Any], query: dict[str, str], default: int) -> dict[str, Any]:
        start = int(query.get("startAt", 0))
        size = min(int(query.get("maxResults", default)), default)
        chunk = values[start : start + size]
        return {
            "startAt": start,
            "maxResults": size,
            "total": len(values),
            "isLast": start + size >= len(values),
            "values": chunk,
        }

    def _search(self, query: dict[str, str]) -> Response:
        jql = query.get("jql", "")
        project = re.search(r'project = "([^"]+)"', jql)
        since = re.search(r'updated >= "([^"]+)"', jql)
        floor = None
        if since:
            local = datetime.strptime(since.group(1), "%Y/%m/%d %H:%M")
            floor = local.replace(tzinfo=ZoneInfo(self.time_zone)).astimezone(UTC)
        matches = [
            issue
            for issue in self.issues.values()
            if (project is None or issue["fields"]["project"]["key"] == project.group(1))
            and (floor is None or _jira_time(issue["fields"]["updated"]) >= floor)
        ]
        matches.sort(key=lambda issue: (_jira_time(issue["fields"]["updated"]), int(issue["id"])))
        size = min(int(query.get("maxResults", 50)), 100)
        offset = 0
        if "nextPageToken" in query:
            generation, _, position = query["nextPageToken"].partition(":")
            if int(generation) != self.token_generation:
                return 400, {}, {"errorMessages": ["The provided next page token is invalid or expired."]}
            offset = int(position)
        chunk = matches[offset : offset + size]
        page: dict[str, Any] = {"issues": chunk, "isLast": offset + size >= len(matches)}
        if offset + size < len(matches):
            page["nextPageToken"] = f"{self.token_generation}:{offset + size}"
        if self.page_hook:  # after the token is minted: a hook that expires tokens makes this one stale
            self.page_hook(offset // size)
        return 200, {}, page


def jira_fixture(seed: int = 3) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]], dict]:
    """One small generated Jira project (PAY), as the source would hold it: the newest version of every
    issue and each change history once (the generator's planted duplicates collapsed)."""
    from datetime import date

    from generator import GeneratorOptions, generate

    run = generate(
        GeneratorOptions(seed=seed, scale="small", teams=1, engineers=3, weeks=3, as_of=date(2026, 1, 9))
    )
    issues: dict[str, dict[str, Any]] = {}
    changelogs: dict[str, dict[str, dict[str, Any]]] = {}
    sprints: dict[str, dict[str, dict[str, Any]]] = {}
    for record in run.records:
        if record.table == "jira_issues":
            key = str(record.payload["id"])
            if key not in issues or record.payload["fields"]["updated"] >= issues[key]["fields"]["updated"]:
                issues[key] = record.payload
        elif record.table == "jira_changelogs":
            changelogs.setdefault(str(record.parent_id), {})[str(record.payload["id"])] = record.payload
        elif record.table == "jira_sprints":
            sprints.setdefault(str(record.parent_id), {})[str(record.payload["id"])] = record.payload
    ordered = {
        issue_id: sorted(histories.values(), key=lambda h: (h["created"], int(h["id"])))
        for issue_id, histories in changelogs.items()
    }
    return (
        list(issues.values()),
        ordered,
        {board: list(values.values()) for board, values in sprints.items()},
    )
