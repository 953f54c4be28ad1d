"""GitLab REST v4 documents of one team: projects, MRs with notes and commits, pipelines and jobs,
deployments (with their MRs) and incidents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from generator.calendar import fmt_gitlab
from generator.model import Deployment, IssuePlan, Job, MRPlan, Note, Pipeline
from generator.org import GITLAB_BASE, GITLAB_GROUP, GitlabProject
from generator.simulate_gitlab import GitlabSim
from warehouse.records import RawRecord


def _ts(t: dt.datetime | None) -> str | None:
    return None if t is None else fmt_gitlab(t)


def project_doc(project: GitlabProject, slug: str, team_name: str, group_id: int, last: dt.datetime) -> dict:
    return {
        "id": project.id,
        "description": f"{team_name} {project.name} service",
        "name": project.name,
        "name_with_namespace": f"acme / {team_name} / {project.name}",
        "path": project.name,
        "path_with_namespace": project.path_with_namespace,
        "created_at": fmt_gitlab(project.created_at),
        "default_branch": "main",
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": f"git@gitlab.acme.io:{project.path_with_namespace}.git",
        "http_url_to_repo": f"{project.web_url}.git",
        "web_url": project.web_url,
        "namespace": {
            "id": group_id,
            "name": team_name,
            "path": slug,
            "kind": "group",
            "full_path": f"{GITLAB_GROUP}/{slug}",
            "parent_id": 100,
            "web_url": f"{GITLAB_BASE}/groups/{GITLAB_GROUP}/{slug}",
        },
        "visibility": "internal",
        "archived": False,
        "last_activity_at": fmt_gitlab(last),
    }


def mr_doc(mr: MRPlan, at: dt.datetime, notes_count: int) -> dict:
    merged = mr.merged if mr.merged and mr.merged < at else None
    closed = mr.closed if mr.closed and mr.closed < at else None
    draft = mr.draft and mr.ready >= at
    times = [mr.created] + [t for t in mr.commit_times if t < at]
    times += [
        t for t in (mr.ready, mr.first_review, mr.approved, mr.self_approved, merged, closed) if t and t < at
    ]
    shas = [sha for t, sha in zip(mr.commit_times, mr.shas, strict=False) if t < at] or mr.shas[:1]
    author = mr.author.gitlab()
    merger = (mr.merged_by or mr.author).gitlab() if merged else None
    full = f"{mr.project.path_with_namespace}!{mr.iid}"
    return {
        "id": mr.id,
        "iid": mr.iid,
        "project_id": mr.project.id,
        "title": f"Draft: {mr.title}" if draft else mr.title,
        "description": mr.description,
        "state": "merged" if merged else "closed" if closed else "opened",
        "created_at": fmt_gitlab(mr.created),
        "updated_at": fmt_gitlab(max(times)),
        "merged_by": merger,
        "merge_user": merger,
        "merged_at": _ts(merged),
        "closed_by": author if closed else None,
        "closed_at": _ts(closed),
        "target_branch": "main",
        "source_branch": mr.source_branch,
        "user_notes_count": notes_count,
        "upvotes": 0,
        "downvotes": 0,
        "author": author,
        "assignees": [author],
        "assignee": author,
        "reviewers": [mr.reviewer.gitlab()] if mr.reviewer and mr.ready < at else [],
        "source_project_id": mr.project.id,
        "target_project_id": mr.project.id,
        "labels": list(mr.labels),
        "draft": draft,
        "work_in_progress": draft,
        "milestone": None,
        "merge_when_pipeline_succeeds": False,
        "merge_status": "can_be_merged",
        "detailed_merge_status": "mergeable" if not merged else "not_open",
        "sha": shas[-1],
        "merge_commit_sha": mr.merge_sha if merged else None,
        "squash_commit_sha": None,
        "discussion_locked": None,
        "should_remove_source_branch": None,
        "force_remove_source_branch": True,
        "reference": f"!{mr.iid}",
        "references": {"short": f"!{mr.iid}", "relative": f"!{mr.iid}", "full": full},
        "web_url": f"{mr.project.web_url}/-/merge_requests/{mr.iid}",
        "time_stats": {
            "time_estimate": 0,
            "total_time_spent": 0,
            "human_time_estimate": None,
            "human_total_time_spent": None,
        },
        "squash": False,
        "task_completion_status": {"count": 0, "completed_count": 0},
        "has_conflicts": False,
        "blocking_discussions_resolved": True,
        "diff_stats": {"additions": mr.additions, "deletions": mr.deletions, "file_count": mr.files},
    }


def note_doc(n: Note) -> dict:
    return {
        "id": n.id,
        "type": "DiffNote" if n.diff else None,
        "body": n.body,
        "attachment": None,
        "author": n.author.gitlab(),
        "created_at": fmt_gitlab(n.at),
        "updated_at": fmt_gitlab(n.at),
        "system": n.system,
        "noteable_id": n.mr.id,
        "noteable_type": "MergeRequest",
        "project_id": n.mr.project.id,
        "resolvable": n.diff,
        "resolved": False if n.diff else None,
        "confidential": False,
        "internal": False,
        "noteable_iid": n.mr.iid,
        "commands_changes": {},
    }


def commit_doc(mr: MRPlan, sha: str, t: dt.datetime, n: int) -> dict:
    title = (
        f"{mr.issue_key} {mr.title}"
        if (mr.issue_key and n == 0 and mr.key_placement == "title")
        else (mr.title if n == 0 else f"Address review feedback ({n})")
    )
    a = mr.author
    return {
        "id": sha,
        "short_id": sha[:8],
        "created_at": fmt_gitlab(t),
        "parent_ids": [],
        "title": title,
        "message": title + "\n",
        "author_name": a.display_name,
        "author_email": a.email,
        "authored_date": fmt_gitlab(t),
        "committer_name": a.display_name,
        "committer_email": a.email,
        "committed_date": fmt_gitlab(t),
        "trailers": {},
        "web_url": f"{mr.project.web_url}/-/commit/{sha}",
    }


def _status_doc(status: str) -> dict:
    return {
        "icon": f"status_{status}",
        "text": status.capitalize(),
        "label": status,
        "group": status,
        "tooltip": status,
        "has_details": True,
        "details_path": "",
        "illustration": None,
    }


def _job_at(j: Job, p: Pipeline, at: dt.datetime) -> tuple[str, dt.datetime | None, dt.datetime | None]:
    """A job's (status, started, finished) as the API shows it at ``at``."""
    if j.finished is not None and j.finished < at:
        return j.status, j.started, j.finished
    if j.started is not None and j.started < at:
        return "running", j.started, None
    if p.finished < at:
        return j.status, None, None  # skipped, or canceled before it started
    return "created", None, None  # a later stage of a running pipeline


