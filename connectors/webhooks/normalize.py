"""Webhook payloads -> the raw-layer API document shapes (docs/raw-layer.md), so pushed updates flow through
the same loader and the same dbt models as API documents. Only fields the webhook really carries are set: the
loader merges a ``webhook`` document onto the stored one (top-level keys), so what a webhook lacks (an MR's
``diff_stats``, its author) keeps its API value."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from warehouse.records import RawRecord
from warehouse.timestamps import parse_source_timestamp


def iso(value: Any) -> Any:
    """A GitLab/Jira webhook timestamp in REST form (``2016-08-12T15:23:28.000Z``); unparseable values are
    passed through unchanged so the loader keeps the document as a dead letter with the reason."""
    if value is None:
        return None
    text = str(value)
    fixed = re.sub(r" ([+-]\d{2})(\d{2})$", r"\1:\2", text)  # "2021-04-28 21:50:00 +0200"
    try:
        parsed = parse_source_timestamp(fixed)
    except ValueError:
        return value
    assert parsed is not None
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _drop_none(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if value is not None}


def gitlab_records(event: str, payload: dict[str, Any]) -> list[RawRecord]:
    kind = payload.get("object_kind") or event
    attributes = payload.get("object_attributes") or {}
    project_id = (payload.get("project") or {}).get("id")
    if kind == "merge_request":
        document = _drop_none(
            {
                "id": attributes.get("id"),
                "iid": attributes.get("iid"),
                "project_id": attributes.get("target_project_id") or project_id,
                "title": attributes.get("title"),
                "description": attributes.get("description"),
                "state": attributes.get("state"),
                "draft": attributes.get("draft", attributes.get("work_in_progress")),
                "work_in_progress": attributes.get("work_in_progress"),
                "source_branch": attributes.get("source_branch"),
                "target_branch": attributes.get("target_branch"),
                "created_at": iso(attributes.get("created_at")),
                "updated_at": iso(attributes.get("updated_at")),
                "merge_commit_sha": attributes.get("merge_commit_sha"),
                "sha": (attributes.get("last_commit") or {}).get("id"),
                "web_url": attributes.get("url"),
                "labels": [label.get("title") for label in attributes.get("labels") or []] or None,
            }
        )
        if attributes.get("state") == "merged" and attributes.get("action") == "merge":
            document["merged_at"] = iso(attributes.get("updated_at"))
        return [RawRecord("gitlab_merge_requests", document, str(document.get("project_id") or ""))]
    if kind == "note" and attributes.get("noteable_type") == "MergeRequest":
        merge_request = payload.get("merge_request") or {}
        user = payload.get("user") or {}
        document = _drop_none(
            {
                "id": attributes.get("id"),
                "body": attributes.get("note"),
                "author": {"id": user.get("id"), "username": user.get("username"), "name": user.get("name")},
                "created_at": iso(attributes.get("created_at")),
                "updated_at": iso(attributes.get("updated_at")),
                "system": bool(attributes.get("system")),
                "noteable_id": merge_request.get("id") or attributes.get("noteable_id"),
                "noteable_iid": merge_request.get("iid"),
                "noteable_type": "MergeRequest",
            }
        )
        return [RawRecord("gitlab_mr_notes", document, str(document.get("noteable_id") or ""))]
    if kind == "pipeline":
        pipeline = _drop_none(
            {
                "id": attributes.get("id"),
                "iid": attributes.get("iid"),
                "project_id": project_id,
                "sha": attributes.get("sha"),
                "ref": attributes.get("ref"),
                "status": attributes.get("status"),
                "source": attributes.get("source"),
                "created_at": iso(attributes.get("created_at")),
                "updated_at": iso(attributes.get("finished_at") or attributes.get("created_at")),
                "finished_at": iso(attributes.get("finished_at")),
                "duration": attributes.get("duration"),
                "queued_duration": attributes.get("queued_duration"),
                "web_url": attributes.get("url"),
            }
        )
        records = [RawRecord("gitlab_pipelines", pipeline, str(project_id))]
        for build in payload.get("builds") or []:
            job = _drop_none(
                {
                    "id": build.get("id"),
                    "name": build.get("name"),
                    "stage": build.get("stage"),
                    "status": build.get("status"),
                    "allow_failure": build.get("allow_failure"),
                    "created_at": iso(build.get("created_at")),
                    "started_at": iso(build.get("started_at")),
                    "finished_at": iso(build.get("finished_at")),
                    "duration": build.get("duration"),
                    "queued_duration": build.get("queued_duration"),
                    "failure_reason": build.get("failure_reason"),
                    "pipeline": {"id": pipeline.get("id"), "project_id": project_id},
                }
            )
            records.append(RawRecord("gitlab_jobs", job, str(pipeline.get("id"))))
        return records
    if kind == "deployment":
        changed = iso(payload.get("status_changed_at"))
        sha = str(payload.get("commit_url") or "").rstrip("/").rsplit("/", 1)[-1] or None
        document = _drop_none(
            {
                "id": payload.get("deployment_id"),
                "status": payload.get("status"),
                "sha": sha,
                "updated_at": changed,
                "finished_at": changed if payload.get("status") == "success" else None,
                "environment": {"name": payload.get("environment"), "tier": payload.get("environment_tier")},
            }
        )
        return [RawRecord("gitlab_deployments", document, str(project_id))]
    if kind in ("issue", "work_item") and _is_incident(attributes):
        iid = attributes.get("iid")
        path = (payload.get("project") or {}).get("path_with_namespace")
        labels = attributes.get("labels") or payload.get("labels") or []
        document = _drop_none(
            {
                "id": attributes.get("id"),
                "iid": iid,
                "project_id": attributes.get("project_id") or project_id,
                "title": attributes.get("title"),
                "description": attributes.get("description"),
                "state": attributes.get("state"),
                "issue_type": "incident",
                "type": "INCIDENT",
                "labels": [label.get("title") if isinstance(label, dict) else label for label in labels]
                or None,
                "created_at": iso(attributes.get("created_at")),
                "updated_at": iso(attributes.get("updated_at")),
                "web_url": attributes.get("url"),
                "references": {"full": f"{path}#{iid}"} if path and iid is not None else None,
            }
        )
        # closed_at is always set, null included: a reopened incident must not keep its old closing time
        document["closed_at"] = (
            iso(attributes.get("closed_at")) if attributes.get("state") == "closed" else None
        )
        return [RawRecord("gitlab_issues", document, str(document.get("project_id") or ""))]
    return []  # push, tag, ordinary issue, ... events are kept in raw.webhook_events only


def _is_incident(attributes: dict[str, Any]) -> bool:
    """Issue events name the work item type in ``object_attributes.type`` (``Incident``); older GitLab
    versions only in ``issue_type``, or by the incident-only ``escalation_status``."""
    kind = str(attributes.get("type") or attributes.get("issue_type") or "").lower()
    return kind == "incident" or (not kind and "escalation_status" in attributes)


def jira_event_time(payload: dict[str, Any]) -> datetime | None:
    """When a Jira event happened at the source: its payload ``timestamp`` (epoch milliseconds), or None when
    the payload carries no usable one."""
    stamp = payload.get("timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, int | float):
        return None
    try:
        return datetime.fromtimestamp(stamp / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def jira_records(payload: dict[str, Any]) -> tuple[list[RawRecord], str | None]:
    """Documents of a Jira webhook, and the id of an issue it deletes (``jira:issue_deleted``)."""
    event = payload.get("webhookEvent")
    issue = payload.get("issue")
    if not isinstance(issue, dict) or "id" not in issue:
        return [], None
    if event == "jira:issue_deleted":
        return [], str(issue["id"])
    if event not in ("jira:issue_created", "jira:issue_updated"):
        return [], None
    document = {key: value for key, value in issue.items() if key != "changelog"}
    records = [RawRecord("jira_issues", document)]
    changelog = payload.get("changelog")
    if isinstance(changelog, dict) and changelog.get("id") and changelog.get("items"):
        stamp = payload.get("timestamp")
        created = (
            datetime.fromtimestamp(stamp / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
            if isinstance(stamp, int | float)
            else (issue.get("fields") or {}).get("updated")
        )
        history = {
            "id": str(changelog["id"]),
            "author": payload.get("user"),
            "created": created,
            "items": changelog["items"],
        }
        records.append(RawRecord("jira_changelogs", history, parent_id=str(issue["id"])))
    return records, None
