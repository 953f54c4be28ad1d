"""Jira Cloud connector: issues, full change histories and sprints, in exactly the raw-layer shapes.

* Issues: ``GET /rest/api/3/search/jql`` with ``nextPageToken`` (no ``total``: stop when the token is
  absent or ``isLast``), ``ORDER BY updated ASC``, asking only for the fields the warehouse reads.
* Change history: ``GET /rest/api/3/issue/{key}/changelog`` (startAt / maxResults / isLast) for every issue
  of a page, with bounded concurrency; ``expand=changelog`` is never used (it truncates at 20 histories).
* Sprints: ``GET /rest/agile/1.0/board/{id}/sprint`` (startAt / isLast) for each configured board.
* Incremental: per project, JQL ``updated >= <watermark - overlap>``; JQL reads dates in the API user's time
  zone, so the watermark is written in the zone ``/rest/api/3/myself`` reports. A page and its watermark are
  committed together. An expired ``nextPageToken`` restarts the search from the committed watermark.
* Deleted issues: a ``--full`` sync lists every issue id of the project and moves raw issues Jira no longer
  has (with their change histories) to ``app.deleted_documents``; the webhook ``jira:issue_deleted`` does the
  same for one issue.
* Auth: email + API token (basic), from settings; never logged.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from connectors.http import ApiClient, ConnectorError, RetryPolicy
from connectors.state import SyncSummary, commit_page, mark_deleted, mark_run, watermark
from warehouse.records import RawRecord
from warehouse.settings import ConnectorSettings, JiraSettings
from warehouse.timestamps import parse_source_timestamp

SOURCE = "jira_cloud"
FIELDS = (
    "summary,status,issuetype,project,assignee,reporter,created,updated,resolutiondate,resolution,labels,"
    "priority,description,customfield_10020,customfield_10021,customfield_10001"
)
MAX_TOKEN_RESTARTS = 3

Progress = Callable[[str, int], None]


class JiraConnector:
    def __init__(
        self, settings: JiraSettings, behaviour: ConnectorSettings, client: ApiClient | None = None
    ) -> None:
        if not settings.is_configured and client is None:
            raise ConnectorError(
                "Jira is not configured: set HEIMDALL_JIRA_URL, HEIMDALL_JIRA_EMAIL, HEIMDALL_JIRA_API_TOKEN "
                "and HEIMDALL_JIRA_PROJECTS"
            )
        self.settings = settings
        self.behaviour = behaviour
        self.client = client or ApiClient(
            str(settings.base_url),
            auth=(str(settings.email), str(settings.api_token)),
            headers={"Accept": "application/json"},
            policy=RetryPolicy(max_attempts=behaviour.max_attempts),
        )
        self._zone: ZoneInfo | None = None

    def check(self) -> str:
        """Authenticate without fetching data: who the token belongs to."""
        me = self.client.get_json("/rest/api/3/myself")
        self._zone = ZoneInfo(me.get("timeZone") or "UTC")
        return f"{me.get('displayName') or me.get('emailAddress') or 'unknown user'} ({self._zone.key})"

    @property
    def zone(self) -> ZoneInfo:
        if self._zone is None:
            self.check()
        assert self._zone is not None
        return self._zone

    def sync(
        self,
        conn: psycopg.Connection,
        *,
        full: bool = False,
        since: datetime | None = None,
        progress: Progress | None = None,
    ) -> SyncSummary:
        summary = SyncSummary()
        for project in self.settings.projects:
            summary.add(self.sync_project(conn, project, full=full, since=since, progress=progress))
        for board in self.settings.boards:
            summary.add(self.sync_sprints(conn, board, progress=progress))
        return summary

    # ------------------------------------------------------------------ issues
    def _jql(self, project: str, start: datetime | None) -> str:
        clauses = [f'project = "{project}"']
        if start is not None:
            local = start.astimezone(self.zone)
            clauses.append(f'updated >= "{local:%Y/%m/%d %H:%M}"')
        return " AND ".join(clauses) + " ORDER BY updated ASC"

    def sync_project(
        self,
        conn: psycopg.Connection,
        project: str,
        *,
        full: bool = False,
        since: datetime | None = None,
        progress: Progress | None = None,
    ) -> SyncSummary:
        scope = f"issues:{project}"
        summary = SyncSummary()
        mark_run(conn, SOURCE, scope, "running")
        try:
            seen_ids: set[str] = set()
            restarts = 0
            token: str | None = None
            start = self._start(conn, scope, full=full, since=since)
            while True:
                params: dict[str, Any] = {
                    "jql": self._jql(project, start),
                    "fields": FIELDS,
                    "maxResults": self.behaviour.page_size,
                }
                if token:
                    params["nextPageToken"] = token
                try:
                    page = self.client.get_json("/rest/api/3/search/jql", params)
                except ConnectorError as exc:
                    if token and exc.status == 400 and restarts < MAX_TOKEN_RESTARTS:
                        restarts += 1  # the page token expired: resume from what is committed
                        token, start = None, self._start(conn, scope, full=False, since=since)
                        continue
                    raise
                issues = page.get("issues") or []
                seen_ids |= {str(i["id"]) for i in issues if isinstance(i, dict) and "id" in i}
                records = self._issue_records(issues)
                newest = max((_updated(issue) for issue in issues), default=None, key=_sort_key)
                summary.add(commit_page(conn, SOURCE, scope, records, newest))
                if progress:
                    progress(f"jira {project}", len(issues))
                token = page.get("nextPageToken")
                if not token or page.get("isLast") is True:
                    break
            if full:
                summary.deleted += self._reconcile(conn, project, seen_ids)
            mark_run(conn, SOURCE, scope, "succeeded")
        except Exception as exc:
            mark_run(conn, SOURCE, scope, "failed", str(exc)[:1000])
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

    def _issue_records(self, issues: list[Any]) -> list[RawRecord]:
        records: list[RawRecord] = []
        valid = [i for i in issues if isinstance(i, dict) and i.get("key") and i.get("id")]
        with ThreadPoolExecutor(max_workers=max(1, self.behaviour.concurrency)) as pool:
            histories = list(pool.map(lambda issue: self.changelog(str(issue["key"])), valid))
        for issue in issues:
            document = dict(issue) if isinstance(issue, dict) else issue
            if isinstance(document, dict):
                document.pop("changelog", None)  # never the truncated embedded history
            records.append(RawRecord("jira_issues", document))
        for issue, history in zip(valid, histories, strict=True):
            records += [RawRecord("jira_changelogs", item, parent_id=str(issue["id"])) for item in history]
        return records

    def changelog(self, key: str) -> list[dict[str, Any]]:
        histories: list[dict[str, Any]] = []
        start_at = 0
        while True:
            page = self.client.get_json(
                f"/rest/api/3/issue/{key}/changelog", {"startAt": start_at, "maxResults": 100}
            )
            values = page.get("values") or []
            histories += values
            start_at += len(values)
            if page.get("isLast", True) or not values:
                return histories

    def _reconcile(self, conn: psycopg.Connection, project: str, seen_ids: set[str]) -> int:
        rows = conn.execute(
            "select source_id from raw.jira_issues "
            "where source = %s and payload -> 'fields' -> 'project' ->> 'key' = %s",
            (SOURCE, project),
        ).fetchall()
        gone = sorted({row[0] for row in rows} - seen_ids)
        return mark_deleted(conn, "jira_issues", gone, "reconciliation", children="jira_changelogs")

    # ------------------------------------------------------------------ sprints
    def sync_sprints(
        self, conn: psycopg.Connection, board: str, progress: Progress | None = None
    ) -> SyncSummary:
        scope = f"sprints:board:{board}"
        mark_run(conn, SOURCE, scope, "running")
        summary = SyncSummary()
        start_at = 0
        try:
            while True:
                page = self.client.get_json(
                    f"/rest/agile/1.0/board/{board}/sprint", {"startAt": start_at, "maxResults": 50}
                )
                values = page.get("values") or []
                records = [RawRecord("jira_sprints", sprint, parent_id=str(board)) for sprint in values]
                summary.add(commit_page(conn, SOURCE, scope, records, None))
                if progress:
                    progress(f"jira board {board}", len(values))
                start_at += len(values)
                if page.get("isLast", True) or not values:
                    break
            mark_run(conn, SOURCE, scope, "succeeded")
        except Exception as exc:
            mark_run(conn, SOURCE, scope, "failed", str(exc)[:1000])
            raise
        return summary


def _updated(issue: Any) -> datetime | None:
    if not isinstance(issue, dict):
        return None
    try:
        return parse_source_timestamp(issue.get("fields", {}).get("updated"))
    except ValueError:
        return None


def _sort_key(value: datetime | None) -> float:
    return value.timestamp() if value else float("-inf")
