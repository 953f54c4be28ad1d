"""Every page of the Streamlit app (streamlit.testing.v1.AppTest) on a demo warehouse built by the real
pipeline (tests/apps/conftest.py): renders without exception, shows the marts' numbers (compared with
direct SQL here), deep links by query parameter, records decisions (exactly one row each) through the app's
role, and says clearly when an issue does not exist."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from tests.apps.conftest import APP_SCRIPT, AppsWarehouse, prepare_apps
from tests.support import Preparation

PAGES = {
    "investigator": "app_pages/investigator.py",
    "wip": "app_pages/wip_triage.py",
    "recommendations": "app_pages/recommendations.py",
    "interventions": "app_pages/interventions.py",
    "data_status": "app_pages/data_status.py",
}
TITLES = {
    "investigator": "Issue Investigator",
    "wip": "WIP Triage",
    "recommendations": "Recommendations",
    "interventions": "Intervention tracker",
    "data_status": "Data status",
}


def prepare_in_background(prep: Preparation) -> AppsWarehouse:
    """`heimdall demo --approve-planted` into this module's database (starts with the session)."""
    return prepare_apps(prep)


def open_page(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(APP_SCRIPT), default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page != "investigator":
        at.switch_page(PAGES[page])
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{float(value):,.{digits}f}"


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r}: {[m.label for m in at.metric]}"
    return values[0]


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_without_exception(app_env: AppsWarehouse, page: str) -> None:
    at = open_page(page)
    assert [t.value for t in at.title] == [TITLES[page]]
    assert not at.error, [e.value for e in at.error]


@pytest.fixture(scope="module")
def known_issue(apps_warehouse: AppsWarehouse) -> dict:
    """A done issue with a blocker window and a linked, deployed merge request (the richest timeline)."""
    rows = apps_warehouse.query(
        """
        select lifecycle.*
        from marts.fct_issue_lifecycle as lifecycle
        where lifecycle.is_done_work
          and exists (select 1 from marts.fct_blocked_intervals b where b.issue_id = lifecycle.issue_id)
          and exists (
              select 1 from marts.fct_issue_merge_request_links l
              join marts.fct_merge_requests m on m.merge_request_id = l.merge_request_id
              where l.issue_key = lifecycle.issue_key and m.production_deployment_id is not null
          )
        order by lifecycle.issue_key
        limit 1
        """
    )
    assert rows, "the demo organisation has no issue with a blocker and a deployed merge request"
    return rows[0]


def test_investigator_shows_the_marts_numbers_for_an_issue_linked_by_query_parameter(
    app_env: AppsWarehouse, known_issue: dict
) -> None:
    key = known_issue["issue_key"]
    at = open_page("investigator", issue=key)
    assert at.text_input(key="issue_search").value == key
    assert at.subheader[0].value.startswith(f"{key} · ")
    assert at.query_params["issue"] == key
    assert metric(at, "Cycle time (h)") == fmt(known_issue["cycle_time_hours"])
    assert metric(at, "Lead time (h)") == fmt(known_issue["lead_time_hours"])
    assert metric(at, "Blocked (h)") == fmt(known_issue["blocked_hours"])
    assert metric(at, "Flow efficiency") == f"{100 * float(known_issue['flow_efficiency']):,.0f}%"
    median = app_env.query(
        """
        select count(*) as n, percentile_cont(0.5) within group (order by cycle_time_hours) as cycle
        from marts.fct_issue_lifecycle where team_id = %s and is_done_work
        """,
        (known_issue["team_id"],),
    )[0]
    captions = " ".join(c.value for c in at.caption)
    assert f"median over its {median['n']} done issues: cycle {fmt(median['cycle'])} h" in captions
    # the tables behind the timeline are the marts' rows
    intervals = app_env.query(
        "select count(*) as n from marts.fct_issue_status_intervals where issue_id = %s",
        (known_issue["issue_id"],),
    )[0]["n"]
    blocks = app_env.query(
        "select count(*) as n from marts.fct_blocked_intervals where issue_id = %s",
        (known_issue["issue_id"],),
    )[0]["n"]
    assert len(at.dataframe[0].value) == intervals
    assert len(at.dataframe[1].value) == blocks
    # the raw changelog for audit, and its sprint / assignee changes on the timeline
    changelog = app_env.query(
        "select change_kind, to_string from marts.fct_issue_changelog where issue_id = %s "
        "order by changed_at, history_id, item_seq",
        (known_issue["issue_id"],),
    )
    shown = at.dataframe[-1].value
    assert len(shown) == len(changelog) > 0
    assert shown["change_kind"].tolist() == [row["change_kind"] for row in changelog]
    assert [t.label for t in at.tabs][-1] == "Changelog"


