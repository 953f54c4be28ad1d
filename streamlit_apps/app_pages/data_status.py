"""Data status: per source (synthetic, Jira Cloud, GitLab, webhooks) the last successful load or sync,
documents loaded, dead letters and webhook rejections of the last days, watermarks, the last build's as_of,
and whether the live connectors are configured (yes / no only: never a secret)."""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from streamlit_apps import queries, ui
from streamlit_apps.db import connection

SOURCES = {
    "synthetic": "Synthetic generator",
    "jira_cloud": "Jira Cloud",
    "gitlab": "GitLab",
    "webhook": "Webhooks",
}

st.title("Data status")
conn = connection()
days = st.slider("Dead letters and webhook rejections of the last … days", 1, 90, 7, key="status_days")

try:
    builds = queries.last_build(conn)
    loads = queries.load_status(conn)
    syncs = queries.sync_state(conn)
    letters = queries.dead_letters(conn, days)
    rejections = queries.webhook_rejections(conn, days)
except Exception as error:
    ui.no_marts(error)
    st.stop()

st.subheader("Last build")
if builds.empty:
    st.warning("No `heimdall build` recorded yet.")
else:
    success = builds[builds["is_latest_success"]]
    latest = builds[builds["is_latest_run"]].iloc[0]
    b1, b2, b3 = st.columns(3)
    b1.metric(
        "as_of of the last successful build", ui.when(success.iloc[0]["as_of"]) if not success.empty else "—"
    )
    b2.metric("Last successful build", ui.when(success.iloc[0]["started_at"]) if not success.empty else "—")
    b3.metric("Latest run", str(latest["build_status"]), help=str(latest["dbt_command"]))
    if int(latest["stale_model_count"] or 0) > 0:
        st.warning(
            f"The latest build left {int(latest['stale_model_count'])} models stale (failed or skipped)."
        )

st.subheader("Sources")
# what `heimdall apps serve` found configured (yes / no only; the app never sees the settings themselves)
configured = dict(
    item.split("=", 1) for item in os.environ.get("HEIMDALL_APPS_CONNECTORS", "").split(",") if "=" in item
)

rows = []
loads_by_source = loads.set_index("source") if not loads.empty else pd.DataFrame()
for source, label in SOURCES.items():
    load = loads_by_source.loc[source] if source in loads_by_source.index else None
    sync = syncs[syncs["source"] == source] if not syncs.empty else syncs
    rows.append(
        {
            "source": label,
            "configured": "built in" if source == "synthetic" else configured.get(source, "unknown"),
            "last load": None if load is None else load["last_successful_load"],
            "documents loaded": 0 if load is None else int(load["documents_loaded"] or 0),
            "failed batches": 0 if load is None else int(load["failed_batches"] or 0),
            "last sync": None if sync.empty else sync["last_run_finished_at"].max(),
            "watermark": None if sync.empty else sync["watermark"].max(),
            "dead letters": int(letters.loc[letters["source"] == source, "dead_letters"].sum())
            if not letters.empty
            else 0,
            # the intake rejects before loading: every rejection (Jira's, GitLab's) belongs to the webhooks
            "rejections": (
                int(rejections["rejections"].sum()) if source == "webhook" and not rejections.empty else 0
            ),
        }
    )
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
st.caption(
    f"Dead letters and (webhook) rejections: the last {days} days. "
    "Configured = the connector's settings are present (HEIMDALL_JIRA_* / HEIMDALL_GITLAB_*, webhook "
    "secrets); `heimdall connectors check` tests the credentials. Secrets are never shown."
)

with st.expander("Watermarks per scope (app.sync_state)"):
    if syncs.empty:
        st.write("No live sync has run.")
    else:
        st.dataframe(syncs, hide_index=True, width="stretch")
with st.expander(f"Dead letters of the last {days} days"):
    if letters.empty:
        st.write("None.")
    else:
        st.dataframe(letters, hide_index=True, width="stretch")
with st.expander(f"Webhook rejections of the last {days} days"):
    if rejections.empty:
        st.write("None.")
    else:
        st.dataframe(rejections, hide_index=True, width="stretch")
