"""GitLab connector (gitlab.com and self-managed): REST v4 document shapes, whatever API fetched them.

Why each API:
* **Merge requests: GraphQL** (``POST /api/graphql``, ``Authorization: Bearer``). One query per page returns
  the MRs with their notes (system notes included: approvals, draft -> ready), commits, labels, reviewers and
  diff stats; REST would need four calls per MR (MR, notes, commits, diffs for line counts). Cursor paging
  (``pageInfo { endCursor hasNextPage }``, ``first`` <= 100): MRs 20 at a time with 50 of each nested
  connection, under the complexity limit. An MR with more gets follow-up queries in which **every nested
  connection pages with its own cursor variable** (``$notesAfter``, ``$commitsAfter``, ...): GitLab refuses
  a cursor minted by another connection. ``mergeRequests`` is keyset-paged on (updated_at, id) by GitLab,
  so an MR updated during the sync is listed again later, never skipped. Notes of merged and closed MRs
  are collected like any other: ``updatedAfter`` selects MRs, not notes.
* **Pipelines and jobs: REST** (``/projects/:id/pipelines`` then ``/pipelines/:id`` and
  ``/pipelines/:id/jobs?include_retried=true``): every job attempt, the retried ones included, with
  durations, in one call per pipeline, which retry-waste metrics need. (Current GitLab versions send no
  ``retried`` flag: a retried attempt is a job of the pipeline that is not the newest of its name.)
* **Deployments: REST** (``/projects/:id/deployments``): the deployment -> merge requests relation
  (``/deployments/:id/merge_requests``) exists only in REST.
* **Incidents: REST** (``/projects/:id/issues?issue_type=incident``): GitLab incident management's
  incidents, the same documents as ordinary issues, one list call per page.

REST lists are read in **time windows**, never by offset: ``order_by=updated_at&sort=asc``, always
``page=1``, the next window from ``updated_after`` = the newest ``updated_at`` listed minus a tie margin,
documents already seen in the same version skipped. Offset pages are computed at request time, so an update
during a sync shifts the rest left and ``page=2`` skips documents; a window starting at a time cannot skip
(an updated document moves to a later window). Keyset pagination is not offered for these lists. Only a
block of documents sharing one ``updated_at`` (within the margin) larger than a page is paged on by offset.

Watermarks (one per project and object kind in ``app.sync_state``, committed with each window) are the
newest ``updated_at`` **of the listing**, the key it is sorted on, never a detail document's (which can be
newer): a sync stopped part-way resumes from where its listing was.

A per-item 404 (a pipeline deleted after its list page, an MR gone between its pages, a deployment gone)
leaves that item out with a note in the summary; the sync goes on. A ``--full`` sync without ``--since``
reconciles deletions: raw MRs, pipelines, deployments and incidents of the project that the listing did not
return (and that nobody stored while it ran) are asked for one by one; a 404 moves them, with their notes,
commits, jobs or shipped-MR relations, to ``app.deleted_documents``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
from psycopg import sql

from connectors.http import ApiClient, ConnectorError, RetryPolicy
from connectors.state import (
    SyncSummary,
    commit_page,
    database_now,
    mark_deleted,
    mark_run,
    mark_stopped,
    watermark,
)
from warehouse.records import RawRecord
from warehouse.settings import ConnectorSettings, GitlabSettings
from warehouse.timestamps import parse_source_timestamp

SOURCE = "gitlab"
MR_PAGE = 20
NESTED_PAGE = 50
REST_MAX_PAGE = 100  # GitLab's largest per_page
TIE_MARGIN = timedelta(seconds=1)  # a window starts this long before the newest updated_at of the last one
MAX_LIST_REQUESTS = 100_000  # a listing that never ends is an error, not an endless loop
# The first window of an unbounded listing: GitLab wants an ``updated_at`` sort paired with an ``updated_at``
# filter (the deployments API reports the unpaired query as inefficient and plans to refuse it).
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Progress = Callable[[str, int], None]

USER = "id username name"
PAGE_INFO = "pageInfo { endCursor hasNextPage }"
# The nested connections of a merge request, each paged with its own cursor, and what is asked of a node.
NESTED: dict[str, str] = {
    "notes": f"id body system createdAt updatedAt author {{ {USER} }}",
    "commits": "sha shortId title message authoredDate committedDate authorName authorEmail",
    "labels": "title",
    "reviewers": USER,
}
# How a node of each nested connection is told apart (a repeated node is kept once).
NESTED_KEY: dict[str, str] = {"notes": "id", "commits": "sha", "labels": "title", "reviewers": "id"}


def _nested_selection(name: str, arguments: str) -> str:
    return f"{name}({arguments}) {{ {PAGE_INFO} nodes {{ {NESTED[name]} }} }}"


MR_QUERY = f"""
query($fullPath: ID!, $after: String, $updatedAfter: Time, $first: Int!, $nested: Int!) {{
  project(fullPath: $fullPath) {{
    id
    mergeRequests(updatedAfter: $updatedAfter, first: $first, after: $after, sort: UPDATED_ASC) {{
      {PAGE_INFO}
      nodes {{
        id iid title description state draft sourceBranch targetBranch webUrl
        createdAt updatedAt mergedAt closedAt mergeCommitSha diffHeadSha
        author {{ {USER} }} mergeUser {{ {USER} }}
        diffStatsSummary {{ additions deletions fileCount }}
        headPipeline {{ id iid status sha ref }}
        {" ".join(_nested_selection(name, "first: $nested") for name in NESTED)}
      }}
    }}
  }}
}}
"""


def more_query(names: Iterable[str]) -> str:
    """The follow-up query of one MR for the nested connections ``names``, each with its own cursor
    variable (``$notesAfter``, ``$commitsAfter``, ...): a cursor only pages the connection that minted it."""
    names = tuple(names)
    declared = "".join(f", ${name}After: String!" for name in names)
    selections = " ".join(_nested_selection(name, f"first: $nested, after: ${name}After") for name in names)
    return (
        f"query($fullPath: ID!, $iid: String!, $nested: Int!{declared}) {{\n"
        f"  project(fullPath: $fullPath) {{ mergeRequest(iid: $iid) {{ {selections} }} }}\n}}\n"
    )


# What a --full sync reconciles: per object kind, its raw table and the child tables archived with it.
RECONCILED: dict[str, tuple[str, tuple[str, ...]]] = {
    "merge_requests": ("gitlab_merge_requests", ("gitlab_mr_commits", "gitlab_mr_notes")),
    "pipelines": ("gitlab_pipelines", ("gitlab_jobs",)),
    "deployments": ("gitlab_deployments", ("gitlab_deployment_merge_requests",)),
    "incidents": ("gitlab_issues", ()),
}


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


def _stamp(value: Any) -> datetime | None:
    try:
        return parse_source_timestamp(value)
    except ValueError:
        return None


def _newest(values: Iterable[Any]) -> datetime | None:
    return max((stamp for stamp in map(_stamp, values) if stamp), default=None)


def _query_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _unique(items: Iterable[Any], key: str) -> list[Any]:
    """Items in order, each kept once (the last version of a repeated one)."""
    kept: dict[Any, Any] = {}
    for position, item in enumerate(items):
        marker = item.get(key) if isinstance(item, dict) else None
        kept[marker if marker is not None else ("#", position)] = item
    return list(kept.values())


def _has_next(response: httpx.Response, count: int, per_page: int) -> bool:
    next_page = response.headers.get("x-next-page")
    if next_page is not None:
        return next_page.strip().isdigit()
    link = response.headers.get("link")
    if link is not None:
        return 'rel="next"' in link
    return count >= per_page


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

    @property
    def per_page(self) -> int:
        return max(1, min(self.behaviour.page_size, REST_MAX_PAGE))

    # ------------------------------------------------------------------ paging
    def _rest_pages(self, path: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """Offset pages, for the relation lists of one object (a pipeline's jobs, a deployment's merge
        requests): they only grow while read (a retried job is a new job), which can repeat an item (kept
        once) but not skip one, and a change to them changes their pipeline, which is then listed again.
        Lists of a project's objects are read in time windows (:meth:`_updated_windows`)."""
        page = 1
        for _ in range(MAX_LIST_REQUESTS):
            response = self.client.request(
                "GET", path, params={**params, "page": page, "per_page": self.per_page}
            )
            items = response.json() or []
            yield items
            if not _has_next(response, len(items), self.per_page):
                return
            next_page = response.headers.get("x-next-page", "").strip()
            page = int(next_page) if next_page.isdigit() else page + 1
        raise ConnectorError(f"GET {path}: no last page after {MAX_LIST_REQUESTS} pages")

    def _rest_all(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [item for page in self._rest_pages(path, params) for item in page]

    def _updated_windows(
        self, path: str, start: datetime | None, filters: dict[str, Any] | None = None
    ) -> Iterator[tuple[list[dict[str, Any]], datetime | None]]:
        """A REST list oldest update first, from ``start``, in time windows: each request is ``page=1`` of
        ``updated_after`` = the newest ``updated_at`` listed so far minus :data:`TIE_MARGIN`. Yields the
        documents not seen before in the same version, and the newest ``updated_at`` the request listed (the
        watermark it earns). A document updated while the list is read moves to a later window: offset
        pages would shift and skip documents, windows cannot. Only when a whole page lies within the tie
        margin of its newest document does it page on by offset under the same ``updated_after``."""
        seen: dict[str, Any] = {}
        floor, page = start or EPOCH, 1
        first_listed: datetime | None = None  # the oldest updated_at listed under the current floor
        for _ in range(MAX_LIST_REQUESTS):
            params: dict[str, Any] = {
                **(filters or {}),
                "order_by": "updated_at",
                "sort": "asc",
                "page": page,
                "per_page": self.per_page,
                "updated_after": _query_time(floor),
            }
            response = self.client.request("GET", path, params=params)
            items = [item for item in (response.json() or []) if isinstance(item, dict)]
            fresh = []
            for item in items:
                key, version = str(item.get("id")), item.get("updated_at")
                if key in seen and seen[key] == version:
                    continue
                seen[key] = version
                fresh.append(item)
            stamps = [stamp for stamp in (_stamp(item.get("updated_at")) for item in items) if stamp]
            newest = max(stamps, default=None)
            yield fresh, newest
            if not _has_next(response, len(items), self.per_page):
                return
            if page == 1 or first_listed is None:
                first_listed = min(stamps, default=None)
            following = None if newest is None else newest - TIE_MARGIN
            if following is not None and first_listed is not None and following > first_listed:
                floor, page, first_listed = following, 1, None
            else:
                page += 1  # the whole page is within the tie margin: page on under the same floor
        raise ConnectorError(f"GET {path}: no last page after {MAX_LIST_REQUESTS} requests")

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
        return body.get("data") or {}

    def _get_or_none(self, path: str) -> Any:
        """The document at ``path``, or None when GitLab answers 404."""
        try:
            return self.client.get_json(path)
        except ConnectorError as exc:
            if exc.status == 404:
                return None
            raise

    # ------------------------------------------------------------------ projects
    def projects(self) -> list[dict[str, Any]]:
        if self.settings.projects:
            return [
                self.client.get_json(f"/api/v4/projects/{quote(path, safe='')}")
                for path in self.settings.projects
            ]
        group = quote(str(self.settings.group), safe="")
        return self._rest_all(
            f"/api/v4/groups/{group}/projects", {"include_subgroups": "true", "order_by": "id", "sort": "asc"}
        )

    def sync(
        self,
        conn: psycopg.Connection,
        *,
        full: bool = False,
        since: datetime | None = None,
        progress: Progress | None = None,
    ) -> SyncSummary:
        summary = SyncSummary()
        # the project listing is a run of its own scope: commit_page records watermarks, not run statuses
        summary.notes += mark_run(conn, SOURCE, "projects", "running")
        try:
            projects = self.projects()
            records = [RawRecord("gitlab_projects", project) for project in projects]
            summary.add(commit_page(conn, SOURCE, "projects", records, None))
            mark_run(conn, SOURCE, "projects", "succeeded")
        except BaseException as exc:
            mark_stopped(conn, SOURCE, "projects", exc)
            raise
        for project in projects:
            for kind, method in (
                ("merge_requests", self._sync_merge_requests),
                ("pipelines", self._sync_pipelines),
                ("deployments", self._sync_deployments),
                ("incidents", self._sync_incidents),
            ):
                scope = f"{kind}:{project['path_with_namespace']}"
                summary.notes += mark_run(conn, SOURCE, scope, "running")
                try:
                    started = database_now(conn)
                    start = self._start(conn, scope, full=full, since=since)
                    listed: set[str] = set()
                    summary.add(method(conn, project, scope, start, listed, progress))
                    # deletions can only be told from an unbounded listing
                    if full and start is None:
                        summary.add(self._reconcile(conn, kind, project, listed, started))
                    elif full:
                        summary.notes.append(
                            f"gitlab {project['path_with_namespace']} {kind}: deletions were not looked for: "
                            "the listing was bounded by --since"
                        )
                    mark_run(conn, SOURCE, scope, "succeeded")
                except BaseException as exc:
                    mark_stopped(conn, SOURCE, scope, exc)
                    raise
        return summary

    def _start(
        self, conn: psycopg.Connection, scope: str, *, full: bool, since: datetime | None
    ) -> datetime | None:
        if since is not None:
            return since
        if full:
            return None
        mark = watermark(conn, SOURCE, scope)
        return None if mark is None else mark - timedelta(minutes=self.behaviour.overlap_minutes)

    @staticmethod
    def _skip(summary: SyncSummary, note: str) -> None:
        summary.skipped += 1
        summary.notes.append(note)

    # ------------------------------------------------------------------ merge requests (GraphQL)
    def _sync_merge_requests(
        self,
        conn: psycopg.Connection,
        project: dict[str, Any],
        scope: str,
        start: datetime | None,
        listed: set[str],
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
                    "updatedAfter": None if start is None else _query_time(start),
                    "first": MR_PAGE,
                    "nested": NESTED_PAGE,
                },
            )
            connection = ((data.get("project") or {}).get("mergeRequests")) or {"nodes": [], "pageInfo": {}}
            nodes = [node for node in connection.get("nodes") or [] if isinstance(node, dict)]
            records: list[RawRecord] = []
            # follow-up queries of the MRs with more nested nodes, at most `concurrency` at a time
            complete = self._fan_out(lambda node: self._nested(path, node), nodes)
            for node, nested in zip(nodes, complete, strict=True):
                if nested is None:
                    self._skip(
                        summary,
                        f"gitlab {path}!{node.get('iid')}: gone while its notes and commits were read "
                        "(deleted?); left out",
                    )
                    continue
                document = mr_document({**node, **nested}, project_id, path)
                mr_id, iid = int(document["id"]), int(document["iid"])
                listed.add(str(mr_id))
                records.append(RawRecord("gitlab_merge_requests", document, str(project_id)))
                records += [
                    RawRecord("gitlab_mr_notes", note_document(n, mr_id, iid, project_id), str(mr_id))
                    for n in nested["notes"]["nodes"]
                ]
                records += [
                    RawRecord("gitlab_mr_commits", commit_document(c), str(mr_id))
                    for c in nested["commits"]["nodes"]
                ]
            # the watermark: the newest updatedAt listed (the connection's sort key), skipped MRs included
            summary.add(commit_page(conn, SOURCE, scope, records, _newest(n.get("updatedAt") for n in nodes)))
            if progress:
                progress(f"gitlab {path} merge requests", len(nodes))
            page_info = connection.get("pageInfo") or {}
            if not page_info.get("hasNextPage"):
                return summary
            after = _next_cursor(page_info, after, f"{path} mergeRequests")

    def _nested(self, path: str, node: dict[str, Any]) -> dict[str, dict[str, list[Any]]] | None:
        """Every node of the MR's nested connections (``{"notes": {"nodes": [...]}, ...}``), following up
        each connection that has more with its own cursor; None when the MR is gone meanwhile."""
        collected: dict[str, list[Any]] = {}
        cursors: dict[str, str] = {}
        for name in NESTED:
            connection = node.get(name) or {}
            collected[name] = list(connection.get("nodes") or [])
            info = connection.get("pageInfo") or {}
            if info.get("hasNextPage"):
                cursors[name] = _next_cursor(info, None, f"{path}!{node.get('iid')} {name}")
        while cursors:
            variables: dict[str, Any] = {"fullPath": path, "iid": str(node["iid"]), "nested": NESTED_PAGE}
            variables.update({f"{name}After": cursor for name, cursor in cursors.items()})
            data = self._graphql(more_query(cursors), variables)
            merge_request = (data.get("project") or {}).get("mergeRequest")
            if merge_request is None:
                return None
            following: dict[str, str] = {}
            for name, cursor in cursors.items():
                connection = merge_request.get(name) or {}
                collected[name] += connection.get("nodes") or []
                info = connection.get("pageInfo") or {}
                if info.get("hasNextPage"):
                    following[name] = _next_cursor(info, cursor, f"{path}!{node.get('iid')} {name}")
            cursors = following
        return {name: {"nodes": _unique(items, NESTED_KEY[name])} for name, items in collected.items()}

    # ------------------------------------------------------------------ pipelines and jobs (REST)
    def _sync_pipelines(
        self,
        conn: psycopg.Connection,
        project: dict[str, Any],
        scope: str,
        start: datetime | None,
        listed: set[str],
        progress: Progress | None,
    ) -> SyncSummary:
        summary = SyncSummary()
        project_id, path = int(project["id"]), project["path_with_namespace"]

        def pipeline(item: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
            base = f"/api/v4/projects/{project_id}/pipelines/{item['id']}"
            try:
                return self.client.get_json(base), self._rest_all(f"{base}/jobs", {"include_retried": "true"})
            except ConnectorError as exc:
                if exc.status == 404:
                    return None
                raise

        for page, newest in self._updated_windows(f"/api/v4/projects/{project_id}/pipelines", start):
            records: list[RawRecord] = []
            for item, found in zip(page, self._fan_out(pipeline, page), strict=True):
                if found is None:
                    self._skip(
                        summary,
                        f"gitlab {path} pipeline {item['id']}: answered 404 after it was listed (deleted); "
                        "left out",
                    )
                    continue
                detail, jobs = found
                listed.add(str(item["id"]))
                records.append(RawRecord("gitlab_pipelines", detail, str(project_id)))
                records += [RawRecord("gitlab_jobs", job, str(detail["id"])) for job in _unique(jobs, "id")]
            # the watermark is the listing's newest updated_at, never a detail's (fetched later, maybe newer)
            summary.add(commit_page(conn, SOURCE, scope, records, newest))
            if progress:
                progress(f"gitlab {path} pipelines", len(page))
        return summary

    # ------------------------------------------------------------------ deployments (REST)
    def _sync_deployments(
        self,
        conn: psycopg.Connection,
        project: dict[str, Any],
        scope: str,
        start: datetime | None,
        listed: set[str],
        progress: Progress | None,
    ) -> SyncSummary:
        summary = SyncSummary()
        project_id, path = int(project["id"]), project["path_with_namespace"]
        base = f"/api/v4/projects/{project_id}/deployments"

        def merge_requests(deployment: dict[str, Any]) -> tuple[bool, list[dict[str, Any]] | None]:
            """(the deployment still exists, the merge requests it shipped: None when GitLab has none)."""
            try:
                return True, self._rest_all(f"{base}/{deployment['id']}/merge_requests", {})
            except ConnectorError as exc:
                if exc.status != 404:
                    raise
            return self._get_or_none(f"{base}/{deployment['id']}") is not None, None

        for page, newest in self._updated_windows(base, start):
            shipped = [deployment for deployment in page if deployment.get("status") == "success"]
            relations = dict(
                zip([d["id"] for d in shipped], self._fan_out(merge_requests, shipped), strict=True)
            )
            records: list[RawRecord] = []
            for deployment in page:
                exists, mrs = relations.get(deployment["id"], (True, []))
                if not exists:
                    self._skip(
                        summary,
                        f"gitlab {path} deployment {deployment['id']}: answered 404 after it was listed "
                        "(deleted); left out",
                    )
                    continue
                if mrs is None:
                    summary.notes.append(
                        f"gitlab {path} deployment {deployment['id']}: its merge requests answered 404; "
                        "stored without them"
                    )
                listed.add(str(deployment["id"]))
                records.append(RawRecord("gitlab_deployments", deployment, str(project_id)))
                records += [
                    RawRecord("gitlab_deployment_merge_requests", mr, str(deployment["id"]))
                    for mr in _unique(mrs or [], "id")
                ]
            summary.add(commit_page(conn, SOURCE, scope, records, newest))
            if progress:
                progress(f"gitlab {path} deployments", len(page))
        return summary

    # ------------------------------------------------------------------ incidents (REST)
    def _sync_incidents(
        self,
        conn: psycopg.Connection,
        project: dict[str, Any],
        scope: str,
        start: datetime | None,
        listed: set[str],
        progress: Progress | None,
    ) -> SyncSummary:
        """GitLab incident management: issues of type ``incident``, open and closed (closed = resolved)."""
        summary = SyncSummary()
        project_id = int(project["id"])
        path = f"/api/v4/projects/{project_id}/issues"
        for page, newest in self._updated_windows(path, start, {"issue_type": "incident", "scope": "all"}):
            listed.update(str(issue["id"]) for issue in page)
            records = [RawRecord("gitlab_issues", issue, str(project_id)) for issue in page]
            summary.add(commit_page(conn, SOURCE, scope, records, newest))
            if progress:
                progress(f"gitlab {project['path_with_namespace']} incidents", len(page))
        return summary

    # ------------------------------------------------------------------ deletions (--full)
    def _reconcile(
        self,
        conn: psycopg.Connection,
        kind: str,
        project: dict[str, Any],
        listed: set[str],
        started: datetime,
    ) -> SyncSummary:
        """After an unbounded listing: the project's raw documents of this kind that were not listed (and
        that nobody stored while the listing ran) are asked for one by one. A 404 is a deletion: the document
        and its children move to ``app.deleted_documents``. One still there is kept (and, where the answer
        is the stored document's shape, stored as it is now)."""
        summary = SyncSummary()
        table, children = RECONCILED[kind]
        project_id, path = int(project["id"]), project["path_with_namespace"]
        rows = conn.execute(
            sql.SQL(
                "select source_id, payload from raw.{} "
                "where parent_id = %s and source <> 'synthetic' and ingested_at < %s"
            ).format(sql.Identifier(table)),
            (str(project_id), started),
        ).fetchall()
        # /projects/:id/pipelines never lists child pipelines (known from webhooks only): not a deletion
        candidates = [
            (str(source_id), payload)
            for source_id, payload in rows
            if str(source_id) not in listed
            and not (
                kind == "pipelines"
                and isinstance(payload, dict)
                and payload.get("source") == "parent_pipeline"
            )
        ]
        if not candidates:
            return summary
        found = self._fan_out(
            lambda candidate: self._now_at_source(kind, project_id, candidate[1]), candidates
        )
        gone = [source_id for (source_id, _), now in zip(candidates, found, strict=True) if now is None]
        still_there = [now for now in found if now is not None]
        if still_there:
            summary.notes.append(f"gitlab {path} {kind}: {len(still_there)} not listed but still there; kept")
            if kind != "merge_requests":  # REST MR documents lack what GraphQL gives (diff stats, ...)
                records = [RawRecord(table, document, str(project_id)) for document in still_there]
                summary.add(commit_page(conn, SOURCE, f"{kind}:{path}", records, None))
        # the document and its children in one call: each child row names its parent, so a newer document
        # restoring the parent also lifts its children's tombstones
        summary.deleted += mark_deleted(conn, table, gone, "reconciliation", children=children)
        return summary

    def _now_at_source(self, kind: str, project_id: int, payload: Any) -> Any:
        """The object as GitLab has it now; None when it answers 404 (deleted)."""
        document = payload if isinstance(payload, dict) else {}
        base = f"/api/v4/projects/{project_id}"
        if kind == "merge_requests":
            return self._get_or_none(f"{base}/merge_requests/{document.get('iid')}")
        if kind == "incidents":
            return self._get_or_none(f"{base}/issues/{document.get('iid')}")
        return self._get_or_none(f"{base}/{kind}/{document.get('id')}")


def _next_cursor(page_info: dict[str, Any], previous: str | None, what: str) -> str:
    cursor = page_info.get("endCursor")
    if not cursor or cursor == previous:
        raise ConnectorError(f"GitLab GraphQL {what}: hasNextPage without a new endCursor")
    return str(cursor)
