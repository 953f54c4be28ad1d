"""Jira Cloud REST v3 documents of one team: sprints, issues (without changelog) and changelog histories."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from random import Random
from typing import TypeVar

from generator.calendar import fmt_agile, fmt_jira
from generator.model import IssuePlan, Sprint
from generator.org import CATEGORY_NAMES, JIRA_BASE, OPS_KEY, OPS_PROJECT_ID, STATUSES, Person, Team
from warehouse.records import RawRecord

SPRINT_FIELD = "customfield_10020"
FLAGGED_FIELD = "customfield_10021"
TEAM_FIELD = "customfield_10001"
FLAG_VALUE = [{"id": "10019", "value": "Impediment"}]
ISSUE_TYPES = {"Story": "10001", "Bug": "10004", "Task": "10002", "Incident": "10010"}
PRIORITIES = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4"}
RESOLUTIONS = {"Done": "10000", "Won't Do": "10001"}
CHANGELOG_EPOCH = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"

Item = dict[str, object]
T = TypeVar("T")


def status_doc(name: str) -> dict:
    sid, cat, _ = STATUSES[name]
    cid, cname, color = CATEGORY_NAMES[cat]
    return {
        "self": f"{JIRA_BASE}/rest/api/3/status/{sid}",
        "description": "",
        "iconUrl": f"{JIRA_BASE}/images/s.png",
        "name": name,
        "id": sid,
        "statusCategory": {
            "self": f"{JIRA_BASE}/rest/api/3/statuscategory/{cid}",
            "id": int(cid),
            "key": cat,
            "colorName": color,
            "name": cname,
        },
    }


def sprint_doc(s: Sprint, at: dt.datetime) -> dict:
    state = s.state_at(at)
    doc: dict[str, object] = {
        "id": s.id,
        "self": f"{JIRA_BASE}/rest/agile/1.0/sprint/{s.id}",
        "state": state,
        "name": s.name,
        "startDate": fmt_agile(s.start),
        "endDate": fmt_agile(s.end),
    }
    doc["completeDate"] = fmt_agile(s.complete) if state == "closed" else None
    doc["originBoardId"] = s.board_id
    doc["goal"] = s.goal
    return doc


def _issue_sprint(s: Sprint, at: dt.datetime) -> dict:
    d = sprint_doc(s, at)
    return {
        "id": s.id,
        "name": s.name,
        "state": d["state"],
        "boardId": s.board_id,
        "goal": s.goal,
        "startDate": d["startDate"],
        "endDate": d["endDate"],
        "completeDate": d.get("completeDate"),
    }


def _paragraph(lines: list[str]) -> dict:
    inline: list[dict] = []
    for line in lines:
        if inline:
            inline.append({"type": "hardBreak"})
        inline.append({"type": "text", "text": line})
    return {"type": "paragraph", "content": inline}


def _adf(text: str) -> dict:
    """An Atlassian Document Format body: blank-line separated paragraphs (line breaks are ``hardBreak``s);
    the ``- `` lines of a block become a bullet list after its other lines."""
    content: list[dict] = []
    for block in text.split("\n\n"):
        lines = block.split("\n")
        items = [line[2:] for line in lines if line.startswith("- ")]
        plain = [line for line in lines if not line.startswith("- ")]
        if plain:
            content.append(_paragraph(plain))
        if items:
            content.append(
                {
                    "type": "bulletList",
                    "content": [
                        {
                            "type": "listItem",
                            "content": [_paragraph([item])],
                        }
                        for item in items
                    ],
                }
            )
    return {"type": "doc", "version": 1, "content": content}


def _last(events: Sequence[tuple[dt.datetime, T]], at: dt.datetime, default: T) -> T:
    """The value of the last event before ``at`` (``default`` when there is none)."""
    value = default
    for t, v in events:
        if t < at:
            value = v
    return value


def issue_updated(issue: IssuePlan, at: dt.datetime) -> dt.datetime:
    times = [issue.created]
    for events in (issue.statuses, issue.assignees, issue.flags, issue.sprints):
        times += [t for t, _ in events if t < at]
    return max(times)


def issue_doc(issue: IssuePlan, team: Team, sprints: dict[int, Sprint], at: dt.datetime) -> dict:
    """The issue as ``GET /rest/api/3/issue`` returns it at ``at``, timestamps in the team's Jira zone."""
    zone = team.jira_time_zone
    status = str(_last(issue.statuses, at, issue.statuses[0][1]))
    cat = STATUSES[status][1]
    assignee = _last(issue.assignees, at, None)
    sprint_ids = _last(issue.sprints, at, ())
    resolution = resolved = None
    cat_change = issue.created
    prev_cat = STATUSES[issue.statuses[0][1]][1]
    for t, name in issue.statuses:
        if t >= at:
            break
        c = STATUSES[name][1]
        if c != prev_cat:
            cat_change = t
            if c == "done":
                resolved = t
        prev_cat = c
    if cat == "done":
        rname = "Won't Do" if status in ("Won't Do", "Cancelled") else "Done"
        resolution = {
            "self": f"{JIRA_BASE}/rest/api/3/resolution/{RESOLUTIONS[rname]}",
            "id": RESOLUTIONS[rname],
            "description": "",
            "name": rname,
        }
    else:
        resolved = None
    if issue.ops:
        project = {
            "self": f"{JIRA_BASE}/rest/api/3/project/{OPS_PROJECT_ID}",
            "id": OPS_PROJECT_ID,
            "key": OPS_KEY,
            "name": "Operations",
            "projectTypeKey": "service_desk",
            "simplified": False,
        }
    else:
        project = {
            "self": f"{JIRA_BASE}/rest/api/3/project/{team.jira_project_id}",
            "id": team.jira_project_id,
            "key": team.key,
            "name": team.name,
            "projectTypeKey": "software",
            "simplified": False,
        }
    fields = {
        "summary": issue.summary,
        "issuetype": {
            "self": f"{JIRA_BASE}/rest/api/3/issuetype/{ISSUE_TYPES[issue.issuetype]}",
            "id": ISSUE_TYPES[issue.issuetype],
            "description": "",
            "name": issue.issuetype,
            "subtask": False,
            "hierarchyLevel": 0,
        },
        "project": project,
        "status": status_doc(status),
        "priority": {
            "self": f"{JIRA_BASE}/rest/api/3/priority/{PRIORITIES[issue.priority]}",
            "id": PRIORITIES[issue.priority],
            "name": issue.priority,
        },
        "labels": list(issue.labels),
        "assignee": assignee.jira() if isinstance(assignee, Person) else None,
        "reporter": issue.reporter.jira(),
        "creator": issue.reporter.jira(),
        "created": fmt_jira(issue.created, zone),
        "updated": fmt_jira(issue_updated(issue, at), zone),
        "statuscategorychangedate": fmt_jira(cat_change, zone),
        "resolutiondate": fmt_jira(resolved, zone) if resolved else None,
        "resolution": resolution,
        "description": _adf(issue.description),
        TEAM_FIELD: team.team_field(),
        SPRINT_FIELD: [_issue_sprint(sprints[i], at) for i in sprint_ids] or None,
        FLAGGED_FIELD: list(FLAG_VALUE) if _last(issue.flags, at, False) else None,
    }
    return {
        "expand": ISSUE_EXPAND,
        "id": str(issue.id),
        "self": f"{JIRA_BASE}/rest/api/3/issue/{issue.id}",
        "key": issue.key,
        "fields": fields,
    }


