"""Issue Investigator: one issue's whole life on one timeline, its merge requests, pipelines and deployment,
and its flow numbers beside the team's median. Deep link: ``/?issue=PAY-123``."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from streamlit_apps import queries, ui
from streamlit_apps.db import connection

CATEGORY_COLOURS = {
    "todo": "#9aa5b1",
    "in_progress": "#2f80ed",
    "review": "#9b51e0",
    "waiting": "#f2c94c",
    "blocked": "#eb5757",
    "done": "#27ae60",
    "cancelled": "#bdbdbd",
}

st.title("Issue Investigator")
conn = connection()

requested = (st.query_params.get("issue") or "").strip()
search = st.text_input(
    "Issue key, summary or merge request title",
    value=requested,
    placeholder="e.g. PAY-123",
    key="issue_search",
)
text = search.strip()
if not text:
    st.info("Type an issue key (e.g. `PAY-123`), words of its summary or of a merge request title.")
    st.stop()

try:
    found = queries.issue(conn, text.upper())
except Exception as error:
    ui.no_marts(error)
    st.stop()

if found.empty:
    matches = queries.search_issues(conn, text)
    if matches.empty:
        ui.follow_selection(issue=None)
        st.warning(
            f"No issue matches **{text}**: no issue key, summary or linked merge request title contains it."
        )
        st.stop()
    if len(matches) == 1:
        issue_key = str(matches.iloc[0]["issue_key"])
    else:
        st.caption(f"{len(matches)} issues match **{text}** — pick one:")
        issue_key = st.selectbox(
            "Matching issues",
            matches["issue_key"].tolist(),
            format_func=lambda key: (
                f"{key} · {matches.set_index('issue_key').loc[key, 'summary'] or ''} · "
                f"{matches.set_index('issue_key').loc[key, 'current_status']}"
            ),
        )
    found = queries.issue(conn, issue_key)
issue = found.iloc[0]
issue_key = str(issue["issue_key"])
ui.follow_selection(issue=issue_key)

st.subheader(f"{issue_key} · {issue['issue_type']} · team {issue['team_id']}")
if not ui.is_missing(issue.get("summary")):
    st.markdown(f"**{issue['summary']}**")
st.caption(
    f"Now **{issue['current_status']}** ({issue['current_status_category']})"
    + (" · :red[flagged]" if issue["is_flagged"] else "")
    + ("" if issue["has_assignee"] else " · unassigned")
    + f" · created {ui.when(issue['created_at'])} · started {ui.when(issue['started_at'])}"
    + f" · done {ui.when(issue['done_at'])} · reopened {int(issue['reopen_count'])}×"
)

# ---- numbers beside the team's median
medians = queries.team_medians(conn, str(issue["team_id"])).iloc[0]
cols = st.columns(5)
cols[0].metric(
    "Cycle time (h)",
    ui.num(issue["cycle_time_hours"]),
    help="fct_issue_lifecycle.cycle_time_hours: first start → done",
)
cols[1].metric("Lead time (h)", ui.num(issue["lead_time_hours"]), help="created → done")
cols[2].metric("Blocked (h)", ui.num(issue["blocked_hours"]), help="merged blocker windows (status and flag)")
cols[3].metric("Flow efficiency", ui.pct(issue["flow_efficiency"]), help="active time / cycle time")
cols[4].metric("Review wait (h)", ui.num(issue["review_wait_hours"]))
if ui.is_missing(issue["done_at"]):
    st.caption(
        "Not done yet: cycle and lead time, flow efficiency are measured when it is done "
        "(WIP Triage shows its age and risk)."
    )
st.caption(
    f"Team {issue['team_id']} median over its {int(medians['done_issues'])} done issues: "
    f"cycle {ui.num(medians['cycle_time_hours'])} h · lead {ui.num(medians['lead_time_hours'])} h · "
    f"blocked {ui.num(medians['blocked_hours'])} h · flow efficiency {ui.pct(medians['flow_efficiency'])}"
)

# ---- the timeline
intervals = queries.status_intervals(conn, str(issue["issue_id"]))
blocks = queries.blocked_intervals(conn, str(issue["issue_id"]))
changes = queries.changelog(conn, str(issue["issue_id"]))
mrs = queries.linked_merge_requests(conn, issue_key)
pipelines = queries.merge_request_pipelines(conn, issue_key)
deployment_ids = [str(d) for d in mrs["production_deployment_id"].dropna().unique()] if not mrs.empty else []
shipped = queries.deployments(conn, deployment_ids)

as_of = queries.build_as_of(conn)
open_end = (
    as_of if as_of is not None else pd.Timestamp.now(tz="UTC")
)  # open intervals end at the build's as_of

bars: list[dict] = []
for row in intervals.itertuples():
    bars.append(
        {
            "lane": "status",
            "start": row.started_at,
            "end": row.ended_at if not ui.is_missing(row.ended_at) else open_end,
            "label": f"{row.status} ({row.status_category})",
            "kind": str(row.status_category),
            "hours": float(row.hours) if not ui.is_missing(row.hours) else None,
        }
    )
for row in blocks.itertuples():
    bars.append(
        {
            "lane": "blocked",
            "start": row.started_at,
            "end": row.ended_at if not ui.is_missing(row.ended_at) else open_end,
            "label": f"blocked ({row.block_source})",
            "kind": "blocked",
            "hours": float(row.hours) if not ui.is_missing(row.hours) else None,
        }
    )
events: list[dict] = []
previous = None
for row in intervals.itertuples():
    if previous in ("done", "cancelled") and row.status_category not in ("done", "cancelled"):
        events.append({"lane": "reopened", "at": row.started_at, "label": f"reopened → {row.status}"})
    previous = row.status_category
for row in changes[changes["change_kind"].isin(["sprint", "assignee"])].itertuples():
    before = row.from_string if not ui.is_missing(row.from_string) and row.from_string else "none"
    after = row.to_string if not ui.is_missing(row.to_string) and row.to_string else "none"
    events.append({"lane": str(row.change_kind), "at": row.changed_at, "label": f"{before} → {after}"})
for row in mrs.itertuples():
    for column, label in (
        ("created_at", "MR opened"),
        ("ready_at", "MR ready"),
        ("first_review_at", "first review"),
        ("first_approval_at", "first approval"),
        ("merged_at", "merged"),
    ):
        value = getattr(row, column)
        if not ui.is_missing(value):
            events.append({"lane": f"MR !{row.merge_request_iid}", "at": value, "label": label})
for row in pipelines.itertuples():
    events.append(
        {
            "lane": f"MR !{row.merge_request_iid}",
            "at": row.created_at,
            "label": f"pipeline {row.pipeline_id} {row.status}"
            + (f", {int(row.retried_job_count)} retried job(s)" if row.retried_job_count else ""),
        }
    )
for row in shipped.itertuples():
    events.append(
        {"lane": "deployment", "at": row.deployed_at, "label": f"deployed to {row.environment_name}"}
    )


def _timeline_domain() -> list[str]:
    """From the first interval to the last event (a done issue's last interval runs on to as_of)."""
    moments = [pd.Timestamp(b["start"]) for b in bars] + [pd.Timestamp(e["at"]) for e in events]
    for value in (issue["done_at"], issue["started_at"]):
        if not ui.is_missing(value):
            moments.append(pd.Timestamp(value))
    if ui.is_missing(issue["done_at"]):
        moments.append(pd.Timestamp(open_end))
    utc = [m.tz_localize("UTC") if m.tzinfo is None else m.tz_convert("UTC") for m in moments]
    first, last = min(utc), max(utc)
    pad = max((last - first) * 0.04, pd.Timedelta(hours=6))
    return [(first - pad).isoformat(), (last + pad).isoformat()]


if bars or events:
    x_scale = alt.Scale(domain=_timeline_domain())
    present = {b["lane"] for b in bars} | {e["lane"] for e in events}
    mr_lanes = sorted((lane for lane in present if lane.startswith("MR")), key=lambda lane: int(lane[4:]))
    lane_order = [
        lane
        for lane in ["status", "blocked", "reopened", "sprint", "assignee", *mr_lanes, "deployment"]
        if lane in present
    ]
    layers = []
    if bars:
        frame = pd.DataFrame(bars)
        frame["start"] = pd.to_datetime(frame["start"], utc=True)
        frame["end"] = pd.to_datetime(frame["end"], utc=True)
        layers.append(
            alt.Chart(frame)
            .mark_bar(height=18, clip=True)
            .encode(
                x=alt.X("start:T", title=None, scale=x_scale),
                x2="end:T",
                y=alt.Y("lane:N", title=None, sort=lane_order),
                color=alt.Color(
                    "kind:N",
                    title="category",
                    scale=alt.Scale(domain=list(CATEGORY_COLOURS), range=list(CATEGORY_COLOURS.values())),
                ),
                tooltip=["label", "start:T", "end:T", "hours"],
            )
        )
    if events:
        points = pd.DataFrame(events)
        points["at"] = pd.to_datetime(points["at"], utc=True)
        layers.append(
            alt.Chart(points)
            .mark_point(filled=True, size=90, shape="diamond", color="#333", clip=True)
            .encode(
                x=alt.X("at:T", title=None, scale=x_scale),
                y=alt.Y("lane:N", title=None, sort=lane_order),
                tooltip=["label", "at:T"],
            )
        )
    # tall enough for the category legend (seven entries) even with few lanes
    chart = alt.layer(*layers).properties(height=max(40 + 30 * len(lane_order), 190))
    st.altair_chart(chart, width="stretch")
    st.caption(
        "Status intervals coloured by category; blocker windows as the blocked-hours metric counts them "
        "(status and flag merged); ◆ events: reopenings, sprint and assignee changes, merge-request "
        "milestones, pipelines, the deployment."
    )
else:
    st.info("No status history for this issue in the marts.")

tab_status, tab_blocked, tab_mrs, tab_pipelines, tab_deploy, tab_changelog = st.tabs(
    ["Status intervals", "Blocker windows", "Merge requests", "Pipelines", "Deployment", "Changelog"]
)
with tab_status:
    st.dataframe(intervals, hide_index=True)
with tab_blocked:
    if blocks.empty:
        st.write("Never blocked.")
    else:
        st.dataframe(blocks, hide_index=True)
with tab_mrs:
    if mrs.empty:
        st.write("No linked merge request (no key in a title, branch, description or commit message).")
    else:
        st.dataframe(
            mrs,
            hide_index=True,
            width="stretch",
            column_config={"web_url": st.column_config.LinkColumn("link")},
        )
with tab_pipelines:
    if pipelines.empty:
        st.write("No merge-request pipeline.")
    else:
        st.dataframe(
            pipelines,
            hide_index=True,
            width="stretch",
            column_config={"web_url": st.column_config.LinkColumn("link")},
        )
        retried = queries.retried_jobs(conn, [str(p) for p in pipelines["pipeline_id"]])
        if not retried.empty:
            st.caption("Retried job attempts")
            st.dataframe(retried, hide_index=True)
with tab_deploy:
    if shipped.empty:
        st.write("Not shipped to production yet.")
    else:
        st.dataframe(shipped, hide_index=True)
with tab_changelog:
    if changes.empty:
        st.write("No changelog recorded for this issue.")
    else:
        st.caption(
            "The Jira changelog as recorded (fct_issue_changelog): the audit trail behind the timeline."
        )
        st.dataframe(changes, hide_index=True)
