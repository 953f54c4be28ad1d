"""The committed bundle (superset/assets/) and dbt exposures are current, and say what the issue promises:
six dashboards with team / project / date filters, 6.1 viz types, a saved query context and a description
naming a mart on every chart, datasets over marts only with every column their charts use, no secret."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from heimdall.superset.assets import (
    INVESTIGATOR_URL_PLACEHOLDER,
    SQLALCHEMY_URI_PLACEHOLDER,
    render_bundle,
)
from heimdall.superset.bundle import EXPOSURES, exposures_text, marts_read, write_bundle
from heimdall.superset.dashboards import DASHBOARDS
from heimdall.superset.provision import fill_bundle, read_bundle
from tests.support import mart_names
from warehouse.settings import PROJECT_ROOT

ASSETS = PROJECT_ROOT / "superset" / "assets"
VIZ_TYPES_6_1 = {
    "big_number",
    "big_number_total",
    "echarts_timeseries_line",
    "echarts_timeseries_bar",
    "echarts_area",
    "table",
    "pie",
    "heatmap_v2",
    "box_plot",
}
TITLES = [
    "VALSKJALF — Executive overview",
    "HUGINN — Operational flow",
    "MUNINN — Historical trends",
    "GJALLARHORN — Risk monitor",
    "Code review and CI",
    "Recommendations and ROI",
]


def _files() -> dict[str, dict]:
    return {name: yaml.safe_load(text) for name, text in read_bundle(ASSETS).items()}


def test_committed_bundle_and_exposures_are_current() -> None:
    assert write_bundle(ASSETS, dry_run=True) == [], "run `heimdall superset assets` and commit the result"
    assert EXPOSURES.read_text(encoding="utf-8") == exposures_text()


def test_metadata_says_only_the_version() -> None:
    assert _files()["metadata.yaml"] == {"version": "1.0.0"}


def test_six_dashboards_with_team_project_and_date_filters() -> None:
    dashboards = [f for name, f in _files().items() if name.startswith("dashboards/")]
    assert sorted(d["dashboard_title"] for d in dashboards) == sorted(TITLES)
    for dashboard in dashboards:
        filters = dashboard["metadata"]["native_filter_configuration"]
        assert [(f["name"], f["filterType"]) for f in filters] == [
            ("Team", "filter_select"),
            ("Project", "filter_select"),
            ("Date range", "filter_time"),
        ]
        assert filters[0]["targets"][0]["column"]["name"] == "team_id"
        assert filters[1]["targets"][0]["column"]["name"] == "project"
        charts = [
            c for c in dashboard["position"].values() if isinstance(c, dict) and c.get("type") == "CHART"
        ]
        assert len({c["meta"]["uuid"] for c in charts}) == len(charts) >= 8


def test_every_chart_has_a_6_1_viz_type_a_query_context_and_a_description() -> None:
    files = _files()
    datasets = {f["uuid"]: f for name, f in files.items() if name.startswith("datasets/")}
    charts = [f for name, f in files.items() if name.startswith("charts/")]
    assert len(charts) == sum(len(d.charts) for d in DASHBOARDS)
    for chart in charts:
        name = chart["slice_name"]
        assert chart["viz_type"] in VIZ_TYPES_6_1, name
        assert chart["params"]["viz_type"] == chart["viz_type"], name
        context = json.loads(chart["query_context"])
        assert context["queries"] and context["form_data"]["viz_type"] == chart["viz_type"], name
        assert re.search(r"\b(fct|dim|rpt)_\w+", chart["description"]), f"{name}: no mart named"
        dataset = datasets[chart["dataset_uuid"]]
        columns = {c["column_name"] for c in dataset["columns"]}
        metrics = {m["metric_name"] for m in dataset["metrics"]}
        for query in context["queries"]:
            used = [c if isinstance(c, str) else c["sqlExpression"] for c in query["columns"]]
            used += [f["col"] for f in query["filters"]]
            assert set(used) <= columns, (name, set(used) - columns)
            assert set(query["metrics"] or []) <= metrics, (name, set(query["metrics"] or []) - metrics)


def test_datasets_read_marts_only_and_name_them() -> None:
    marts = set(mart_names())
    for dashboard in DASHBOARDS:
        for chart in dashboard.charts:
            dataset = chart.dataset
            assert not re.search(r"\b(raw|app|analysis|staging|intermediate|seeds)\.", dataset.sql), (
                dataset.key
            )
            assert dataset.marts_read() == set(dataset.marts), dataset.key
            assert set(dataset.marts) <= marts, (dataset.key, set(dataset.marts) - marts)


def test_no_secret_or_machine_value_is_committed() -> None:
    texts = read_bundle(ASSETS)
    database = yaml.safe_load(texts["databases/heimdall_marts.yaml"])
    assert database["sqlalchemy_uri"] == SQLALCHEMY_URI_PLACEHOLDER
    assert not database["allow_dml"] and not database["allow_file_upload"]
    joined = "\n".join(texts.values())
    assert "password" not in joined.lower() and "postgresql://" not in joined
    filled = fill_bundle(
        texts, database_uri="postgresql+psycopg2://u:XXXXXXXXXX@h/db", investigator_url="http://i/"
    )
    assert not any(
        INVESTIGATOR_URL_PLACEHOLDER in t or SQLALCHEMY_URI_PLACEHOLDER in t for t in filled.values()
    )
    assert "http://i/?issue=" in "\n".join(filled.values())


def test_stable_uuids() -> None:
    assert render_bundle(DASHBOARDS) == render_bundle(DASHBOARDS)
    uuids = [f["uuid"] for f in _files().values() if "uuid" in f]
    assert len(uuids) == len(set(uuids))


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=[d.key for d in DASHBOARDS])
def test_exposure_depends_on_the_marts_its_datasets_read(dashboard) -> None:
    exposures = {e["name"]: e for e in yaml.safe_load(EXPOSURES.read_text())["exposures"]}
    exposure = exposures[dashboard.key]
    assert exposure["type"] == "dashboard" and exposure["url"].endswith(
        f"/superset/dashboard/{dashboard.slug}/"
    )
    assert exposure["owner"]["name"]
    assert exposure["depends_on"] == [f"ref('{mart}')" for mart in marts_read(dashboard)]