def _pipeline_at(p: Pipeline, at: dt.datetime) -> tuple[str, dt.datetime | None, dt.datetime]:
    """A pipeline's (status, finished, updated) at ``at``: one still going then is ``running``."""
    if p.status == "skipped":
        return "skipped", None, p.created
    if p.finished < at:
        return p.status, p.finished, p.finished
    events = [p.started] + [t for j in p.jobs for t in (j.created, j.started, j.finished) if t and t < at]
    return "running", None, max(events)


def pipeline_doc(p: Pipeline, at: dt.datetime) -> dict:
    status, finished, updated = _pipeline_at(p, at)
    started = None if status == "skipped" else p.started
    return {
        "id": p.id,
        "iid": p.iid,
        "project_id": p.project.id,
        "sha": p.sha,
        "ref": p.ref,
        "status": status,
        "source": p.source,
        "created_at": fmt_gitlab(p.created),
        "updated_at": fmt_gitlab(updated),
        "web_url": f"{p.project.web_url}/-/pipelines/{p.id}",
        "before_sha": "0" * 40,
        "tag": False,
        "yaml_errors": None,
        "user": p.user.gitlab(),
        "started_at": _ts(started),
        "finished_at": _ts(finished),
        "committed_at": None,
        "duration": int((finished - p.started).total_seconds()) if finished and started else None,
        "queued_duration": 2 if started else None,
        "coverage": None,
        "detailed_status": _status_doc(status),
        "name": None,
    }


