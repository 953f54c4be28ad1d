"""Jira Cloud connector: issues, full change histories and sprints, in exactly the raw-layer shapes.

* Issues: ``GET /rest/api/3/search/jql`` with ``nextPageToken`` (no ``total``: stop when the token is
  absent or ``isLast``), ``ORDER BY updated ASC``, asking only for the fields the warehouse reads. The custom
  fields (sprint, flag, team) are the ids dbt reads them with: the settings ``HEIMDALL_JIRA_SPRINT_FIELD``,
  ``..._FLAGGED_FIELD``, ``..._TEAM_FIELD``, else the dbt project's vars
  (:func:`warehouse.dbt_vars.jira_field_ids`).
* Change history: ``POST /rest/api/3/changelog/bulkfetch`` for the issues of a page (up to 1,000 issue ids a
  call, ``nextPageToken`` paging); where that endpoint is missing (404/405/410/501) or refuses the call (400),
  ``GET /rest/api/3/issue/{key}/changelog`` (startAt / maxResults / isLast) per issue, with bounded
  concurrency. Both give the same history documents. ``expand=changelog`` is never used (it truncates).
  An issue whose changelog answers 404 was deleted (or hidden) while the sync ran: it is left out of the page
  with a note, and the sync goes on.
* Sprints: ``GET /rest/agile/1.0/board/{id}/sprint`` (startAt / isLast) for each configured board.
* Incremental: per project, JQL ``updated >= <watermark - overlap>``; JQL reads dates in the API user's time
  zone, so the watermark is written in the zone ``/rest/api/3/myself`` reports. A page and its watermark are
  committed together. An expired ``nextPageToken`` restarts the search from the newest ``updated`` this run
  has listed (minus the overlap), so a restart never skips what lies between the stored watermark and here.
* Deleted issues: only a ``--full`` sync without ``--since`` (an unbounded listing) looks for them. Raw issues
  of the project it did not list (and that no one stored while it ran) are asked for one by one with
  ``GET /rest/api/3/issue/{id}``: a 404 is a deletion (moved to ``app.deleted_documents`` with the change
  histories, leaving a tombstone), anything found is stored as it is now (e.g. moved to another project).
  The webhook ``jira:issue_deleted`` deletes one issue the same way.
* Auth: email + API token (basic), from settings; never logged.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

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
from warehouse.dbt_vars import jira_field_ids
from warehouse.records import RawRecord
from warehouse.settings import PROJECT_ROOT, ConnectorSettings, JiraSettings
from warehouse.timestamps import parse_source_timestamp

SOURCE = "jira_cloud"
STANDARD_FIELDS = (
    "summary",
    "status",
    "issuetype",
    "project",
    "assignee",
    "reporter",
    "created",
    "updated",
    "resolutiondate",
    "resolution",
    "labels",
    "priority",
    "description",
)
MAX_TOKEN_RESTARTS = 3
BULK_ISSUES = 1000  # issue ids per bulkfetch call: the endpoint's limit
BULK_PAGE = 1000  # change histories per bulkfetch page: the endpoint's default page
BULK_MAX_PAGES = 10_000  # a page token that never ends is an error, not an endless loop
BULK_FALLBACK = frozenset({400, 404, 405, 410, 501})  # answers after which histories are fetched per issue
BULK_MISSING = frozenset({405, 410, 501})  # answers that say the endpoint is not there at all

Progress = Callable[[str, int], None]


class JiraConnector:
    def __init__(
        self,
        settings: JiraSettings,
        behaviour: ConnectorSettings,
        client: ApiClient | None = None,
        *,
        dbt_project_dir: Path | None = None,
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
        self.field_ids = jira_field_ids(
            settings.sprint_field,
            settings.flagged_field,
            settings.team_field,
            dbt_project_dir or PROJECT_ROOT / "dbt",
        )
        self.fields = ",".join(dict.fromkeys((*STANDARD_FIELDS, *self.field_ids.values())))
        self.bulk_available = True  # until the bulk changelog endpoint says it is not there
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
        summary.notes += mark_run(conn, SOURCE, scope, "running")
        try:
            run_started = database_now(conn)
            start = self._start(conn, scope, full=full, since=since)
            # deletions can only be told from an unbounded listing: what a bounded one leaves out still exists
            reconcile = full and start is None
            if full and not reconcile:
                summary.notes.append(
                    f"jira {project}: deleted issues were not looked for: the listing was bounded by --since"
                )
            listed: set[str] = set()
            gone_mid_sync: set[str] = set()
            restarts = 0
            token: str | None = None
            position: datetime | None = None  # the newest `updated` this run has listed
            query_start = start
            overlap = timedelta(minutes=self.behaviour.overlap_minutes)
            while True:
                params: dict[str, Any] = {
                    "jql": self._jql(project, query_start),
                    "fields": self.fields,
                    "maxResults": self.behaviour.page_size,
                }
                if token:
                    params["nextPageToken"] = token
                try:
                    page = self.client.get_json("/rest/api/3/search/jql", params)
                except ConnectorError as exc:
                    if token and exc.status == 400 and restarts < MAX_TOKEN_RESTARTS:
                        # the page token expired: list again from where this listing was (never from the
                        # stored watermark, which may be far ahead of it on a --full run)
                        restarts += 1
                        token = None
                        if position is not None:
                            resume = position - overlap
                            query_start = resume if start is None else max(start, resume)
                        continue
                    raise
                issues = [issue for issue in page.get("issues") or [] if issue is not None]
                listed |= {str(i["id"]) for i in issues if isinstance(i, dict) and "id" in i}
                records, page_summary, gone = self._issue_records(issues)
                gone_mid_sync |= gone
                newest = max((_updated(issue) for issue in issues), default=None, key=_sort_key)
                summary.add(page_summary)
                summary.add(commit_page(conn, SOURCE, scope, records, newest))
                if newest is not None and (position is None or newest > position):
                    position = newest
                if progress:
                    progress(f"jira {project}", len(issues))
                token = page.get("nextPageToken")
                if not token or page.get("isLast") is True:
                    break
            # The paged listing can shift under updates and deletions (a page token may be an offset): list
            # the same query's ids once more (up to 5,000 a page) and fetch what the pages left out.
            complete = self._listed_ids(project, start)
            missed = sorted(complete - listed)
            if missed:
                summary.add(self._fetch_missed(conn, project, scope, missed))
            # listed, but gone from the query by now (or its changelog answered 404): deleted during the sync,
            # or moved to another project; asked for one by one, like the reconciliation does
            vanished = sorted(((listed - complete) | gone_mid_sync) - set(missed))
            if vanished:
                summary.add(self._settle(conn, project, scope, vanished, "sync"))
            if reconcile:
                summary.add(self._reconcile(conn, project, scope, listed | complete, run_started))
            mark_run(conn, SOURCE, scope, "succeeded")
        except BaseException as exc:
            mark_stopped(conn, SOURCE, scope, exc)
            raise
        return summary

    def _listed_ids(self, project: str, start: datetime | None) -> set[str]:
        """The ids the listing's query matches now (ids only: up to 5,000 a page)."""
        for _ in range(MAX_TOKEN_RESTARTS + 1):
            ids: set[str] = set()
            token: str | None = None
            try:
                while True:
                    params: dict[str, Any] = {
                        "jql": self._jql(project, start),
                        "fields": "id",
                        "maxResults": 5000,
                    }
                    if token:
                        params["nextPageToken"] = token
                    page = self.client.get_json("/rest/api/3/search/jql", params)
                    ids |= {
                        str(i["id"]) for i in page.get("issues") or [] if isinstance(i, dict) and "id" in i
                    }
                    token = page.get("nextPageToken")
                    if not token or page.get("isLast") is True:
                        return ids
            except ConnectorError as exc:
                if not (token and exc.status == 400):
                    raise
        raise ConnectorError(f"jira {project}: the id listing's page token kept expiring")

    def _fetch_missed(
        self, conn: psycopg.Connection, project: str, scope: str, missed: list[str]
    ) -> SyncSummary:
        """Issues the query matches that the paged listing did not return: fetched one by one, stored with
        their change histories (without moving the watermark)."""
        with ThreadPoolExecutor(max_workers=max(1, self.behaviour.concurrency)) as pool:
            found = [issue for issue in pool.map(self._issue_now, missed) if issue is not None]
        records, summary, _ = self._issue_records(found)
        summary.add(commit_page(conn, SOURCE, scope, records, None))
        summary.notes.append(
            f"jira {project}: {len(found)} issue(s) the paged listing skipped (it shifted while it was read) "
            "were fetched one by one"
        )
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

    def _issue_records(self, issues: list[Any]) -> tuple[list[RawRecord], SyncSummary, set[str]]:
        """The page's issue documents and their change histories; issues whose changelog answered 404 are
        left out (with a note in the summary) and returned as the third value."""
        summary = SyncSummary()
        valid = [i for i in issues if isinstance(i, dict) and i.get("key") and i.get("id")]
        histories = self.changelogs(valid)
        gone = {str(issue["id"]) for issue in valid if histories.get(str(issue["id"])) is None}
        records: list[RawRecord] = []
        for issue in issues:
            if isinstance(issue, dict) and str(issue.get("id")) in gone:
                summary.skipped += 1
                summary.notes.append(
                    f"jira {issue.get('key')}: its changelog answered 404 (deleted or hidden while the sync "
                    "ran); left out"
                )
                continue
            document = dict(issue) if isinstance(issue, dict) else issue
            if isinstance(document, dict):
                document.pop("changelog", None)  # never the truncated embedded history
            records.append(RawRecord("jira_issues", document))
        for issue in valid:
            issue_id = str(issue["id"])
            records += [
                RawRecord("jira_changelogs", item, parent_id=issue_id)
                for item in histories.get(issue_id) or []
            ]
        return records, summary, gone

    # ------------------------------------------------------------------ change histories
    def changelogs(self, issues: list[dict[str, Any]]) -> dict[str, list[Any] | None]:
        """Every change history of these issues, by issue id (``None``: the issue answered 404). Bulk where
        the site has ``/rest/api/3/changelog/bulkfetch``, per issue otherwise."""
        if not issues:
            return {}
        failed: int | None = None
        if self.bulk_available:
            try:
                found: dict[str, list[Any] | None] = {}
                for start in range(0, len(issues), BULK_ISSUES):
                    found.update(
                        self._bulk_changelogs([str(i["id"]) for i in issues[start : start + BULK_ISSUES]])
                    )
                return found
            except ConnectorError as exc:
                if exc.status not in BULK_FALLBACK:
                    raise
                failed = exc.status
        with ThreadPoolExecutor(max_workers=max(1, self.behaviour.concurrency)) as pool:
            each = list(pool.map(lambda issue: self.changelog(str(issue["key"])), issues))
        result = {str(issue["id"]): history for issue, history in zip(issues, each, strict=True)}
        if failed in BULK_MISSING or (failed is not None and all(h is not None for h in each)):
            # the bulk endpoint is not there (or refuses even when every issue exists): per issue from now on
            self.bulk_available = False
        return result

    def _bulk_changelogs(self, issue_ids: list[str]) -> dict[str, list[Any] | None]:
        collected: dict[str, dict[str, Any]] = {issue_id: {} for issue_id in issue_ids}
        token: str | None = None
        for _ in range(BULK_MAX_PAGES):
            body: dict[str, Any] = {"issueIdsOrKeys": issue_ids, "maxResults": BULK_PAGE}
            if token:
                body["nextPageToken"] = token
            page = self.client.post_json("/rest/api/3/changelog/bulkfetch", body)
            for entry in (page or {}).get("issueChangeLogs") or []:
                if not isinstance(entry, dict) or str(entry.get("issueId")) not in collected:
                    continue
                histories = collected[str(entry.get("issueId"))]
                for history in entry.get("changeHistories") or []:
                    key = str(history.get("id")) if isinstance(history, dict) else repr(history)
                    histories[key] = _history_document(history)
            following = (page or {}).get("nextPageToken")
            if not following:
                return {issue_id: list(histories.values()) for issue_id, histories in collected.items()}
            if following == token:
                raise ConnectorError(
                    "POST /rest/api/3/changelog/bulkfetch answered the same page token twice"
                )
            token = str(following)
        raise ConnectorError(
            f"POST /rest/api/3/changelog/bulkfetch did not finish within {BULK_MAX_PAGES} pages"
        )

    def changelog(self, key: str) -> list[dict[str, Any]] | None:
        """Every change history of one issue, oldest first; ``None`` when the issue answers 404."""
        histories: list[dict[str, Any]] = []
        start_at = 0
        while True:
            try:
                page = self.client.get_json(
                    f"/rest/api/3/issue/{key}/changelog", {"startAt": start_at, "maxResults": 100}
                )
            except ConnectorError as exc:
                if exc.status == 404:
                    return None
                raise
            values = page.get("values") or []
            histories += values
            start_at += len(values)
            if page.get("isLast", True) or not values:
                return histories

    # ------------------------------------------------------------------ deletions
    def _reconcile(
        self, conn: psycopg.Connection, project: str, scope: str, seen: set[str], run_started: datetime
    ) -> SyncSummary:
        """After an unbounded listing: raw issues of the project that were not listed (and not stored by
        someone else while this run listed) are looked up one by one; a 404 is a deletion."""
        rows = conn.execute(
            "select source_id from raw.jira_issues "
            "where payload -> 'fields' -> 'project' ->> 'key' = %s and ingested_at < %s",
            (project, run_started),
        ).fetchall()
        candidates = sorted({str(row[0]) for row in rows} - seen)
        return (
            self._settle(conn, project, scope, candidates, "reconciliation") if candidates else SyncSummary()
        )

    def _settle(
        self, conn: psycopg.Connection, project: str, scope: str, issue_ids: list[str], detected_by: str
    ) -> SyncSummary:
        """Ask Jira for each issue: one that answers 404 is deleted (with its change histories, leaving a
        tombstone); one still there (moved to another project, say) is stored as it is now."""
        summary = SyncSummary()
        with ThreadPoolExecutor(max_workers=max(1, self.behaviour.concurrency)) as pool:
            found = list(pool.map(self._issue_now, issue_ids))
        gone = [issue_id for issue_id, issue in zip(issue_ids, found, strict=True) if issue is None]
        still_there = [issue for issue in found if issue is not None]
        if still_there:
            records = [RawRecord("jira_issues", issue) for issue in still_there]
            summary.add(commit_page(conn, SOURCE, scope, records, None))
            summary.notes.append(
                f"jira {project}: {len(still_there)} issue(s) no longer listed in the project still exist "
                "(moved?); stored as they are now"
            )
        summary.deleted += mark_deleted(conn, "jira_issues", gone, detected_by, children="jira_changelogs")
        return summary

    def _issue_now(self, issue_id: str) -> dict[str, Any] | None:
        try:
            issue = self.client.get_json(f"/rest/api/3/issue/{issue_id}", {"fields": self.fields})
        except ConnectorError as exc:
            if exc.status == 404:
                return None
            raise
        if isinstance(issue, dict):
            issue.pop("changelog", None)
            return issue
        return None

    # ------------------------------------------------------------------ sprints
    def sync_sprints(
        self, conn: psycopg.Connection, board: str, progress: Progress | None = None
    ) -> SyncSummary:
        scope = f"sprints:board:{board}"
        summary = SyncSummary()
        summary.notes += mark_run(conn, SOURCE, scope, "running")
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
        except BaseException as exc:
            mark_stopped(conn, SOURCE, scope, exc)
            raise
        return summary


def _history_document(history: Any) -> Any:
    """A bulkfetch change history as ``GET /issue/{key}/changelog`` gives it. The bulk endpoint's OpenAPI
    example has ``created`` as an epoch number; the per-issue endpoint (and everything downstream) has Jira's
    timestamp text, so a number becomes that text (in UTC). Anything else is kept verbatim."""
    if not isinstance(history, dict) or not isinstance(history.get("created"), int | float):
        return history
    if isinstance(history.get("created"), bool):
        return history
    number = float(history["created"])
    seconds = number / 1000 if abs(number) >= 1e11 else number  # milliseconds (Jira's way), else seconds
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"
    return {**history, "created": text}


def _updated(issue: Any) -> datetime | None:
    if not isinstance(issue, dict):
        return None
    try:
        return parse_source_timestamp(issue.get("fields", {}).get("updated"))
    except ValueError:
        return None


def _sort_key(value: datetime | None) -> float:
    return value.timestamp() if value else float("-inf")