def test_an_unknown_issue_key_gives_a_clear_message(app_env: AppsWarehouse) -> None:
    at = open_page("investigator", issue="NOPE-99999")
    assert [w.value for w in at.warning] == [
        "No issue matches **NOPE-99999**: no issue key, summary or linked merge request title contains it."
    ]
    assert not at.subheader and not at.metric


def test_wip_triage_ranks_the_teams_work_by_the_marts_risk_score(app_env: AppsWarehouse) -> None:
    at = open_page("wip", team="payments")
    expected = app_env.query(
        """
        select issue_key, risk_score, is_flagged, has_assignee from marts.fct_wip_current
        where team_id = 'payments' order by risk_score desc, age_days desc, issue_key
        """
    )
    assert at.selectbox(key="wip_team").value == "payments"
    assert metric(at, "Items in progress") == f"{len(expected):,}"
    assert metric(at, "Flagged now") == str(sum(row["is_flagged"] for row in expected))
    assert metric(at, "Unassigned") == str(sum(not row["has_assignee"] for row in expected))
    table = at.dataframe[0].value
    assert table["risk_score"].tolist() == [row["risk_score"] for row in expected]
    assert table["investigate"].tolist() == [f"/?issue={row['issue_key']}" for row in expected]
    assert all(table["why"].str.len() > 0)
    # another team, and the address follows the selection
    at.selectbox(key="wip_team").select("checkout").run()
    assert at.query_params["team"] == "checkout"
    assert all(at.dataframe[0].value["team_id"] == "checkout")


def _decisions(app_env: AppsWarehouse, recommendation_id: str) -> list[dict]:
    return app_env.query(
        "select * from app.recommendation_decisions where recommendation_id = %s order by decision_id",
        (recommendation_id,),
    )


def test_recommendations_show_the_marts_values(app_env: AppsWarehouse) -> None:
    rec = app_env.query("select * from marts.fct_recommendations where rank = 1")[0]
    at = open_page("recommendations", recommendation=rec["recommendation_id"])
    assert at.selectbox(key="recommendation_choice").value == rec["recommendation_id"]
    assert at.header[0].value == rec["title"]
    assert metric(at, "Current value") == fmt(rec["current_value"], 2)
    assert metric(at, "Hours lost / week") == fmt(rec["hours_lost_per_week"])
    assert metric(at, f"Value / week ({rec['hourly_cost_currency']})") == fmt(rec["weekly_value"], 0)
    evidence = at.dataframe[1].value
    assert len(evidence) == min(25, rec["evidence_count"])
    # the hourly cost is a what-if: the value follows it, nothing is stored
    at.number_input(key=f"hourly_cost_{rec['recommendation_id']}").set_value(200.0).run()
    assert metric(at, f"Value / week ({rec['hourly_cost_currency']})") == fmt(
        200 * float(rec["hours_recovered_per_week"]), 0
    )


@pytest.mark.parametrize("decision", ["approved", "rejected"])
def test_a_decision_writes_exactly_one_row(app_env: AppsWarehouse, decision: str) -> None:
    rec_id = "platform:ci_retry_waste"
    before = _decisions(app_env, rec_id)
    at = open_page("recommendations", recommendation=rec_id)
    at.text_input(key="decided_by").input("Grace Lead")
    at.text_area(key="decision_note").input(f"{decision} in a test")
    at.date_input(key="decision_start").set_value(date(2026, 11, 2))
    button = next(b for b in at.button if b.label == ("Approve" if decision == "approved" else "Reject"))
    button.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    after = _decisions(app_env, rec_id)
    assert len(after) == len(before) + 1
    row = after[-1]
    assert (row["decision"], row["decided_by"], row["note"]) == (
        decision,
        "Grace Lead",
        f"{decision} in a test",
    )
    assert row["intervention_start_date"] == (date(2026, 11, 2) if decision == "approved" else None)
    assert (row["team_id"], row["rule_id"]) == ("platform", "ci_retry_waste")
    assert f"Recorded decision {row['decision_id']}: {rec_id} {decision}" in at.success[0].value
    history = at.dataframe[-1].value
    assert history["decision_id"].tolist()[-1] == row["decision_id"]