def job_doc(j: Job, p: Pipeline, at: dt.datetime) -> dict:
    """``GET /projects/:id/pipelines/:id/jobs`` item. Current GitLab job documents have no ``retried`` key: a
    retried attempt is a job of the same name in the same pipeline, created when the earlier one failed."""
    status, started, finished = _job_at(j, p, at)
    dur = (finished - started).total_seconds() if started and finished else None
    queued = (started - j.created).total_seconds() if started else None
    return {
        "id": j.id,
        "status": status,
        "stage": j.stage,
        "name": j.name,
        "ref": p.ref,
        "tag": False,
        "coverage": None,
        "allow_failure": False,
        "created_at": fmt_gitlab(j.created),
        "started_at": _ts(started),
        "finished_at": _ts(finished),
        "erased_at": None,
        "duration": None if dur is None else round(dur, 3),
        "queued_duration": None if queued is None else round(queued, 3),
        "user": p.user.gitlab(),
        "failure_reason": j.failure_reason if status == "failed" else None,
        "commit": {"id": p.sha, "short_id": p.sha[:8]},
        "pipeline": {
            "id": p.id,
            "project_id": p.project.id,
            "ref": p.ref,
            "sha": p.sha,
            "status": _pipeline_at(p, at)[0],
        },
        "web_url": f"{p.project.web_url}/-/jobs/{j.id}",
        "artifacts": [],
        "runner": None,
        "tag_list": [],
        "artifacts_expire_at": None,
    }


def deployment_doc(d: Deployment, at: dt.datetime) -> dict:
    """A deployment at ``at``: the status of its job then (running while the job runs, created before it
    starts). Some successful ones carry no ``finished_at`` (``reports_finished``; older API records)."""
    p, j = d.pipeline, d.job
    job_status, started, job_finished = _job_at(j, p, at)
    status = {"success": "success", "running": "running", "created": "created"}.get(job_status, "failed")
    if job_status == "canceled":
        status = "canceled"
    finished = job_finished or started or p.created
    return {
        "id": d.id,
        "iid": d.iid,
        "ref": p.ref,
        "sha": p.sha,
        "status": status,
        "created_at": fmt_gitlab(p.created),
        "updated_at": fmt_gitlab(finished),
        "finished_at": fmt_gitlab(finished) if status == "success" and d.reports_finished else None,
        "user": d.user.gitlab(),
        "environment": {
            "id": d.env_id,
            "name": d.env_name,
            "slug": d.env_name,
            "tier": d.tier,
            "external_url": f"https://{d.env_name}.{d.project.name}.acme.io",
        },
        "deployable": {
            "id": j.id,
            "status": job_status,
            "stage": j.stage,
            "name": j.name,
            "ref": p.ref,
            "created_at": fmt_gitlab(j.created),
            "started_at": _ts(started),
            "finished_at": _ts(job_finished),
            "pipeline": {"id": p.id, "sha": p.sha, "ref": p.ref, "status": _pipeline_at(p, at)[0]},
        },
    }


def incident_doc(inc: IssuePlan, issue_id: int, iid: int, at: dt.datetime) -> dict:
    """A GitLab incident (``GET /projects/:id/issues?issue_type=incident`` item) of a team that files its
    incidents in GitLab: the same planned incident as the Jira OPS issue, closed when it is resolved."""
    assert inc.project is not None
    closed = inc.finished if inc.finished and inc.finished < at else None
    times = [t for t, _ in inc.statuses if t < at] + [t for t, _ in inc.assignees if t < at]
    assignees = [person.gitlab() for _, person in inc.assignees[-1:] if person is not None]
    full = f"{inc.project.path_with_namespace}#{iid}"
    return {
        "id": issue_id,
        "iid": iid,
        "project_id": inc.project.id,
        "title": inc.summary,
        "description": inc.description,
        "state": "closed" if closed else "opened",
        "created_at": fmt_gitlab(inc.created),
        "updated_at": fmt_gitlab(max(times, default=inc.created)),
        "closed_at": _ts(closed),
        "closed_by": assignees[0] if closed and assignees else None,
        "labels": list(inc.labels),
        "milestone": None,
        "assignees": assignees,
        "assignee": assignees[0] if assignees else None,
        "author": inc.reporter.gitlab(),
        "type": "INCIDENT",
        "issue_type": "incident",
        "user_notes_count": 0,
        "upvotes": 0,
        "downvotes": 0,
        "due_date": None,
        "confidential": False,
        "discussion_locked": None,
        "web_url": f"{inc.project.web_url}/-/issues/{iid}",
        "references": {"short": f"#{iid}", "relative": f"#{iid}", "full": full},
        "time_stats": {
            "time_estimate": 0,
            "total_time_spent": 0,
            "human_time_estimate": None,
            "human_total_time_spent": None,
        },
        "severity": "UNKNOWN",
    }


