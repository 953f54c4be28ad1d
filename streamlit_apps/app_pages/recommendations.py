"""Recommendations: the ranked recommendations with diagnosis, severity, evidence and ROI assumptions (the
hourly cost editable for a what-if, never stored), and approve / reject, which writes one row to
``app.recommendation_decisions`` through ``insights.recommendations.decide`` — the rule of `heimdall
recommendations approve / reject`. Deep link:
``/recommendations?recommendation=checkout:slow_review_pickup``."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import streamlit as st

from streamlit_apps import queries, ui
from streamlit_apps.db import connection, record_decision
from warehouse.errors import HeimdallError

# how each diagnosis comparison reads in a sentence (fct_diagnoses.fired_by, docs/metrics.md "Diagnosis")
COMPARED_WITH = {
    "change_vs_own_reference": "the team's own reference stretch",
    "outlier_vs_organisation": "the rest of the organisation",
    "always_bad_level": "the always-bad level",
}

ISSUE_KEY = re.compile(r"\b([A-Z][A-Z0-9]+-\d+)\b")


def provable_words(row: pd.Series) -> str:
    """The power in words, e.g. "success provable: yes (MDE 45% vs expected 50%)" (fct_recommendations)."""
    if ui.is_missing(row.get("is_success_provable")):
        return "success provable: — (not currently diagnosed)"
    answer = "yes" if bool(row["is_success_provable"]) else "no"
    mde = (
        ui.pct(row["minimum_detectable_change_pct"])
        if not ui.is_missing(row["minimum_detectable_change_pct"])
        else "n/a"
    )
    expected = (
        ui.pct(abs(float(row["expected_change_pct"])))
        if not ui.is_missing(row["expected_change_pct"])
        else "n/a"
    )
    return f"success provable: {answer} (MDE {mde} vs expected {expected})"


st.title("Recommendations")
st.caption(
    "One intervention per diagnosed bottleneck, costliest first (fct_recommendations). Approving records who "
    "decided, why and from when the intervention runs; verification then measures it (Intervention tracker)."
)
conn = connection()
try:
    recs = queries.recommendations(conn)
except Exception as error:
    ui.no_marts(error)
    st.stop()

if recs.empty:
    st.info("No diagnosis fires in the current window: nothing to recommend.")
    st.stop()

week_picks = recs[recs["is_recommendation_of_the_week"].fillna(False).astype(bool)]
if not week_picks.empty:
    st.subheader("Recommendation of the week")
    st.caption(
        "Per team, the costliest diagnosis whose intervention is measurable: with the team's weekly volume, "
        "the verification could detect the expected change within the verification window (minimum "
        "detectable change, MDE, at most the expected change; fct_weekly_recommendations). A team with no "
        "measurable one gets its costliest, marked not provable."
    )
    for pick in week_picks.sort_values("team_id").itertuples():
        row = recs.loc[recs["recommendation_id"] == pick.recommendation_id].iloc[0]
        window = (
            ""
            if ui.is_missing(row["verification_window_weeks"])
            else (f" within {int(row['verification_window_weeks'])} weeks")
        )
        st.markdown(
            f"- **{row['team_id']}** — [{row['title']}]"
            f"({ui.link(ui.RECOMMENDATIONS, recommendation=str(row['recommendation_id']))}): watch "
            f"`{row['metric_name']}`, expected {ui.pct(row['expected_change_pct'], signed=True)}{window}; "
            f"{ui.num(row['hours_lost_per_week'])} h/week lost · **{provable_words(row)}**"
        )

overview = recs.assign(
    value=recs.apply(
        lambda r: (
            "—"
            if ui.is_missing(r["weekly_value"])
            else f"{ui.num(r['weekly_value'], 0)} {r['hourly_cost_currency']}"
        ),
        axis=1,
    ),
    open=recs["recommendation_id"].map(lambda rid: ui.link(ui.RECOMMENDATIONS, recommendation=rid)),
    provable=recs.apply(
        lambda r: (
            "—"
            if ui.is_missing(r["is_success_provable"])
            else ("yes" if bool(r["is_success_provable"]) else "no")
        ),
        axis=1,
    ),
)
st.dataframe(
    overview[
        ["rank", "open", "team_id", "title", "severity", "hours_lost_per_week", "value", "provable", "status"]
    ],
    hide_index=True,
    width="stretch",
    column_config={
        "open": st.column_config.LinkColumn("recommendation", display_text=r"recommendation=(.*)$"),
        "hours_lost_per_week": st.column_config.NumberColumn("h lost / week", format="%.1f"),
        "value": "value / week",
        "provable": "success provable",
    },
)

ids = recs["recommendation_id"].tolist()
requested = st.query_params.get("recommendation")
if requested and requested not in ids:
    st.warning(
        f"No current recommendation **{requested}** (it may no longer be diagnosed); showing the first."
    )
chosen = st.selectbox(
    "Recommendation",
    ids,
    index=ids.index(requested) if requested in ids else 0,
    format_func=lambda rid: f"#{int(recs.set_index('recommendation_id').loc[rid, 'rank'])} {rid}",
    key="recommendation_choice",
)
ui.follow_selection(recommendation=chosen)
rec = recs.set_index("recommendation_id").loc[chosen]

st.header(f"{rec['title']}")
status_colour = {"approved": "green", "rejected": "red"}.get(str(rec["status"]), "blue")
st.markdown(
    f":{status_colour}-badge[{rec['status']}] team **{rec['team_id']}** · rule `{rec['rule_id']}` · severity "
    f"**{rec['severity'] if not ui.is_missing(rec['severity']) else '—'}**"
    + (
        f" · intervention from **{rec['intervention_start_date']}**"
        if not ui.is_missing(rec["intervention_start_date"])
        else ""
    )
)
st.markdown(f"**Action:** {rec['action']}")
st.markdown(
    f"**Watch:** `{rec['metric_name']}` — expected: {rec['expected_effect']}"
    + (
        f"  \n**Guard:** `{rec['guard_metric_name']}` is verified beside it and must not worsen."
        if not ui.is_missing(rec["guard_metric_name"])
        else ""
    )
)
window_weeks = (
    f" over a verification window of {int(rec['verification_window_weeks'])} weeks"
    if not ui.is_missing(rec["verification_window_weeks"])
    else ""
)
st.markdown(
    f"**Verification power:** {provable_words(rec)}{window_weeks}"
    + (" · recommendation of the week" if bool(rec["is_recommendation_of_the_week"]) else "")
    + ". The MDE is the smallest change the verification would detect 4 times in 5 with this team's weekly "
    "volume and week-to-week variability of the metric (docs/metrics.md, Recommendations)."
)
if not ui.is_missing(rec["diagnosis_id"]):
    found = queries.diagnosis(conn, str(rec["diagnosis_id"]))
    if not found.empty:
        diag = found.iloc[0]
        st.markdown(
            f"**Diagnosis:** {diag['rule_description']} — `{diag['metric_name']}` "
            f"({diag['window_aggregation']}) was {ui.num(diag['metric_value'], 2)} from "
            f"{diag['window_start_date']} to {diag['window_end_date']} (n={int(diag['sample_size'])}), "
            f"against {COMPARED_WITH.get(str(diag['fired_by']), 'its threshold')} of "
            f"{ui.num(diag['comparison_value'], 2)}: effect ×{ui.num(diag['effect_ratio'], 2)} "
            f"(95% interval ×{ui.num(diag['effect_ratio_ci_low'], 2)} "
            f"to ×{ui.num(diag['effect_ratio_ci_high'], 2)})."
        )
d1, d2, d3 = st.columns(3)
d1.metric("Current value", ui.num(rec["current_value"], 2))
d2.metric("Compared with", ui.num(rec["comparison_value"], 2))
d3.metric("Organisation baseline", ui.num(rec["baseline_value"], 2))

st.subheader("ROI assumptions")
st.caption(str(rec["assumptions"]))
currency = str(rec["hourly_cost_currency"] or "")
default_cost = float(rec["hourly_cost"]) if not ui.is_missing(rec["hourly_cost"]) else 100.0
hourly_cost = st.number_input(
    f"Hourly cost ({currency}) — a what-if, not stored",
    min_value=0.0,
    value=default_cost,
    step=10.0,
    key=f"hourly_cost_{chosen}",
)
r1, r2, r3, r4 = st.columns(4)
r1.metric("Hours lost / week", ui.num(rec["hours_lost_per_week"]))
r2.metric("Expected recovery", ui.pct(rec["expected_recovery_share"]))
r3.metric("Hours back / week", ui.num(rec["hours_recovered_per_week"]))
what_if = (
    None
    if ui.is_missing(rec["hours_recovered_per_week"])
    else float(rec["hours_recovered_per_week"]) * hourly_cost
)
r4.metric(
    f"Value / week ({currency})",
    ui.num(what_if, 0),
    delta=None
    if what_if is None or ui.is_missing(rec["weekly_value"]) or hourly_cost == default_cost
    else f"{what_if - float(rec['weekly_value']):+,.0f} vs {ui.num(rec['weekly_value'], 0)} "
    f"at {ui.num(default_cost, 0)}/h",
    delta_color="off",
)

st.subheader("Evidence")
if ui.is_missing(rec["diagnosis_id"]):
    st.write(
        "No current diagnosis: the evidence is the last diagnosed window's (`heimdall recommendations show`)."
    )
else:
    evidence = queries.recommendation_evidence(conn, str(rec["diagnosis_id"]))

    def evidence_link(row: pd.Series) -> str | None:
        found = ISSUE_KEY.search(str(row["item_label"] or ""))
        if found:
            return ui.investigator_link(found.group(1))
        return None if ui.is_missing(row["item_url"]) else str(row["item_url"])

    evidence = evidence.assign(open=evidence.apply(evidence_link, axis=1) if not evidence.empty else None)
    st.caption(f"The worst {len(evidence)} of {int(rec['evidence_count'])} items behind the diagnosis.")
    st.dataframe(
        evidence[["evidence_rank", "item_type", "item_label", "observed_at", "value", "open"]],
        hide_index=True,
        width="stretch",
        column_config={
            "open": st.column_config.LinkColumn("open", display_text="investigate"),
            "value": st.column_config.NumberColumn(format="%.2f"),
        },
    )

st.subheader("Decide")
with st.form(f"decide_{chosen}", clear_on_submit=False):
    decided_by = st.text_input("Who decides", key="decided_by")
    note = st.text_area("Note (required to reject)", key="decision_note")
    start = st.date_input("Intervention start date (approvals)", value=date.today(), key="decision_start")
    b1, b2 = st.columns(2)
    approve = b1.form_submit_button("Approve", type="primary")
    reject = b2.form_submit_button("Reject")
if approve or reject:
    decision = "approved" if approve else "rejected"
    try:
        recorded = record_decision(
            chosen,
            decision,
            decided_by=decided_by,
            note=note.strip() or None,
            start=start if approve else None,
        )
    except HeimdallError as error:
        st.error(str(error))
    else:
        st.success(
            f"Recorded decision {recorded.decision_id}: {chosen} {decision}"
            + (f" from {start.isoformat()}" if approve else "")
            + ". The marts show it after the next `heimdall build`; verification then measures the effect."
        )

st.subheader("Decision history")
history = queries.decision_history(conn, chosen)
if history.empty:
    st.write("No decision yet.")
else:
    st.dataframe(history, hide_index=True, width="stretch")
