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
        self.in_flight = 0
        self.most_in_flight = 0  # the largest number of requests the server was answering at once
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
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return self._respond(method, path, query, headers, body)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _respond(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> Response:
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


_JIRA_NOT_FOUND = {"errorMessages": ["Issue does not exist or you do not have permission to see it."]}


class FakeJira(FakeServer):
    """Jira Cloud REST v3 + agile 1.0, enough for the connector: /myself, /search/jql (nextPageToken, JQL
    ``project = "X" AND updated >= "yyyy/MM/dd HH:mm"`` read in the user's time zone, ORDER BY updated ASC),
    /issue/{key}/changelog (startAt/isLast), GET /issue/{idOrKey}, POST /changelog/bulkfetch (up to 1,000
    issue ids/keys, histories sorted by created then issue id, ``nextPageToken`` paging, the shape of
    ../shared/specimens/jira-openapi/platform_v3_changelog_bulkfetch_POST_200.json) and
    /board/{id}/sprint (startAt/isLast). Basic auth.

    Search page tokens are offsets into the current result, so an issue deleted or updated while a listing is
    read shifts the later pages (the worst case a connector must survive).
    ``bulk_status`` makes bulkfetch answer that status (an instance without the endpoint: 404/405/501);
    ``bulk_created_epoch`` serves ``created`` as epoch milliseconds, as the OpenAPI example does;
    ``bulk_hook(ids)`` runs before a bulkfetch page is answered (e.g. to delete an issue mid-sync)."""

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
        self.bulk_status: int | None = None
        self.bulk_page_cap = 1000
        self.bulk_created_epoch = False
        self.bulk_bodies: list[dict[str, Any]] = []
        self.bulk_hook: Callable[[list[str]], None] | None = None

    def authorized(self, headers: Any) -> bool:
        return headers.get("Authorization") == f"Basic {self.credentials}"

    def expire_tokens(self) -> None:
        self.token_generation += 1

    def delete_issue(self, issue_id: str) -> None:
        """The issue (and its change history) is gone at the source."""
        self.issues.pop(str(issue_id), None)
        self.changelogs.pop(str(issue_id), None)

    def find_issue(self, id_or_key: str) -> dict[str, Any] | None:
        issue = self.issues.get(id_or_key)
        if issue is None:
            issue = next((i for i in list(self.issues.values()) if i["key"] == id_or_key), None)
        return issue

    def route(self, method: str, path: str, query: dict[str, str], body: Any) -> Response:
        if path == "/rest/api/3/myself":
            return 200, {}, {"accountId": "abc", "displayName": "Heimdall Bot", "timeZone": self.time_zone}
        if path == "/rest/api/3/search/jql":
            return self._search(query)
        if path == "/rest/api/3/changelog/bulkfetch" and method == "POST":
            return self._bulk_changelogs(body or {})
        match = re.fullmatch(r"/rest/api/3/issue/([^/]+)/changelog", path)
        if match:
            issue = self.find_issue(match.group(1))
            if issue is None:
                return 404, {}, _JIRA_NOT_FOUND
            values = self.changelogs.get(str(issue["id"]), [])
            return 200, {}, self._offset_page(values, query, 100)
        match = re.fullmatch(r"/rest/api/3/issue/([^/]+)", path)
        if match:
            issue = self.find_issue(match.group(1))
            return (200, {}, issue) if issue is not None else (404, {}, _JIRA_NOT_FOUND)
        match = re.fullmatch(r"/rest/agile/1.0/board/([^/]+)/sprint", path)
        if match:
            return 200, {}, self._offset_page(self.sprints.get(match.group(1), []), query, 50)
        return 404, {}, {"errorMessages": [f"no route {path}"]}

    def _bulk_changelogs(self, body: dict[str, Any]) -> Response:
        wanted = [str(value) for value in body.get("issueIdsOrKeys") or []]
        if not wanted or len(wanted) > 1000:
            return 400, {}, {"errorMessages": ["Provide between 1 and 1000 issue ids or keys."]}
        if self.bulk_status is not None:
            return self.bulk_status, {}, {"errorMessages": ["Not available"]}
        if self.bulk_hook:
            self.bulk_hook(wanted)
        issues = {str(issue["id"]) for key in wanted if (issue := self.find_issue(key)) is not None}
        histories = [
            (_jira_time(history["created"]), int(issue_id), issue_id, history)
            for issue_id in issues
            for history in self.changelogs.get(issue_id, [])
        ]
        histories.sort(key=lambda entry: (entry[0], entry[1], int(entry[3]["id"])))
        size = max(1, min(int(body.get("maxResults") or 1000), self.bulk_page_cap))
        token = body.get("nextPageToken")
        offset = int(str(token).removeprefix("bulk-")) if token else 0
        chunk = histories[offset : offset + size]
        logs: list[dict[str, Any]] = []
        for _, _, issue_id, history in chunk:
            served = dict(history)
            if self.bulk_created_epoch:
                served["created"] = int(_jira_time(history["created"]).timestamp() * 1000)
            if logs and logs[-1]["issueId"] == issue_id:
                logs[-1]["changeHistories"].append(served)
            else:
                logs.append({"issueId": issue_id, "changeHistories": [served]})
        page: dict[str, Any] = {"issueChangeLogs": logs}
        if offset + size < len(histories):
            page["nextPageToken"] = f"bulk-{offset + size}"
        with self.lock:
            self.bulk_bodies.append(body)
        return 200, {}, page

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
        # Jira returns up to 5,000 issues a page when only ids or keys are asked for, 100 otherwise
        cap = 5000 if query.get("fields") in ("id", "key") else 100
        size = min(int(query.get("maxResults", 50)), cap)
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


def jira_scaled_fixture(
    count: int, seed: int = 3
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]], dict]:
    """A PAY project of ``count`` issues (a realistic size for request counts): the small fixture's PAY
    issues repeated with new ids, keys and history ids, each copy one minute later than the one before."""
    import copy
    from datetime import timedelta

    issues, changelogs, sprints = jira_fixture(seed)
    base = [issue for issue in issues if issue["fields"]["project"]["key"] == "PAY"]
    out_issues: list[dict[str, Any]] = []
    out_logs: dict[str, list[dict[str, Any]]] = {}

    def shifted(value: str | None, minutes: int) -> str | None:
        if not value:
            return value
        moved = _jira_time(value) + timedelta(minutes=minutes)
        return moved.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moved.microsecond // 1000:03d}" + value[-5:]

    for index in range(count):
        copy_no, original = divmod(index, len(base))
        issue = copy.deepcopy(base[original])
        old_id = str(issue["id"])
        new_id = str(100000 + index)
        issue["id"] = new_id
        issue["key"] = f"PAY-{index + 1}"
        issue["self"] = re.sub(r"/\d+$", f"/{new_id}", str(issue.get("self", "")))
        issue["fields"]["updated"] = shifted(issue["fields"]["updated"], copy_no)
        out_issues.append(issue)
        histories = []
        for number, history in enumerate(changelogs.get(old_id, [])):
            clone = copy.deepcopy(history)
            clone["id"] = str(50_000_000 + index * 100 + number)
            clone["created"] = shifted(clone["created"], copy_no)
            histories.append(clone)
        out_logs[new_id] = histories
    return out_issues, out_logs, sprints