def incident_records(g: GitlabSim) -> Iterator[RawRecord]:
    """The team's incidents as GitLab incidents: ids and per-project iids in the order they were opened."""
    iids: dict[int, int] = {}
    for inc in sorted(g.incidents, key=lambda i: (i.created, i.id)):
        assert inc.project is not None
        iids[inc.project.id] = iids.get(inc.project.id, 0) + 1
        doc = incident_doc(inc, g.sim.ids.next("gitlab_issue"), iids[inc.project.id], g.cutoff)
        yield RawRecord("gitlab_issues", doc, str(inc.project.id))


def gitlab_records(g: GitlabSim) -> Iterator[RawRecord]:
    """All GitLab documents of one team, with the planted duplicates."""
    sim, rng, at, start = g.sim, g.rng, g.cutoff, g.sim.window.start_dt
    team = sim.team
    last: dict[int, dt.datetime] = {p.id: p.created_at for p in team.projects}
    notes_by_mr: dict[int, list[Note]] = {}
    for n in g.notes:
        notes_by_mr.setdefault(n.mr.id, []).append(n)
    n_notes = {mr_id: sum(1 for n in notes if not n.system) for mr_id, notes in notes_by_mr.items()}
    for mr in sim.mrs:
        if mr.created >= at:
            continue
        doc = mr_doc(mr, at, n_notes.get(mr.id, 0))
        if doc["updated_at"] < fmt_gitlab(start):
            continue  # finished before the window
        last[mr.project.id] = max(
            last[mr.project.id], max(t for t in [mr.created, *mr.commit_times] if t < at)
        )
        pid = str(mr.project.id)
        yield RawRecord("gitlab_merge_requests", doc, pid)
        if rng.random() < 0.03 and (mr.merged or mr.closed):  # an older version delivered after the newer one
            old_at = mr.ready if mr.draft and mr.ready < at else mr.created + dt.timedelta(minutes=1)
            yield RawRecord("gitlab_merge_requests", mr_doc(mr, old_at, 0), pid)
        for n in sorted(notes_by_mr.get(mr.id, ()), key=lambda x: x.id):
            yield RawRecord("gitlab_mr_notes", note_doc(n), str(mr.id))
            if rng.random() < 0.01:
                yield RawRecord("gitlab_mr_notes", note_doc(n), str(mr.id))
        for k, (t, sha) in enumerate(zip(mr.commit_times, mr.shas, strict=False)):
            if t < at:
                yield RawRecord("gitlab_mr_commits", commit_doc(mr, sha, t, k), str(mr.id))
    for p in g.pipelines:
        if p.finished < start or p.created >= at:
            continue
        last[p.project.id] = max(last[p.project.id], _pipeline_at(p, at)[2])
        yield RawRecord("gitlab_pipelines", pipeline_doc(p, at), str(p.project.id))
        for j in p.jobs:
            if j.created < at:
                yield RawRecord("gitlab_jobs", job_doc(j, p, at), str(p.id))
    for d in g.deployments:
        if d.pipeline.finished < start or d.pipeline.created >= at:
            continue
        doc = deployment_doc(d, at)
        yield RawRecord("gitlab_deployments", doc, str(d.project.id))
        if d.link_mrs and d.tier == "production" and doc["status"] == "success":
            for mr in d.mrs:
                yield RawRecord(
                    "gitlab_deployment_merge_requests", mr_doc(mr, at, n_notes.get(mr.id, 0)), str(d.id)
                )
    for project in team.projects:
        yield RawRecord(
            "gitlab_projects",
            project_doc(project, team.slug, team.name, team.group_id, last[project.id]),
            None,
        )
