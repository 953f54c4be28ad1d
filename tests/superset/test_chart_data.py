"""Every chart of every dashboard answers the chart-data API with rows on demo-like data, the executive big
numbers equal the same figures queried straight from the marts, and the demo's planted approval reaches the
verification (its outcome is what dashboard 6 shows)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from heimdall.superset.dashboards import DASHBOARDS, VALSKJALF
from tests.superset.conftest import SupersetInstance, prepare_superset

prepare_in_background = prepare_superset  # the session's Superset, built in the background lane

CHARTS = [(dashboard.title, chart) for dashboard in DASHBOARDS for chart in dashboard.charts]


@pytest.fixture(scope="module")
def chart_ids(superset_client) -> dict[str, int]:
    return {row["uuid"]: row["id"] for row in superset_client.list("chart", ("id", "uuid"))}


def chart_rows(client: Any, chart_id: int) -> list[dict[str, Any]]:
    body = client.chart_data(chart_id)
    errors = [query.get("error") for query in body["result"] if query.get("error")]
    assert not errors, errors
    return [row for query in body["result"] for row in query["data"]]


@pytest.mark.parametrize(("dashboard", "chart"), CHARTS, ids=[chart.key for _, chart in CHARTS])
def test_every_chart_answers_with_rows(dashboard, chart, superset_client, chart_ids) -> None:
    assert chart.uuid in chart_ids, f"{dashboard} / {chart.title}: not in Superset after provisioning"
    try:
        rows = chart_rows(superset_client, chart_ids[chart.uuid])
    except Exception as exc:  # the chart's name in the failure, whatever went wrong
        pytest.fail(f"{dashboard} / {chart.title} ({chart.key}): {exc}")
    assert rows, f"{dashboard} / {chart.title} ({chart.key}): no rows"


def _query(instance: SupersetInstance, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(instance.warehouse_url) as conn:
        return conn.execute(statement, params).fetchall()


def _close(actual: Any, expected: Any) -> bool:
    if actual is None or expected is None:
        return actual is expected
    return abs(float(actual) - float(expected)) < 1e-6 * max(1.0, abs(float(expected)))


def _last_complete_week(instance: SupersetInstance) -> tuple[date, date]:
    (as_of_day,) = _query(instance, "select max(date_day) from marts.dim_dates")[0]
    monday = as_of_day - timedelta(days=as_of_day.weekday())
    return monday - timedelta(days=7), monday


def _trend_value(client: Any, chart_id: int, metric: str) -> tuple[Any, Any]:
    rows = chart_rows(client, chart_id)
    last = max(rows, key=lambda row: row["done_at"])
    return last["done_at"], last[metric]


def test_executive_big_numbers_equal_the_marts(superset_instance, superset_client, chart_ids) -> None:
    charts = {chart.key: chart for chart in VALSKJALF.charts}
    start, end = _last_complete_week(superset_instance)
    week = "is_done_work and done_at >= %s and done_at < %s"
    expected = {
        "valskjalf_throughput": _query(
            superset_instance, f"select count(*) from marts.fct_issue_lifecycle where {week}", (start, end)
        )[0][0],
        "valskjalf_cycle_time": _query(
            superset_instance,
            "select percentile_cont(0.5) within group (order by cycle_time_hours / 24.0) "
            f"from marts.fct_issue_lifecycle where {week}",
            (start, end),
        )[0][0],
        "valskjalf_blocked_share": _query(
            superset_instance,
            "select sum(blocked_hours) / nullif(sum(cycle_time_hours), 0) "
            f"from marts.fct_issue_lifecycle where {week}",
            (start, end),
        )[0][0],
        "valskjalf_rework_rate": _query(
            superset_instance,
            "select avg(case when is_reworked then 1 else 0 end) "
            f"from marts.fct_issue_lifecycle where {week}",
            (start, end),
        )[0][0],
    }
    for key, value in expected.items():
        chart = charts[key]
        shown_week, shown = _trend_value(superset_client, chart_ids[chart.uuid], chart.params["metric"])
        # the big number is the last point of the series: the last complete week
        assert datetime.fromtimestamp(shown_week / 1000, UTC).date() == start, (key, shown_week, start)
        assert _close(shown, value), (key, shown, value)
    wip_rows = chart_rows(superset_client, chart_ids[charts["valskjalf_wip_now"].uuid])
    (open_items,) = _query(superset_instance, "select count(*) from marts.fct_wip_current")[0]
    assert wip_rows[0]["open_items"] == open_items
    headline_rows = chart_rows(superset_client, chart_ids[charts["valskjalf_headlines"].uuid])
    marts = dict(_query(superset_instance, "select label, value from marts.rpt_headline_metrics"))
    assert {row["label"]: row["value"] for row in headline_rows} == {
        label: (float(value) if isinstance(value, Decimal) else value) for label, value in marts.items()
    }


def test_the_demo_approves_the_planted_intervention_and_verifies_it(superset_instance) -> None:
    decisions = _query(
        superset_instance,
        "select recommendation_id, decision, decided_by, intervention_start_date "
        "from app.recommendation_decisions",
    )
    assert len(decisions) == 1, decisions
    recommendation, decision, by, start = decisions[0]
    assert (recommendation, decision) == ("checkout:slow_review_pickup", "approved")
    assert "dashboards_planted scenario" in by and "start week 15" in by, by
    assert start.isoformat() in superset_instance.demo_output
    outcomes = _query(
        superset_instance, "select recommendation_id, verdict from marts.fct_intervention_outcomes"
    )
    assert ("checkout:slow_review_pickup", "improved") in outcomes, outcomes
    assert _query(superset_instance, "select count(*) from marts.fct_roi_comparison")[0][0] > 0
