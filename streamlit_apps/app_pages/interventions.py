"""Intervention tracker: for each approved recommendation, the watched metric week by week before and after
the start, the change with its 95% interval, the difference-in-differences against the control teams, the
power (minimum detectable change against the expected change, and the day "not enough data to tell yet" should
be decidable), the verdict and its basis — in plain words as well as numbers (fct_intervention_outcomes). Deep
link:
``/interventions?recommendation=checkout:slow_review_pickup``."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from streamlit_apps import queries, ui
from streamlit_apps.db import connection

VERDICT_COLOUR = {
    "improved": "green",
    "worsened": "red",
    "no detectable change": "gray",
    "not enough data to tell yet": "orange",
    "too little data": "orange",
}

st.title("Intervention tracker")
st.caption(
    "Approved interventions, verified after every whole-project build: 95% interval of the change (current "
    "window against the baseline before the start, weeks as the units), difference-in-differences against "
    "the other teams, and the power: the minimum detectable change (MDE) at the samples so far against the "
    "playbook's expected change (fct_intervention_outcomes)."
)
conn = connection()
try:
    outcomes = queries.intervention_outcomes(conn)
except Exception as error:
    ui.no_marts(error)
    st.stop()

if outcomes.empty:
    st.info(
        "No verified intervention yet: approve a recommendation (Recommendations page) with its start date; "
        "the next `heimdall build` verifies it."
    )
    st.stop()

ids = list(dict.fromkeys(outcomes["recommendation_id"]))
requested = st.query_params.get("recommendation")
if requested and requested not in ids:
    st.warning(f"**{requested}** has no verified outcome (is it approved, and built since?).")
chosen = st.selectbox(
    "Approved recommendation", ids, index=ids.index(requested) if requested in ids else 0, key="intervention"
)
ui.follow_selection(recommendation=chosen)
rows = outcomes[outcomes["recommendation_id"] == chosen]
watched = rows[rows["metric_role"] == "watched"]
main = (watched if not watched.empty else rows).iloc[0]


def direction_words(row: pd.Series) -> str:
    if ui.is_missing(row["treated_before"]) or ui.is_missing(row["treated_after"]):
        return f"{row['metric_name']} has too few observations on one side of the start to compare."
    return (
        f"The {row['aggregation']} of `{row['metric_name']}` for team {row['team_id']} went from "
        f"**{ui.num(row['treated_before'], 2)}** ({row['baseline_start']} to {row['baseline_end']}, "
        f"n={int(row['treated_n_before'])}) to **{ui.num(row['treated_after'], 2)}** "
        f"({row['current_start']} to {row['current_end']}, n={int(row['treated_n_after'])}): "
        f"a change of **{ui.num(row['change'], 2)}**. Tested week by week on "
        + (
            "log(1 + value), the typical value moved"
            if row.get("test_scale") == "log1p"
            else "the mean, it moved"
        )
        + f" **{ui.pct(row['change_pct'], signed=True)}**: 95% interval {ui.num(row['change_ci_low'], 2)} to "
        f"{ui.num(row['change_ci_high'], 2)} ({ui.pct(row['change_pct_ci_low'], signed=True)} to "
        f"{ui.pct(row['change_pct_ci_high'], signed=True)})."
    )


def did_words(row: pd.Series) -> str:
    if ui.is_missing(row["did_estimate"]):
        return "No difference-in-differences: the control teams have too little data."
    return (
        f"Over the same weeks the control teams ({row['control_teams']}) went from "
        f"{ui.num(row['control_before'], 2)} to {ui.num(row['control_after'], 2)}; the "
        f"difference-in-differences is **{ui.num(row['did_estimate'], 2)}** "
        f"(95% interval {ui.num(row['did_ci_low'], 2)} to {ui.num(row['did_ci_high'], 2)})."
    )


def in_short(row: pd.Series) -> str:
    """The verdict in one plain sentence."""
    change = ui.pct(abs(float(row["change_pct"])) if not ui.is_missing(row["change_pct"]) else None)
    verdict = str(row["verdict"])
    if verdict == "improved":
        return (
            f"it worked — `{row['metric_name']}` moved the right way by about {change}, more than chance "
            "explains."
        )
    if verdict == "worsened":
        return f"it went the wrong way — `{row['metric_name']}` worsened by about {change}, beyond chance."
    if verdict == "no detectable change":
        return (
            f"no measurable effect — the change of `{row['metric_name']}` is within what chance produces "
            "(or the other teams changed alike), though the data was enough to show it: reconsider."
        )
    if verdict == "not enough data to tell yet":
        return f"not enough data to tell yet — {decidable_words(row)}"
    return "cannot tell — the baseline before the start has too few observations to compare with."


def decidable_words(row: pd.Series) -> str:
    """When the verification should be able to tell, in words."""
    if ui.is_missing(row.get("expected_decidable_on")):
        return (
            "the team's volume and week-to-week variability of the metric are too large for the expected "
            "change to become provable; judge it on the guard and the weekly chart."
        )
    return f"expected decidable on **{row['expected_decidable_on']}** at the team's weekly volume."


def power_words(row: pd.Series) -> str:
    if ui.is_missing(row.get("minimum_detectable_change_pct")):
        return "No power figure: one window has no observations."
    mde = ui.pct(row["minimum_detectable_change_pct"])
    if ui.is_missing(row.get("expected_change_pct")):
        return f"Minimum detectable change (worsening) at these samples: **{mde}**."
    expected = ui.pct(abs(float(row["expected_change_pct"])))
    if bool(row["is_powered"]):
        return (
            f"Minimum detectable change at these samples: **{mde}** against the expected {expected}: the "
            "data could have shown the expected change."
        )
    return (
        f"Minimum detectable change at these samples: **{mde}** against the expected {expected}: not enough "
        f"data to tell yet, {decidable_words(row)}"
    )


st.header(f"{main['title']} · team {main['team_id']}")
colour = VERDICT_COLOUR.get(str(main["verdict"]), "blue")
st.markdown(f"Verdict: :{colour}-badge[{main['verdict']}] · started **{main['intervention_start_date']}**")
m1, m2, m3, m4, m5 = st.columns(5)
m1.metric("Before", ui.num(main["treated_before"], 2))
m2.metric("After", ui.num(main["treated_after"], 2))
m3.metric(
    "Change",
    ui.pct(main["change_pct"], signed=True),
    help=f"95% CI {ui.pct(main['change_pct_ci_low'], signed=True)} to "
    f"{ui.pct(main['change_pct_ci_high'], signed=True)}",
)
m4.metric(
    "Diff-in-diff",
    ui.num(main["did_estimate"], 2),
    help=f"95% CI {ui.num(main['did_ci_low'], 2)} to {ui.num(main['did_ci_high'], 2)}, on the test scale "
    f"({'log(1 + value)' if main.get('test_scale') == 'log1p' else 'the value'})",
)
m5.metric(
    "Min. detectable",
    ui.pct(main.get("minimum_detectable_change_pct")),
    help="The smallest change the verification detects 4 times in 5 at the samples so far"
    + (
        f"; expected {ui.pct(abs(float(main['expected_change_pct'])))}"
        if not ui.is_missing(main.get("expected_change_pct"))
        else ""
    ),
)
st.markdown(f"**In short:** {in_short(main)}")
st.markdown(direction_words(main))
st.markdown(did_words(main))
st.markdown(f"**Power:** {power_words(main)}")
st.markdown(f"**Basis of the verdict:** {main['verdict_basis']}")

controls = [team.strip() for team in str(main["control_teams"] or "").split(",") if team.strip()]
weekly = queries.weekly_metric(
    conn, str(main["metric_name"]), str(main["aggregation"]), str(main["team_id"]), controls
)
if not weekly.empty:
    weekly["week_start_date"] = pd.to_datetime(weekly["week_start_date"])
    start = pd.Timestamp(main["intervention_start_date"])
    lines = (
        alt.Chart(weekly)
        .mark_line(point=True)
        .encode(
            x=alt.X("week_start_date:T", title="week"),
            y=alt.Y("value:Q", title=f"{main['aggregation']} {main['metric_name']}"),
            color=alt.Color(
                "arm:N",
                title=None,
                scale=alt.Scale(domain=["treated", "control"], range=["#2f80ed", "#9aa5b1"]),
            ),
            tooltip=["week_start_date:T", "arm", alt.Tooltip("value:Q", format=".2f"), "n"],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"start": [start], "label": ["intervention start"]}))
        .mark_rule(color="#eb5757", strokeDash=[6, 4], size=2)
        .encode(x="start:T", tooltip=["label", "start:T"])
    )
    st.altair_chart((lines + rule).properties(height=320), width="stretch")
    st.caption(
        f"Weekly {main['aggregation']} of the items in fct_metric_observations (the items verification "
        f"resamples): team {main['team_id']} (treated) and {', '.join(controls) or 'no'} control team(s) "
        "together; the red line is the intervention start."
    )

guards = rows[rows["metric_role"] == "guard"]
for guard in guards.itertuples():
    g_colour = VERDICT_COLOUR.get(str(guard.verdict), "blue")
    st.markdown(
        f"**Guard `{guard.metric_name}`:** :{g_colour}-badge[{guard.verdict}] — "
        f"{ui.num(guard.treated_before, 3)} → {ui.num(guard.treated_after, 3)}. {guard.verdict_basis}"
    )
    if guard.verdict == "worsened":
        st.warning("The guard worsened: the watched metric's change may come at that cost.")

with st.expander("All numbers (fct_intervention_outcomes)"):
    st.dataframe(rows.drop(columns=["random_seed"], errors="ignore"), hide_index=True, width="stretch")
