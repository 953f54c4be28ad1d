"""WIP Triage: work in progress ranked by fct_wip_current's documented risk score, with the reason behind each
score, filters, links to the Investigator and a CSV export. Deep link: ``/wip?team=checkout``."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from streamlit_apps import queries, ui
from streamlit_apps.db import connection

st.title("WIP Triage")
st.caption(
    "Open work at the last build's as_of, riskiest first. Risk score (0-100, fct_wip_current) = "
    "50 × age percentile against the team's done cycle times + 20 × share of its age blocked + 20 if flagged "
    "now + 10 if unassigned."
)
conn = connection()
try:
    wip = queries.wip(conn)
except Exception as error:
    ui.no_marts(error)
    st.stop()

if wip.empty:
    st.info("No work in progress at the last build's as_of.")
    st.stop()

teams = sorted(wip["team_id"].unique())
requested = st.query_params.get("team")
team_choice = st.selectbox(
    "Team",
    ["all teams", *teams],
    index=(teams.index(requested) + 1) if requested in teams else 0,
    key="wip_team",
)
col_status, col_assignee = st.columns(2)
statuses = sorted(wip["current_status"].unique())
chosen_statuses = col_status.multiselect("Status", statuses, default=[], placeholder="any status")
assignee = col_assignee.radio("Assignee", ["any", "assigned", "unassigned"], horizontal=True)
ui.follow_selection(team=None if team_choice == "all teams" else team_choice)

shown = wip
if team_choice != "all teams":
    shown = shown[shown["team_id"] == team_choice]
if chosen_statuses:
    shown = shown[shown["current_status"].isin(chosen_statuses)]
if assignee != "any":
    shown = shown[shown["has_assignee"] == (assignee == "assigned")]


def reasons(row: pd.Series) -> str:
    """Why the score is what it is, in words (largest contribution first)."""
    parts = [
        (
            50 * float(row["age_percentile"]),
            f"older than {ui.pct(row['age_percentile'])} of the team's done work",
        ),
        (20 * float(row["blocked_share"]), f"blocked {ui.pct(row['blocked_share'])} of its age"),
        (20.0 if row["is_flagged"] else 0.0, "flagged now"),
        (10.0 if not row["has_assignee"] else 0.0, "unassigned"),
    ]
    said = [text for points, text in sorted(parts, key=lambda p: -p[0]) if points >= 1]
    if int(row["linked_merge_requests"]) == 0:
        said.append("no linked MR")
    if not ui.is_missing(row["days_since_last_change"]):
        said.append(f"last change {ui.num(row['days_since_last_change'])} d ago")
    return "; ".join(said)


table = shown.assign(
    investigate=shown["issue_key"].map(ui.investigator_link),
    why=shown.apply(reasons, axis=1) if not shown.empty else pd.Series(dtype=str),
)
columns = [
    "investigate",
    "risk_score",
    "why",
    "team_id",
    "current_status",
    "age_days",
    "age_percentile",
    "blocked_share",
    "blocked_hours",
    "is_flagged",
    "has_assignee",
    "linked_merge_requests",
    "days_since_last_change",
]
c1, c2, c3 = st.columns(3)
c1.metric("Items in progress", f"{len(shown):,}")
c2.metric("Flagged now", f"{int(shown['is_flagged'].sum()):,}")
c3.metric("Unassigned", f"{int((~shown['has_assignee'].astype(bool)).sum()):,}")
st.dataframe(
    table[columns],
    hide_index=True,
    width="stretch",
    height=min(36 * (len(table) + 1) + 4, 720),
    column_config={
        "investigate": st.column_config.LinkColumn(
            "issue", display_text=r"\?issue=(.*)$", help="Open in the Issue Investigator"
        ),
        "why": st.column_config.TextColumn("why", width="large"),
        "risk_score": st.column_config.ProgressColumn("risk", min_value=0, max_value=100, format="%d"),
        "age_percentile": st.column_config.NumberColumn("age pct", format="percent"),
        "blocked_share": st.column_config.NumberColumn("blocked share", format="percent"),
        "age_days": st.column_config.NumberColumn("age (d)", format="%.1f"),
        "blocked_hours": st.column_config.NumberColumn("blocked (h)", format="%.1f"),
        "linked_merge_requests": st.column_config.NumberColumn("MRs"),
        "days_since_last_change": st.column_config.NumberColumn("days since change", format="%.1f"),
    },
)
st.download_button(
    "Download CSV",
    shown.to_csv(index=False).encode("utf-8"),
    file_name=f"wip_{team_choice.replace(' ', '_')}.csv",
    mime="text/csv",
)