def _gl_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class InvalidCursor(Exception):
    """A GraphQL ``after`` cursor that the connection it was sent to did not mint."""

    def __init__(self, path: list[str]) -> None:
        super().__init__("Please provide a valid cursor")
        self.path = path


# GraphQL connections and their cursors, as GitLab mints them: keyset connections encode their ordering
# columns as base64 JSON ({"updated_at": ..., "id": ...}); array connections (MR commits) encode the
# offset as base64 text. GitLab refuses a cursor whose keys are not its own ("Please provide a valid
# cursor"), so the cursor of one connection cannot page another.
CURSOR_KEYS: dict[str, tuple[str, ...]] = {
    "mergeRequests": ("updated_at", "id"),
    "notes": ("created_at", "id"),
    "labels": ("title",),
    "reviewers": ("id",),
}
NESTED_CONNECTIONS = ("notes", "commits", "labels", "reviewers")
_CONNECTION_FIELD = re.compile(r"\b(mergeRequests|notes|commits|labels|reviewers)\s*(?:\(([^)]*)\))?\s*\{")
_ARGUMENT = re.compile(r"(\w+)\s*:\s*(\$\w+|-?\d+|\"[^\"]*\"|\w+)")
GRAPHQL_MAX_PAGE = 100  # GitLab's max_page_size; also the default page size of a connection


