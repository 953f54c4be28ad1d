"""The unit every source (generator, connectors, webhooks) hands to the loader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RAW_TABLES: tuple[str, ...] = (
    "jira_issues",
    "jira_changelogs",
    "jira_sprints",
    "gitlab_projects",
    "gitlab_merge_requests",
    "gitlab_mr_notes",
    "gitlab_mr_commits",
    "gitlab_pipelines",
    "gitlab_jobs",
    "gitlab_deployments",
    "gitlab_deployment_merge_requests",
    "gitlab_issues",
)

SOURCES: tuple[str, ...] = ("synthetic", "jira_cloud", "gitlab", "webhook")


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One source document bound for ``raw.<table>``.

    ``payload`` is the document exactly as the source API returns it (a dict, or for a
    malformed delivery whatever arrived). ``parent_id`` carries request context the
    document itself may lack (see docs/raw-layer.md). ``origin`` says where it came from when
    that helps find it again (a file and line); ``problem``, when set, is why the source already
    knows it cannot be stored: the loader keeps it as a dead letter with that reason.
    """

    table: str
    payload: Any
    parent_id: str | None = None
    origin: str | None = None
    problem: str | None = None
