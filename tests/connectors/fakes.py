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


def _gl_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class FakeGitlab(FakeServer):
    """GitLab REST v4 + GraphQL, enough for the connector, serving generator documents. Bearer auth;
    REST pages of ``per_page`` with ``x-next-page``; jobs only include retried attempts when asked."""

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
    def _since(items: list[dict], query: dict[str, str]) -> list[dict]:
        floor = query.get("updated_after")
        kept = [item for item in items if floor is None or _gl_time(item["updated_at"]) >= _gl_time(floor)]
        return sorted(kept, key=lambda item: (item["updated_at"], item["id"]))

    def route(self, method: str, path: str, query: dict[str, str], body: Any) -> Response:
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
            listed = [
                {k: p[k] for k in ("id", "iid", "project_id", "sha", "ref", "status", "updated_at")}
                for p in mine
            ]
            return self._page(self._since(listed, query), query)
        match = re.fullmatch(r"/api/v4/projects/(\d+)/pipelines/(\d+)", path)
        if match:
            return 200, {}, self.pipelines[int(match.group(2))]
        match = re.fullmatch(r"/api/v4/projects/(\d+)/pipelines/(\d+)/jobs", path)
        if match:
            jobs = self.jobs.get(int(match.group(2)), [])
            if query.get("include_retried") != "true":
                jobs = [job for job in jobs if not job.get("retried")]
            return self._page(jobs, query)
        match = re.fullmatch(r"/api/v4/projects/(\d+)/deployments", path)
        if match:
            pid = int(match.group(1))
            mine = [d for i, d in self.deployments.items() if self.deployment_project[i] == pid]
            return self._page(self._since(mine, query), query)
        match = re.fullmatch(r"/api/v4/projects/(\d+)/issues", path)
        if match:
            mine = [i for i in self.issues.values() if i["project_id"] == int(match.group(1))]
            if query.get("issue_type"):
                mine = [i for i in mine if i["issue_type"] == query["issue_type"]]
            return self._page(self._since(mine, query), query)
        match = re.fullmatch(r"/api/v4/projects/(\d+)/deployments/(\d+)/merge_requests", path)
        if match:
            return self._page(self.deployment_mrs.get(int(match.group(2)), []), query)
        return 404, {}, {"message": f"404 no route {path}"}

    # GraphQL: the nodes of the connector's two queries, built from the REST documents
    @staticmethod
    def _user(user: dict | None) -> dict | None:
        if not user:
            return None
        return {"id": f"gid://gitlab/User/{user['id']}", "username": user["username"], "name": user["name"]}

    def _connection(self, items: list[dict], first: int, after: str | None, node) -> dict:  # type: ignore[no-untyped-def]
        start = int(after) if after else 0
        chunk = items[start : start + first]
        has_next = start + first < len(items)
        return {
            "pageInfo": {"endCursor": str(start + first) if has_next else None, "hasNextPage": has_next},
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

    def _mr_node(self, mr: dict, nested: int) -> dict:
        notes = sorted(self.notes.get(mr["id"], []), key=lambda n: n["id"])
        commits = self.commits.get(mr["id"], [])
        return {
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
            "labels": {"nodes": [{"title": label} for label in mr["labels"]]},
            "reviewers": {"nodes": [self._user(user) for user in mr["reviewers"]]},
            "notes": self._connection(notes, nested, None, self._note_node),
            "commits": self._connection(commits, nested, None, self._commit_node),
        }

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
        project = next(p for p in self.projects.values() if p["path_with_namespace"] == variables["fullPath"])
        nested = int(variables.get("nested", 100))
        if "mergeRequests(" in body["query"]:
            since = {"updated_after": variables["updatedAfter"]} if variables.get("updatedAfter") else {}
            mrs = self._since([m for m in self.mrs.values() if m["project_id"] == project["id"]], since)
            first = min(int(variables["first"]), 100)
            connection = self._connection(
                mrs, first, variables.get("after"), lambda m: self._mr_node(m, nested)
            )
            gid = f"gid://gitlab/Project/{project['id']}"
            return 200, {}, {"data": {"project": {"id": gid, "mergeRequests": connection}}}
        mr = next(
            m
            for m in self.mrs.values()
            if m["project_id"] == project["id"] and str(m["iid"]) == variables["iid"]
        )
        notes = sorted(self.notes.get(mr["id"], []), key=lambda n: n["id"])
        data = {
            "notes": self._connection(notes, nested, variables.get("after"), self._note_node),
            "commits": self._connection(
                self.commits.get(mr["id"], []), nested, variables.get("after"), self._commit_node
            ),
        }
        return 200, {}, {"data": {"project": {"mergeRequest": data}}}


def gitlab_fixture(seed: int = 3) -> dict[str, list]:
    """One small generated GitLab group (team Payments): the newest version of every document, once."""
    from datetime import date

    from generator import GeneratorOptions, generate

    run = generate(
        GeneratorOptions(seed=seed, scale="small", teams=1, engineers=3, weeks=3, as_of=date(2026, 1, 9))
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
