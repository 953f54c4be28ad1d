"""GitLab connector (gitlab.com and self-managed): REST v4 document shapes, whatever API fetched them.

Why each API:
* **Merge requests: GraphQL** (``POST /api/graphql``, ``Authorization: Bearer``). One query per page returns
  the MRs with their notes (system notes included: approvals, draft -> ready), commits and diff stats; REST
  would need four calls per MR (MR, notes, commits, diffs for line counts). Cursor pagination
  (``pageInfo { endCursor hasNextPage }``, ``first`` <= 100; MRs are asked 20 at a time with 50 nested
  notes and commits to stay under the complexity limit; an MR with more gets follow-up pages). Notes of
  merged and closed MRs are collected like any other: ``updatedAfter`` selects MRs, not notes.
* **Pipelines and jobs: REST** (``/projects/:id/pipelines`` then ``/pipelines/:id`` and
  ``/pipelines/:id/jobs?include_retried=true``): REST returns every job attempt, retried ones included, with
  ``retried`` flags and durations in one call per pipeline, which retry-waste metrics need.
* **Deployments: REST** (``/projects/:id/deployments``): the deployment -> merge requests relation
  (``/deployments/:id/merge_requests``) exists only in REST.
* **Incidents: REST** (``/projects/:id/issues?issue_type=incident``): GitLab incident management's
  incidents, the same documents as ordinary issues, one list call per page.
Offset pages are followed through ``x-next-page`` (or the ``Link: rel="next"`` header); incremental by
``updated_after`` = watermark - overlap, one watermark per project and object kind in ``app.sync_state``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import psycopg

from connectors.http import ApiClient, ConnectorError, RetryPolicy
from connectors.state import SyncSummary, commit_page, mark_run, watermark
from warehouse.records import RawRecord
from warehouse.settings import ConnectorSettings, GitlabSettings
from warehouse.timestamps import parse_source_timestamp

SOURCE = "gitlab"
MR_PAGE = 20
NESTED_PAGE = 50

Progress = Callable[[str, int], None]

USER = "id username name"
MR_QUERY = f"""
query($fullPath: ID!, $after: String, $updatedAfter: Time, $first: Int!, $nested: Int!) {{
  project(fullPath: $fullPath) {{
    id
    mergeRequests(updatedAfter: $updatedAfter, first: $first, after: $after, sort: UPDATED_ASC) {{
      pageInfo {{ endCursor hasNextPage }}
      nodes {{
        id iid title description state draft sourceBranch targetBranch webUrl
        createdAt updatedAt mergedAt closedAt mergeCommitSha diffHeadSha
        author {{ {USER} }} mergeUser {{ {USER} }}
        diffStatsSummary {{ additions deletions fileCount }}
        headPipeline {{ id iid status sha ref }}
        labels {{ nodes {{ title }} }}
        reviewers {{ nodes {{ {USER} }} }}
        notes(first: $nested) {{
          pageInfo {{ endCursor hasNextPage }}
          nodes {{ id body system createdAt updatedAt author {{ {USER} }} }}
        }}
        commits(first: $nested) {{
          pageInfo {{ endCursor hasNextPage }}
          nodes {{ sha shortId title message authoredDate committedDate authorName authorEmail }}
        }}
      }}
    }}
  }}
}}
"""
MORE_QUERY = """
query($fullPath: ID!, $iid: String!, $after: String, $nested: Int!) {
  project(fullPath: $fullPath) {
    mergeRequest(iid: $iid) {
      notes(first: $nested, after: $after) {
        pageInfo { endCursor hasNextPage }
        nodes { id body system createdAt updatedAt author { id username name } }
      }
      commits(first: $nested, after: $after) {
        pageInfo { endCursor hasNextPage }
        nodes { sha shortId title message authoredDate committedDate authorName authorEmail }
      }
    }
  }
}
"""


def gid(value: Any) -> int | None:
    """``gid://gitlab/MergeRequest/123`` -> 123."""
    if value is None:
        return None
    match = re.search(r"(\d+)$", str(value))
    return int(match.group(1)) if match else None


def _user(node: dict[str, Any] | None) -> dict[str, Any] | None:
    if not node:
        return None
    return {"id": gid(node.get("id")), "username": node.get("username"), "name": node.get("name")}