def test_a_rejection_without_a_reason_is_refused_and_writes_nothing(app_env: AppsWarehouse) -> None:
    rec_id = "platform:ci_retry_waste"
    before = _decisions(app_env, rec_id)
    at = open_page("recommendations", recommendation=rec_id)
    at.text_input(key="decided_by").input("Grace Lead")
    next(b for b in at.button if b.label == "Reject").click().run()
    assert [e.value for e in at.error] == ["a rejection needs a reason (--note ...)"]
    assert len(_decisions(app_env, rec_id)) == len(before)


def test_intervention_tracker_shows_the_verified_planted_intervention(app_env: AppsWarehouse) -> None:
    outcome = app_env.query(
        "select * from marts.fct_intervention_outcomes "
        "where recommendation_id = 'checkout:slow_review_pickup' and metric_role = 'watched'"
    )[0]
    at = open_page("interventions", recommendation="checkout:slow_review_pickup")
    assert outcome["verdict"] == "improved"  # the planted review SLO halves pickup
    markdown = " ".join(m.value for m in at.markdown)
    assert "improved" in markdown
    assert metric(at, "Before") == fmt(outcome["treated_before"], 2)
    assert metric(at, "After") == fmt(outcome["treated_after"], 2)
    assert metric(at, "Change") == f"{100 * float(outcome['change_pct']):+,.0f}%"
    assert metric(at, "Diff-in-diff") == fmt(outcome["did_estimate"], 2)
    assert (
        f"95% interval {fmt(outcome['change_ci_low'], 2)} to {fmt(outcome['change_ci_high'], 2)}" in markdown
    )
    assert outcome["verdict_basis"] in markdown


def _pct(value: object) -> str:
    return f"{100 * float(value):,.0f}%"  # type: ignore[arg-type]


def test_recommendations_name_each_teams_recommendation_of_the_week(app_env: AppsWarehouse) -> None:
    """Issue 12: per team, the costliest diagnosis whose success the verification could prove, with "success
    provable: yes/no (MDE x% vs expected y%)" from the mart's own columns."""
    picks = app_env.query(
        "select * from marts.fct_recommendations where is_recommendation_of_the_week order by team_id"
    )
    assert picks, "no current diagnosis has a recommendation of the week"
    assert len({pick["team_id"] for pick in picks}) == len(picks)  # one per team
    at = open_page("recommendations", recommendation=picks[0]["recommendation_id"])
    assert "Recommendation of the week" in [h.value for h in at.subheader]
    markdown = " ".join(m.value for m in at.markdown)
    for pick in picks:
        provable = "yes" if pick["is_success_provable"] else "no"
        words = (
            f"success provable: {provable} (MDE {_pct(pick['minimum_detectable_change_pct'])} vs expected "
            f"{_pct(abs(pick['expected_change_pct']))})"
        )
        assert f"**{pick['team_id']}** — [{pick['title']}]" in markdown
        assert words in markdown, words
    # the chosen recommendation states its power too
    assert "**Verification power:** success provable:" in markdown


def test_intervention_tracker_shows_the_minimum_detectable_change(app_env: AppsWarehouse) -> None:
    outcome = app_env.query(
        "select * from marts.fct_intervention_outcomes "
        "where recommendation_id = 'checkout:slow_review_pickup' and metric_role = 'watched'"
    )[0]
    at = open_page("interventions", recommendation="checkout:slow_review_pickup")
    assert metric(at, "Min. detectable") == _pct(outcome["minimum_detectable_change_pct"])
    markdown = " ".join(m.value for m in at.markdown)
    mde = _pct(outcome["minimum_detectable_change_pct"])
    assert f"**Power:** Minimum detectable change at these samples: **{mde}**" in markdown