def _item(
    field: str, fieldtype: str, field_id: str, frm: object, frm_s: object, to: object, to_s: object
) -> Item:
    return {
        "field": field,
        "fieldtype": fieldtype,
        "fieldId": field_id,
        "from": frm,
        "fromString": frm_s,
        "to": to,
        "toString": to_s,
    }


def _histories(
    issue: IssuePlan, team: Team, sprints: dict[int, Sprint], at: dt.datetime
) -> list[tuple[dt.datetime, Person, list[Item]]]:
    events: list[tuple[dt.datetime, int, Person, Item]] = []
    lead = team.engineers[0]
    prev = issue.statuses[0][1]
    actor: Person = issue.reporter
    for t, name in issue.statuses[1:]:
        if t >= at:
            break
        assignee = _last(issue.assignees, t + dt.timedelta(seconds=1), None)
        actor = assignee if isinstance(assignee, Person) else issue.reporter
        events.append(
            (t, 0, actor, _item("status", "jira", "status", STATUSES[prev][0], prev, STATUSES[name][0], name))
        )
        was_done, is_done = STATUSES[prev][1] == "done", STATUSES[name][1] == "done"
        if is_done and not was_done:
            rname = "Won't Do" if name in ("Won't Do", "Cancelled") else "Done"
            events.append(
                (
                    t,
                    1,
                    actor,
                    _item("resolution", "jira", "resolution", None, None, RESOLUTIONS[rname], rname),
                )
            )
        elif was_done and not is_done:
            events.append(
                (
                    t,
                    1,
                    actor,
                    _item("resolution", "jira", "resolution", RESOLUTIONS["Done"], "Done", None, None),
                )
            )
        prev = name
    old: Person | None = None
    for t, person in issue.assignees:
        if t < at:
            events.append(
                (
                    t,
                    2,
                    person or lead,
                    _item(
                        "assignee",
                        "jira",
                        "assignee",
                        old.account_id if old else None,
                        old.display_name if old else None,
                        person.account_id if person else None,
                        person.display_name if person else None,
                    ),
                )
            )
            old = person
    for t, on in issue.flags:
        if t < at:
            who = _last(issue.assignees, t + dt.timedelta(seconds=1), None)
            events.append(
                (
                    t,
                    3,
                    who if isinstance(who, Person) else issue.reporter,
                    _item(
                        "Flagged",
                        "custom",
                        FLAGGED_FIELD,
                        None if on else "[10019]",
                        "" if on else "Impediment",
                        "[10019]" if on else None,
                        "Impediment" if on else "",
                    ),
                )
            )
    before: tuple[int, ...] = ()
    for t, ids in issue.sprints:
        if t < at:
            events.append(
                (
                    t,
                    4,
                    lead,
                    _item(
                        "Sprint",
                        "custom",
                        SPRINT_FIELD,
                        ",".join(map(str, before)),
                        ", ".join(sprints[i].name for i in before),
                        ",".join(map(str, ids)),
                        ", ".join(sprints[i].name for i in ids),
                    ),
                )
            )
            before = ids
    events.sort(key=lambda e: (e[0], e[1]))
    grouped: list[tuple[dt.datetime, Person, list[Item]]] = []
    for t, _, who, item in events:
        if grouped and grouped[-1][0] == t:
            grouped[-1][2].append(item)
        else:
            grouped.append((t, who, [item]))
    return grouped