def mr_document(node: dict[str, Any], project_id: int, project_path: str) -> dict[str, Any]:
    """A GraphQL merge request as the REST v4 document of docs/raw-layer.md (plus diff_stats)."""
    stats = node.get("diffStatsSummary") or {}
    head = node.get("headPipeline")
    iid = int(node["iid"])
    return {
        "id": gid(node["id"]),
        "iid": iid,
        "project_id": project_id,
        "title": node.get("title"),
        "description": node.get("description"),
        "state": node.get("state"),
        "draft": bool(node.get("draft")),
        "work_in_progress": bool(node.get("draft")),
        "source_branch": node.get("sourceBranch"),
        "target_branch": node.get("targetBranch"),
        "author": _user(node.get("author")),
        "merged_by": _user(node.get("mergeUser")),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "merged_at": node.get("mergedAt"),
        "closed_at": node.get("closedAt"),
        "merge_commit_sha": node.get("mergeCommitSha"),
        "sha": node.get("diffHeadSha"),
        "labels": [label["title"] for label in (node.get("labels") or {}).get("nodes", [])],
        "reviewers": [_user(user) for user in (node.get("reviewers") or {}).get("nodes", [])],
        "web_url": node.get("webUrl"),
        "references": {"full": f"{project_path}!{iid}", "short": f"!{iid}"},
        "diff_stats": {
            "additions": stats.get("additions"),
            "deletions": stats.get("deletions"),
            "file_count": stats.get("fileCount"),
        },
        "head_pipeline": None
        if not head
        else {
            "id": gid(head.get("id")),
            "iid": int(head["iid"]) if head.get("iid") else None,
            "status": str(head.get("status") or "").lower() or None,
            "sha": head.get("sha"),
            "ref": head.get("ref"),
        },
    }


def note_document(node: dict[str, Any], mr_id: int, mr_iid: int, project_id: int) -> dict[str, Any]:
    return {
        "id": gid(node["id"]),
        "body": node.get("body"),
        "author": _user(node.get("author")),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt") or node.get("createdAt"),
        "system": bool(node.get("system")),
        "noteable_id": mr_id,
        "noteable_iid": mr_iid,
        "noteable_type": "MergeRequest",
        "project_id": project_id,
    }


def commit_document(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": node.get("sha"),
        "short_id": node.get("shortId") or (node.get("sha") or "")[:8],
        "title": node.get("title"),
        "message": node.get("message") or node.get("title"),
        "author_name": node.get("authorName"),
        "author_email": node.get("authorEmail"),
        "authored_date": node.get("authoredDate"),
        "committed_date": node.get("committedDate"),
    }


def _newest(documents: list[dict[str, Any]], key: str = "updated_at") -> datetime | None:
    stamps = [parse_source_timestamp(doc.get(key)) for doc in documents if doc.get(key)]
    return max((stamp for stamp in stamps if stamp), default=None)