def test_intervention_tracker_says_when_it_will_be_able_to_tell(
    app_env: AppsWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An underpowered outcome (a copy of the planted one, written into the mart for this test) shows "not
    enough data to tell yet" with the day the verification expects to be able to tell."""
    from streamlit_apps.db import TTL_VARIABLE

    monkeypatch.setenv(TTL_VARIABLE, "0")  # read the mart live, not the pages' cached rows
    fake = "checkout:test_underpowered"
    with psycopg.connect(app_env.url) as conn:
        conn.execute(
            "create temporary table fake_outcome as select * from marts.fct_intervention_outcomes "
            "where recommendation_id = 'checkout:slow_review_pickup' and metric_role = 'watched'"
        )
        conn.execute(
            """
            update fake_outcome
            set recommendation_id = %s, intervention_outcome_id = %s, verdict = 'not enough data to tell yet',
                is_powered = false, minimum_detectable_change_pct = 0.8, expected_change_pct = -0.5,
                expected_decidable_on = date '2026-12-18', verdict_basis = 'underpowered in a test'
            """,
            (fake, f"{fake}:review_pickup_working_hours"),
        )
        conn.execute("insert into marts.fct_intervention_outcomes select * from fake_outcome")
    try:
        at = open_page("interventions")
        at.selectbox(key="intervention").set_value(fake).run()
        assert not at.exception, [e.value for e in at.exception]
        markdown = " ".join(m.value for m in at.markdown)
        assert ":orange-badge[not enough data to tell yet]" in markdown
        assert "not enough data to tell yet — expected decidable on **2026-12-18**" in markdown
        assert "**80%** against the expected 50%: not enough data to tell yet" in markdown
        assert metric(at, "Min. detectable") == "80%"
    finally:
        with psycopg.connect(app_env.url) as conn:
            conn.execute("delete from marts.fct_intervention_outcomes where recommendation_id = %s", (fake,))


def test_data_status_shows_the_loads_and_the_last_build(app_env: AppsWarehouse) -> None:
    at = open_page("data_status")
    loaded = app_env.query(
        "select sum(rows_loaded) as n from app.load_batches "
        "where source = 'synthetic' and status = 'succeeded'"
    )[0]["n"]
    as_of = app_env.query("select max(as_of) as as_of from marts.rpt_build_runs where is_latest_success")[0][
        "as_of"
    ]
    sources = at.dataframe[0].value.set_index("source")
    assert sources.loc["Synthetic generator", "documents loaded"] == loaded
    assert sources.loc["Jira Cloud", "configured"] == "no"
    assert metric(at, "as_of of the last successful build") == str(as_of)[:16]


def test_a_root_link_naming_a_recommendation_opens_the_recommendations_page(app_env: AppsWarehouse) -> None:
    at = AppTest.from_file(str(APP_SCRIPT), default_timeout=90)
    at.query_params["recommendation"] = "platform:ci_retry_waste"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Recommendations"]
    assert at.selectbox(key="recommendation_choice").value == "platform:ci_retry_waste"


def test_a_root_link_naming_a_team_opens_wip_triage(app_env: AppsWarehouse) -> None:
    at = AppTest.from_file(str(APP_SCRIPT), default_timeout=90)
    at.query_params["team"] = "checkout"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["WIP Triage"]
    assert at.selectbox(key="wip_team").value == "checkout"


def test_the_investigator_finds_an_issue_by_its_summary(app_env: AppsWarehouse, known_issue: dict) -> None:
    words = known_issue["summary"]
    expected = [
        row["issue_key"]
        for row in app_env.query(
            """
            select issue_key from marts.fct_issue_lifecycle as lifecycle
            where summary ilike %(p)s or issue_key ilike %(p)s or exists (
                select 1 from marts.fct_issue_merge_request_links l
                join marts.fct_merge_requests m on m.merge_request_id = l.merge_request_id
                where l.issue_key = lifecycle.issue_key and m.title ilike %(p)s
            )
            """,
            {"p": f"%{words}%"},
        )
    ]
    assert known_issue["issue_key"] in expected
    at = open_page("investigator", issue=words)
    if len(expected) == 1:
        assert at.subheader[0].value.startswith(f"{known_issue['issue_key']} · ")
        assert f"**{words}**" in [m.value for m in at.markdown]
    else:  # several issues share the words: the page asks which
        options = at.selectbox[0].options
        assert sorted(option.split(" · ")[0] for option in options) == sorted(expected)