class ChangelogIds:
    """History ids that grow with ``created`` across the whole org and stay unique per team."""

    def __init__(self, team_idx: int) -> None:
        self.team_idx = team_idx
        self.used: set[int] = set()

    def make(self, t: dt.datetime) -> str:
        base = int((t - CHANGELOG_EPOCH).total_seconds()) * 16
        slot = 0
        while base + slot in self.used:
            slot += 1
        self.used.add(base + slot)
        return str((base + slot) * 4096 + self.team_idx)


def jira_records(
    team: Team,
    issues: list[IssuePlan],
    sprints: list[Sprint],
    at: dt.datetime,
    window_start: dt.datetime,
    rng: Random,
) -> Iterator[RawRecord]:
    """Sprints, issues and changelogs of one team, with the planted out-of-order and duplicate deliveries."""
    by_id = {s.id: s for s in sprints}
    for s in sprints:
        if (s.start < at and s.complete >= window_start) or s.state_at(at) == "future":
            yield RawRecord("jira_sprints", sprint_doc(s, at), str(s.board_id))
    ids = ChangelogIds(team.idx)
    for issue in issues:
        if issue.created >= at or issue_updated(issue, at) < window_start:
            continue
        yield RawRecord("jira_issues", issue_doc(issue, team, by_id, at), None)
        histories = [
            h for h in _histories(issue, team, by_id, at) if h[0] >= window_start
        ]  # older ones are lost
        docs = [
            {
                "id": ids.make(t),
                "author": who.jira(),
                "created": fmt_jira(t, team.jira_time_zone),
                "items": items,
            }
            for t, who, items in histories
        ]
        if issue.history_lost:  # Jira returns no changelog for it at all
            docs = []
        r = rng.random()
        if r < 0.08:
            docs.reverse()  # delivered newest first
        elif r < 0.16:
            rng.shuffle(docs)
        for d in docs:
            yield RawRecord("jira_changelogs", d, str(issue.id))
            if rng.random() < 0.02:
                yield RawRecord("jira_changelogs", d, str(issue.id))
        r = rng.random()
        if r < 0.04 and len(histories) > 1:  # an older version of the issue delivered after the newer one
            old_at = histories[len(histories) // 2][0]
            yield RawRecord("jira_issues", issue_doc(issue, team, by_id, old_at), None)
        elif r < 0.06:
            yield RawRecord("jira_issues", issue_doc(issue, team, by_id, at), None)