def _encode_cursor(value: Any) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def _encode_cursor_text(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _decode_cursor_text(cursor: Any) -> str:
    try:
        return base64.b64decode(str(cursor).encode(), validate=True).decode()
    except ValueError:
        return ""


def _decode_cursor(cursor: Any) -> Any:
    try:
        return json.loads(base64.b64decode(str(cursor).encode(), validate=True))
    except ValueError:
        return None


class FakeGitlab(FakeServer):
    """GitLab REST v4 + GraphQL, enough for the connector, serving generator documents. Bearer auth.

    Modelled on GitLab's documented behaviour:
    * REST lists: offset pages (``page``, ``per_page`` <= 100, ``x-next-page``) computed at request time
      from the current data, so an update between two page requests shifts the items after it;
      ``updated_after`` / ``updated_before`` filters; ``order_by`` (``id`` or ``updated_at``, default ``id``)
      and ``sort`` (default ``desc``). The pipeline list returns GitLab's basic pipeline fields only.
    * A deleted pipeline or deployment answers 404 (detail, jobs, merge requests).
    * Jobs only include retried attempts when asked (``include_retried=true``).
    * GraphQL: each connection the query names (``mergeRequests``; per MR ``notes``, ``commits``,
      ``labels``, ``reviewers``) pages with its own cursor kind (``first`` <= 100, ``after``); a cursor of
      another connection is refused with "Please provide a valid cursor". ``mergeRequests`` is keyset-paged
      on (updated_at, id), so updates during paging never skip an MR. An unknown MR iid is ``null``.
    * ``before_hooks`` may answer a request instead of the fake (an outage); ``after_hooks`` run after each
      answer (a concurrent update between two requests). Both get (method, path, query).
    """

    def __init__(self, docs: dict[str, list], *, token: str = "glpat-test") -> None:
        super().__init__()
        self.token = token
        self.projects = {doc["id"]: doc for doc, _ in docs["gitlab_projects"]}
        self.mrs = {doc["id"]: doc for doc, _ in docs["gitlab_merge_requests"]}
        self.notes: dict[int, list[dict]] = {}
        for doc, parent in docs["gitlab_mr_notes"]:
            self.notes.setdefault(int(parent), []).append(doc)
        self.commits: dict[int, list[dict]] = {}
        for doc, parent in docs["gitlab_mr_commits"]:
            self.commits.setdefault(int(parent), []).append(doc)
        self.pipelines = {doc["id"]: doc for doc, _ in docs["gitlab_pipelines"]}
        self.jobs: dict[int, list[dict]] = {}
        for doc, parent in docs["gitlab_jobs"]:
            self.jobs.setdefault(int(parent), []).append(doc)
        self.deployments = {doc["id"]: doc for doc, _ in docs["gitlab_deployments"]}
        self.deployment_project = {doc["id"]: int(parent) for doc, parent in docs["gitlab_deployments"]}
        self.deployment_mrs: dict[int, list[dict]] = {}
        for doc, parent in docs["gitlab_deployment_merge_requests"]:
            self.deployment_mrs.setdefault(int(parent), []).append(doc)
        self.issues = {doc["id"]: doc for doc, _ in docs.get("gitlab_issues", [])}
        self.graphql_variables: list[dict[str, Any]] = []
        self.before_hooks: list[Callable[[str, str, dict[str, str]], Response | None]] = []
        self.after_hooks: list[Callable[[str, str, dict[str, str]], None]] = []
        self.data_lock = threading.RLock()  # the data changes between requests, never during one

    def authorized(self, headers: Any) -> bool:
        return headers.get("Authorization") == f"Bearer {self.token}"

    @staticmethod
    def _page(items: list[Any], query: dict[str, str]) -> Response:
        page, size = int(query.get("page", 1)), min(int(query.get("per_page", 20)), 100)
        chunk = items[(page - 1) * size : page * size]
        headers = {"x-page": str(page), "x-per-page": str(size)}
        headers["x-next-page"] = str(page + 1) if page * size < len(items) else ""
        return 200, headers, chunk

    @staticmethod
    def _listed(items: list[dict], query: dict[str, str]) -> list[dict]:
        """Filter by ``updated_after`` (inclusive) / ``updated_before`` and order as asked."""
        after, before = query.get("updated_after"), query.get("updated_before")
        kept = [
            item
            for item in items
            if (after is None or _gl_time(item["updated_at"]) >= _gl_time(after))
            and (before is None or _gl_time(item["updated_at"]) <= _gl_time(before))
        ]
        if query.get("order_by") == "updated_at":
            return sorted(
                kept,
                key=lambda item: (_gl_time(item["updated_at"]), item["id"]),
                reverse=query.get("sort", "desc") == "desc",
            )
        return sorted(kept, key=lambda item: item["id"], reverse=query.get("sort", "desc") == "desc")

    def route(self, method: str, path: str, query: dict[str, str], body: Any) -> Response:
        with self.data_lock:
            for before in list(self.before_hooks):
                answer = before(method, path, query)
                if answer is not None:
                    return answer
            status, headers, payload = self._route(method, path, query, body)
            # the answer is what the data was when asked: later changes (hooks, tests) must not reach it
            response: Response = (status, headers, json.loads(json.dumps(payload)))
            for after in list(self.after_hooks):
                after(method, path, query)
            return response

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> Response:
        if path == "/api/graphql":
            return self._graphql(body)
        if path == "/api/v4/user":
            return 200, {}, {"id": 1, "username": "heimdall-bot"}
        match = re.fullmatch(r"/api/v4/projects/([^/]+)", path)
        if match:
            key = match.group(1).replace("%2F", "/")
            project = next(
                (p for p in self.projects.values() if key in (p["path_with_namespace"], str(p["id"]))), None
            )
            return (200, {}, project) if project else (404, {}, {"message": "404 Project Not Found"})
        match = re.fullmatch(r"/api/v4/projects/(\d+)/pipelines", path)
        if match:
            mine = [p for p in self.pipelines.values() if p["project_id"] == int(match.group(1))]
            basic = ("id", "iid", "project_id", "sha", "ref", "status", "source", "created_at", "updated_at")
            listed = [{**{k: p.get(k) for k in basic}, "web_url": p.get("web_url")} for p in mine]
            return self._page(self._listed(listed, query), query)
        match = re.fullmatch(r"/api/v4/projects/(\d+)/pipelines/(\d+)", path)
        if match:
            pipeline = self.pipelines.get(int(match.group(2)))
            return (200, {}, pipeline) if pipeline else (404, {}, {"message": "404 Not found"})
        match = re.fullmatch(r"/api/v4/projects/(\d+)/pipelines/(\d+)/jobs", path)
        if match:
            if int(match.group(2)) not in self.pipelines:
                return 404, {}, {"message": "404 Not found"}
            jobs = sorted(self.jobs.get(int(match.group(2)), []), key=lambda job: job["id"])
            if query.get("include_retried") != "true":
                jobs = [job for job in jobs if not job.get("retried")]
            return self._page(jobs, query)
        match = re.fullmatch(r"/api/v4/projects/(\d+)/deployments", path)
        if match:
            pid = int(match.group(1))
            mine = [d for i, d in self.deployments.items() if self.deployment_project[i] == pid]
            return self._page(self._listed(mine, query), query)
        match = re.fullmatch(r"/api/v4/projects/(\d+)/deployments/(\d+)", path)
        if match:
            deployment = self.deployments.get(int(match.group(2)))
            return (200, {}, deployment) if deployment else (404, {}, {"message": "404 Not found"})
        match = re.fullmatch(r"/api/v4/projects/(\d+)/issues", path)
        if match:
            mine = [i for i in self.issues.values() if i["project_id"] == int(match.group(1))]
            if query.get("issue_type"):
                mine = [i for i in mine if i["issue_type"] == query["issue_type"]]
            return self._page(self._listed(mine, query), query)
        match = re.fullmatch(r"/api/v4/projects/(\d+)/issues/(\d+)", path)
        if match:
            issue = next(
                (
                    i
                    for i in self.issues.values()
                    if i["project_id"] == int(match.group(1)) and i["iid"] == int(match.group(2))
                ),
                None,
            )
            return (200, {}, issue) if issue else (404, {}, {"message": "404 Issue Not Found"})
        match = re.fullmatch(r"/api/v4/projects/(\d+)/merge_requests/(\d+)", path)
        if match:
            mr = next(
                (
                    m
                    for m in self.mrs.values()
                    if m["project_id"] == int(match.group(1)) and m["iid"] == int(match.group(2))
                ),
                None,
            )
            return (200, {}, mr) if mr else (404, {}, {"message": "404 Not found"})
        match = re.fullmatch(r"/api/v4/projects/(\d+)/deployments/(\d+)/merge_requests", path)
        if match:
            if int(match.group(2)) not in self.deployments:
                return 404, {}, {"message": "404 Not found"}
            return self._page(self.deployment_mrs.get(int(match.group(2)), []), query)
        return 404, {}, {"message": f"404 no route {path}"}

    # GraphQL: the nodes of the connector's queries, built from the REST documents
    @staticmethod
    def _user(user: dict | None) -> dict | None:
        if not user:
            return None
        return {"id": f"gid://gitlab/User/{user['id']}", "username": user["username"], "name": user["name"]}

    @staticmethod
    def _arguments(text: str | None, variables: dict[str, Any]) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        for name, raw in _ARGUMENT.findall(text or ""):
            if raw.startswith("$"):
                arguments[name] = variables.get(raw[1:])
            elif raw.startswith('"'):
                arguments[name] = raw[1:-1]
            elif raw.lstrip("-").isdigit():
                arguments[name] = int(raw)
            else:
                arguments[name] = raw
        return arguments

    @staticmethod
    def _order(name: str, item: Any) -> tuple:
        if name == "mergeRequests":
            return (_gl_time(item["updated_at"]), int(item["id"]))
        if name == "notes":
            return (_gl_time(item["created_at"]), int(item["id"]))
        if name == "labels":
            return (str(item),)
        return (int(item["id"]),)

    def _connection(
        self,
        name: str,
        items: list[Any],
        arguments: dict[str, Any],
        node: Callable[[Any], Any],
        path: list[str],
    ) -> dict[str, Any]:
        first = min(int(arguments.get("first") or GRAPHQL_MAX_PAGE), GRAPHQL_MAX_PAGE)
        after = arguments.get("after")
        if name == "commits":  # an array connection: the cursor is the offset
            start = 0
            if after is not None:
                offset = _decode_cursor_text(after)
                if not offset.isdigit():
                    raise InvalidCursor([*path, name])
                start = int(offset)
            chunk = items[start : start + first]
            end = _encode_cursor_text(str(start + len(chunk))) if chunk else None
            has_next = start + first < len(items)
        else:
            keys = CURSOR_KEYS[name]
            ordered = sorted(items, key=lambda item: self._order(name, item))
            start = 0
            if after is not None:
                decoded = _decode_cursor(after)
                if not isinstance(decoded, dict) or set(decoded) != set(keys):
                    raise InvalidCursor([*path, name])
                try:
                    position = tuple(
                        int(decoded[k])
                        if k == "id"
                        else _gl_time(decoded[k])
                        if k.endswith("_at")
                        else decoded[k]
                        for k in keys
                    )
                except (TypeError, ValueError):
                    raise InvalidCursor([*path, name]) from None
                start = next(
                    (i for i, item in enumerate(ordered) if self._order(name, item) > position), len(ordered)
                )
            chunk = ordered[start : start + first]
            has_next = start + first < len(ordered)
            end = None
            if chunk:
                last = self._order(name, chunk[-1])
                end = _encode_cursor(
                    {
                        k: (v.isoformat() if isinstance(v, datetime) else str(v))
                        for k, v in zip(keys, last, strict=True)
                    }
                )
        return {
            "pageInfo": {"endCursor": end, "hasNextPage": has_next},
            "nodes": [node(item) for item in chunk],
        }

    def _note_node(self, note: dict) -> dict:
        return {
            "id": f"gid://gitlab/Note/{note['id']}",
            "body": note["body"],
            "system": note["system"],
            "createdAt": note["created_at"],
            "updatedAt": note["updated_at"],
            "author": self._user(note["author"]),
        }

    @staticmethod
    def _commit_node(commit: dict) -> dict:
        return {
            "sha": commit["id"],
            "shortId": commit["short_id"],
            "title": commit["title"],
            "message": commit["message"],
            "authoredDate": commit["authored_date"],
            "committedDate": commit["committed_date"],
            "authorName": commit["author_name"],
            "authorEmail": commit["author_email"],
        }

    def _nested(self, mr: dict, asked: dict[str, dict[str, Any]], path: list[str]) -> dict[str, Any]:
        sources: dict[str, tuple[list[Any], Callable[[Any], Any]]] = {
            "notes": (self.notes.get(mr["id"], []), self._note_node),
            "commits": (self.commits.get(mr["id"], []), self._commit_node),
            "labels": (list(mr.get("labels") or []), lambda title: {"title": title}),
            "reviewers": (list(mr.get("reviewers") or []), self._user),
        }
        return {
            name: self._connection(name, sources[name][0], arguments, sources[name][1], path)
            for name, arguments in asked.items()
        }

    def _mr_node(self, mr: dict, asked: dict[str, dict[str, Any]]) -> dict:
        node = {
            "id": f"gid://gitlab/MergeRequest/{mr['id']}",
            "iid": str(mr["iid"]),
            "title": mr["title"],
            "description": mr["description"],
            "state": mr["state"],
            "draft": mr["draft"],
            "sourceBranch": mr["source_branch"],
            "targetBranch": mr["target_branch"],
            "webUrl": mr["web_url"],
            "createdAt": mr["created_at"],
            "updatedAt": mr["updated_at"],
            "mergedAt": mr["merged_at"],
            "closedAt": mr["closed_at"],
            "mergeCommitSha": mr["merge_commit_sha"],
            "diffHeadSha": mr["sha"],
            "author": self._user(mr["author"]),
            "mergeUser": self._user(mr.get("merged_by")),
            "diffStatsSummary": {
                "additions": mr["diff_stats"]["additions"],
                "deletions": mr["diff_stats"]["deletions"],
                "fileCount": mr["diff_stats"]["file_count"],
            },
            "headPipeline": self._head_pipeline(mr),
        }
        return {**node, **self._nested(mr, asked, ["project", "mergeRequests", "nodes"])}

    def _head_pipeline(self, mr: dict) -> dict | None:
        ref = f"refs/merge-requests/{mr['iid']}/head"
        mine = [p for p in self.pipelines.values() if p["project_id"] == mr["project_id"] and p["ref"] == ref]
        if not mine:
            return None
        head = max(mine, key=lambda p: (p["created_at"], p["id"]))
        return {
            "id": f"gid://gitlab/Ci::Pipeline/{head['id']}",
            "iid": str(head["iid"]),
            "status": head["status"].upper(),
            "sha": head["sha"],
            "ref": head["ref"],
        }

    def _graphql(self, body: dict) -> Response:
        variables = body.get("variables") or {}
        self.graphql_variables.append(variables)
        query = str(body.get("query") or "")
        project = next(p for p in self.projects.values() if p["path_with_namespace"] == variables["fullPath"])
        fields = {name: self._arguments(args, variables) for name, args in _CONNECTION_FIELD.findall(query)}
        asked = {name: fields[name] for name in NESTED_CONNECTIONS if name in fields}
        try:
            if "mergeRequests" in fields:
                arguments = fields["mergeRequests"]
                since = {"updated_after": arguments["updatedAfter"]} if arguments.get("updatedAfter") else {}
                mrs = self._listed([m for m in self.mrs.values() if m["project_id"] == project["id"]], since)
                connection = self._connection(
                    "mergeRequests", mrs, arguments, lambda m: self._mr_node(m, asked), ["project"]
                )
                gid = f"gid://gitlab/Project/{project['id']}"
                return 200, {}, {"data": {"project": {"id": gid, "mergeRequests": connection}}}
            iid = re.search(r"mergeRequest\(\s*iid:\s*(\$\w+|\"[^\"]*\")\s*\)", query)
            wanted = self._arguments(f"iid: {iid.group(1)}", variables)["iid"] if iid else None
            mr = next(
                (
                    m
                    for m in self.mrs.values()
                    if m["project_id"] == project["id"] and str(m["iid"]) == str(wanted)
                ),
                None,
            )
            data = None if mr is None else self._nested(mr, asked, ["project", "mergeRequest"])
            return 200, {}, {"data": {"project": {"mergeRequest": data}}}
        except InvalidCursor as exc:
            error = {"message": str(exc), "locations": [{"line": 1, "column": 1}], "path": exc.path}
            return 200, {}, {"data": {"project": None}, "errors": [error]}


def gitlab_fixture(seed: int = 3, *, engineers: int = 3, weeks: int = 3) -> dict[str, list]:
    """One generated GitLab group (team Payments): the newest version of every document, once. The default
    is small; ``engineers=8, weeks=26`` gives a realistically sized group (three projects, ~360 MRs,
    ~1,100 pipelines, ~3,000 jobs, ~490 deployments)."""
    from datetime import date

    from generator import GeneratorOptions, generate

    run = generate(
        GeneratorOptions(
            seed=seed, scale="small", teams=1, engineers=engineers, weeks=weeks, as_of=date(2026, 1, 9)
        )
    )
    newest: dict[tuple[str, str], tuple[dict, str | None]] = {}
    from warehouse.loader import TABLE_SPECS

    for record in run.records:
        if not record.table.startswith("gitlab_"):
            continue
        key = (record.table, TABLE_SPECS[record.table].key(record)[0])
        old = newest.get(key)
        stamp = record.payload.get("updated_at") or ""
        if old is None or stamp >= (old[0].get("updated_at") or ""):
            newest[key] = (record.payload, record.parent_id)
    docs: dict[str, list] = {table: [] for table in TABLE_SPECS if table.startswith("gitlab_")}
    for (table, _), value in newest.items():
        docs[table].append(value)
    return docs