class GitlabConnector:
    def __init__(
        self, settings: GitlabSettings, behaviour: ConnectorSettings, client: ApiClient | None = None
    ) -> None:
        if not settings.is_configured and client is None:
            raise ConnectorError(
                "GitLab is not configured: set HEIMDALL_GITLAB_TOKEN and HEIMDALL_GITLAB_PROJECTS "
                "(or HEIMDALL_GITLAB_GROUP); HEIMDALL_GITLAB_URL for self-managed instances"
            )
        self.settings = settings
        self.behaviour = behaviour
        self.client = client or ApiClient(
            settings.base_url,
            headers={"Authorization": f"Bearer {settings.token}", "Accept": "application/json"},
            policy=RetryPolicy(max_attempts=behaviour.max_attempts),
        )

    def check(self) -> str:
        me = self.client.get_json("/api/v4/user")
        return f"@{me.get('username')}"

    # ------------------------------------------------------------------ paging
    def _rest_pages(self, path: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        page: int | None = 1
        while page:
            response = self.client.request("GET", path, params={**params, "page": page, "per_page": 100})
            yield response.json()
            next_page = response.headers.get("x-next-page", "").strip()
            if next_page.isdigit():
                page = int(next_page)
            elif 'rel="next"' in response.headers.get("link", ""):
                page += 1
            else:
                page = None

    def _rest_all(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [item for page in self._rest_pages(path, params) for item in page]

    def _updated_pages(
        self, path: str, start: str | None, filters: dict[str, Any] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of a REST list oldest update first, from ``start`` (``updated_after``) when given."""
        params: dict[str, Any] = {**(filters or {}), "order_by": "updated_at", "sort": "asc"}
        if start:
            params["updated_after"] = start
        return self._rest_pages(path, params)

    def _fan_out(self, fetch: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """``fetch`` over ``items``, at most ``concurrency`` requests in flight, results in input order."""
        if len(items) <= 1 or self.behaviour.concurrency <= 1:
            return [fetch(item) for item in items]
        with ThreadPoolExecutor(max_workers=self.behaviour.concurrency) as pool:
            return list(pool.map(fetch, items))

    def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = self.client.post_json("/api/graphql", {"query": query, "variables": variables})
        if body.get("errors"):
            messages = "; ".join(str(error.get("message")) for error in body["errors"])
            raise ConnectorError(f"POST {self.settings.base_url}/api/graphql: {messages}")
        return body["data"]

    # ------------------------------------------------------------------ projects
    def projects(self) -> list[dict[str, Any]]:
        if self.settings.projects:
            return [
                self.client.get_json(f"/api/v4/projects/{quote(path, safe='')}")
                for path in self.settings.projects
            ]
        group = quote(str(self.settings.group), safe="")
        return self._rest_all(f"/api/v4/groups/{group}/projects", {"include_subgroups": "true"})

    def sync(
        self,
        conn: psycopg.Connection,
        *,
        full: bool = False,
        since: datetime | None = None,
        progress: Progress | None = None,
    ) -> SyncSummary:
        summary = SyncSummary()
        projects = self.projects()
        summary.add(
            commit_page(conn, SOURCE, "projects", [RawRecord("gitlab_projects", p) for p in projects], None)
        )
        for project in projects:
            for kind, method in (
                ("merge_requests", self._sync_merge_requests),
                ("pipelines", self._sync_pipelines),
                ("deployments", self._sync_deployments),
                ("incidents", self._sync_incidents),
            ):
                scope = f"{kind}:{project['path_with_namespace']}"
                mark_run(conn, SOURCE, scope, "running")
                try:
                    start = self._start(conn, scope, full=full, since=since)
                    summary.add(method(conn, project, scope, start, progress))
                    mark_run(conn, SOURCE, scope, "succeeded")
                except Exception as exc:
                    mark_run(conn, SOURCE, scope, "failed", str(exc)[:1000])
                    raise
        return summary

    def _start(
        self, conn: psycopg.Connection, scope: str, *, full: bool, since: datetime | None
    ) -> str | None:
        if since is not None:
            return since.isoformat()
        if full:
            return None
        mark = watermark(conn, SOURCE, scope)
        return (
            None if mark is None else (mark - timedelta(minutes=self.behaviour.overlap_minutes)).isoformat()
        )

    # ------------------------------------------------------------------ merge requests (GraphQL)
    def _sync_merge_requests(
        self,
        conn: psycopg.Connection,
        project: dict[str, Any],
        scope: str,
        start: str | None,
        progress: Progress | None,
    ) -> SyncSummary:
        summary = SyncSummary()
        path, project_id = project["path_with_namespace"], int(project["id"])
        after: str | None = None
        while True:
            data = self._graphql(
                MR_QUERY,
                {
                    "fullPath": path,
                    "after": after,
                    "updatedAfter": start,
                    "first": MR_PAGE,
                    "nested": NESTED_PAGE,
                },
            )
            connection = ((data.get("project") or {}).get("mergeRequests")) or {"nodes": [], "pageInfo": {}}
            records: list[RawRecord] = []
            documents = []
            for node in connection["nodes"]:
                document = mr_document(node, project_id, path)
                documents.append(document)
                mr_id, iid = int(document["id"]), int(document["iid"])
                records.append(RawRecord("gitlab_merge_requests", document, str(project_id)))
                notes, commits = self._nested(path, iid, node)
                records += [
                    RawRecord("gitlab_mr_notes", note_document(n, mr_id, iid, project_id), str(mr_id))
                    for n in notes
                ]
                records += [RawRecord("gitlab_mr_commits", commit_document(c), str(mr_id)) for c in commits]
            summary.add(commit_page(conn, SOURCE, scope, records, _newest(documents)))
            if progress:
                progress(f"gitlab {path} merge requests", len(documents))
            page_info = connection.get("pageInfo") or {}
            if not page_info.get("hasNextPage"):
                return summary
            after = page_info.get("endCursor")

    def _nested(self, path: str, iid: int, node: dict[str, Any]) -> tuple[list[dict], list[dict]]:
        collected: dict[str, list[dict]] = {}
        for field in ("notes", "commits"):
            connection = node.get(field) or {"nodes": [], "pageInfo": {}}
            items = list(connection["nodes"])
            info = connection.get("pageInfo") or {}
            while info.get("hasNextPage"):
                data = self._graphql(
                    MORE_QUERY,
                    {
                        "fullPath": path,
                        "iid": str(iid),
                        "after": info.get("endCursor"),
                        "nested": NESTED_PAGE,
                    },
                )
                more = data["project"]["mergeRequest"][field]
                items += more["nodes"]
                info = more.get("pageInfo") or {}
            collected[field] = items
        return collected["notes"], collected["commits"]

    # ------------------------------------------------------------------ pipelines and jobs (REST)
    def _sync_pipelines(
        self,
        conn: psycopg.Connection,
        project: dict[str, Any],
        scope: str,
        start: str | None,
        progress: Progress | None,
    ) -> SyncSummary:
        summary = SyncSummary()
        project_id = int(project["id"])

        def pipeline(listed: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            base = f"/api/v4/projects/{project_id}/pipelines/{listed['id']}"
            return self.client.get_json(base), self._rest_all(f"{base}/jobs", {"include_retried": "true"})

        for page in self._updated_pages(f"/api/v4/projects/{project_id}/pipelines", start):
            records: list[RawRecord] = []
            details = []
            for detail, jobs in self._fan_out(pipeline, page):
                details.append(detail)
                records.append(RawRecord("gitlab_pipelines", detail, str(project_id)))
                records += [RawRecord("gitlab_jobs", job, str(detail["id"])) for job in jobs]
            summary.add(commit_page(conn, SOURCE, scope, records, _newest(details)))
            if progress:
                progress(f"gitlab {project['path_with_namespace']} pipelines", len(details))
        return summary

    # ------------------------------------------------------------------ deployments (REST)
    def _sync_deployments(
        self,
        conn: psycopg.Connection,
        project: dict[str, Any],
        scope: str,
        start: str | None,
        progress: Progress | None,
    ) -> SyncSummary:
        summary = SyncSummary()
        project_id = int(project["id"])

        def merge_requests(deployment: dict[str, Any]) -> list[dict[str, Any]]:
            return self._rest_all(
                f"/api/v4/projects/{project_id}/deployments/{deployment['id']}/merge_requests", {}
            )

        for page in self._updated_pages(f"/api/v4/projects/{project_id}/deployments", start):
            records = [RawRecord("gitlab_deployments", deployment, str(project_id)) for deployment in page]
            shipped = [deployment for deployment in page if deployment.get("status") == "success"]
            for deployment, mrs in zip(shipped, self._fan_out(merge_requests, shipped), strict=True):
                records += [
                    RawRecord("gitlab_deployment_merge_requests", mr, str(deployment["id"])) for mr in mrs
                ]
            summary.add(commit_page(conn, SOURCE, scope, records, _newest(page)))
            if progress:
                progress(f"gitlab {project['path_with_namespace']} deployments", len(page))
        return summary

    # ------------------------------------------------------------------ incidents (REST)
    def _sync_incidents(
        self,
        conn: psycopg.Connection,
        project: dict[str, Any],
        scope: str,
        start: str | None,
        progress: Progress | None,
    ) -> SyncSummary:
        """GitLab incident management: issues of type ``incident``, open and closed (closed = resolved)."""
        summary = SyncSummary()
        project_id = int(project["id"])
        path = f"/api/v4/projects/{project_id}/issues"
        for page in self._updated_pages(path, start, {"issue_type": "incident", "scope": "all"}):
            records = [RawRecord("gitlab_issues", issue, str(project_id)) for issue in page]
            summary.add(commit_page(conn, SOURCE, scope, records, _newest(page)))
            if progress:
                progress(f"gitlab {project['path_with_namespace']} incidents", len(page))
        return summary
