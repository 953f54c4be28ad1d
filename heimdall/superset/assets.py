"""The building blocks of the dashboards and their rendering into a Superset 6.1 import bundle.

A :class:`Dataset` is a virtual dataset: SQL over ``marts`` only, with the columns and saved metrics its
charts
use. A :class:`Chart` carries its Superset ``params`` (what the browser renders) and the ``query_context`` the
chart-data API answers from, both built here from one description so they cannot disagree. A
:class:`Dashboard` lays charts out in rows and adds the native filters (team, project, date range).

``render_bundle`` turns them into the files of ``superset/assets/`` (stable UUIDs derived from the keys);
``heimdall superset assets`` writes them and a test checks the committed files are current. Values only known
on the machine (the database URI, the Issue Investigator URL) are placeholders filled in at provisioning time.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

NAMESPACE = uuid.UUID("6f1f3c1e-4f0b-5c7e-9a55-6865696d6461")  # "heimdall" assets; never change
VERSION = "1.0.0"
DATABASE_KEY = "heimdall_marts"
DATABASE_NAME = "Heimdall marts (read-only)"
SQLALCHEMY_URI_PLACEHOLDER = "__HEIMDALL_SQLALCHEMY_URI__"
INVESTIGATOR_URL_PLACEHOLDER = "__HEIMDALL_INVESTIGATOR_URL__"
NO_FILTER = "No filter"

TEXT = "TEXT"
NUMBER = "NUMERIC"
INTEGER = "BIGINT"
BOOLEAN = "BOOLEAN"
TIMESTAMP = "TIMESTAMP WITH TIME ZONE"
DATE = "DATE"


def stable_uuid(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def issue_link(key_sql: str) -> str:
    """SQL for an HTML link from an issue key to the Streamlit Issue Investigator (``<url>?issue=KEY``)."""
    return (
        f"case when {key_sql} is null then null else "
        f"'<a href=\"{INVESTIGATOR_URL_PLACEHOLDER}?issue=' || {key_sql} || '\" target=\"_blank\">' "
        f"|| {key_sql} || '</a>' end"
    )


def html_link(url_sql: str, label_sql: str) -> str:
    """SQL for an HTML link to ``url_sql`` labelled ``label_sql`` (the label alone when there is no URL)."""
    return (
        f"case when {url_sql} is null then {label_sql} else "
        f"'<a href=\"' || {url_sql} || '\" target=\"_blank\">' || {label_sql} || '</a>' end"
    )


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    label: str
    description: str = ""

    @property
    def is_dttm(self) -> bool:
        return self.type in (TIMESTAMP, DATE)


@dataclass(frozen=True)
class Metric:
    name: str
    expression: str
    label: str
    description: str
    d3format: str | None = None


@dataclass(frozen=True)
class Dataset:
    key: str
    description: str
    sql: str
    marts: tuple[str, ...]
    columns: tuple[Column, ...]
    metrics: tuple[Metric, ...] = ()
    main_dttm_col: str | None = None

    @property
    def table_name(self) -> str:
        return f"heimdall_{self.key}"

    @property
    def uuid(self) -> str:
        return stable_uuid("dataset", self.key)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"dataset {self.key} has no column {name}")

    def metric(self, name: str) -> Metric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(f"dataset {self.key} has no metric {name}")

    def marts_read(self) -> set[str]:
        """The marts its SQL names (``marts.<model>``)."""
        return set(re.findall(r"\bmarts\.(\w+)", self.sql))


@dataclass(frozen=True)
class Filter:
    """A fixed WHERE condition of a chart (column, Superset operator, value)."""

    column: str
    op: str
    value: Any = None

    def adhoc(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "clause": "WHERE",
            "expressionType": "SIMPLE",
            "subject": self.column,
            "operator": self.op,
        }
        if self.value is not None:
            item["comparator"] = self.value
        return item

    def query(self) -> dict[str, Any]:
        item: dict[str, Any] = {"col": self.column, "op": self.op}
        if self.value is not None:
            item["val"] = self.value
        return item


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    viz_type: str
    dataset: Dataset
    description: str
    params: dict[str, Any]
    query: dict[str, Any]
    # Charts that show the present (open work, latest decisions) ignore the dashboard's date range.
    time_column: str | None = None
    width: int = 4
    height: int = 50

    @property
    def uuid(self) -> str:
        return stable_uuid("chart", self.key)

    @property
    def follows_date_range(self) -> bool:
        return self.time_column is not None


@dataclass(frozen=True)
class Markdown:
    key: str
    text: str
    width: int = 12
    height: int = 12


Cell = Chart | Markdown


@dataclass(frozen=True)
class Dashboard:
    key: str
    slug: str
    title: str
    description: str
    rows: tuple[tuple[Cell, ...], ...]
    # the datasets the team and project filters take their values from
    filter_datasets: tuple[Dataset, Dataset]

    @property
    def uuid(self) -> str:
        return stable_uuid("dashboard", self.key)

    @property
    def charts(self) -> list[Chart]:
        return [cell for row in self.rows for cell in row if isinstance(cell, Chart)]


# --- chart builders: params and query context from one description ------------------------------------


def _time_filters(time_column: str | None) -> list[Filter]:
    return [Filter(time_column, "TEMPORAL_RANGE", NO_FILTER)] if time_column else []


def _base_params(viz_type: str, filters: Sequence[Filter], **extra: Any) -> dict[str, Any]:
    return {
        "viz_type": viz_type,
        "adhoc_filters": [f.adhoc() for f in filters],
        "annotation_layers": [],
        "extra_form_data": {},
        "dashboards": [],
        **extra,
    }


def _query(
    *,
    columns: Sequence[Any] = (),
    metrics: Sequence[str] | None = (),
    filters: Sequence[Filter] = (),
    orderby: Sequence[tuple[str, bool]] = (),
    row_limit: int = 10000,
    post_processing: Sequence[dict[str, Any]] = (),
    is_timeseries: bool = False,
) -> dict[str, Any]:
    return {
        "filters": [f.query() for f in filters],
        "extras": {"having": "", "where": ""},
        "applied_time_extras": {},
        "columns": list(columns),
        # None: raw rows (no GROUP BY), as the table chart's raw mode asks
        "metrics": None if metrics is None else list(metrics),
        "orderby": [[name, ascending] for name, ascending in orderby],
        "annotation_layers": [],
        "row_limit": row_limit,
        "series_limit": 0,
        "order_desc": True,
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
        "time_offsets": [],
        "post_processing": list(post_processing),
        "is_timeseries": is_timeseries,
    }


def _axis(column: str, grain: str | None) -> dict[str, Any]:
    axis: dict[str, Any] = {
        "columnType": "BASE_AXIS",
        "sqlExpression": column,
        "label": column,
        "expressionType": "SQL",
    }
    if grain:
        axis["timeGrain"] = grain
    return axis


def _check(dataset: Dataset, columns: Iterable[str], metrics: Iterable[str]) -> None:
    for name in columns:
        dataset.column(name)
    for name in metrics:
        dataset.metric(name)


def big_number_total(
    key: str,
    title: str,
    dataset: Dataset,
    metric: str,
    description: str,
    *,
    subtitle: str = "",
    number_format: str = ",.1f",
    where: Sequence[Filter] = (),
    time_column: str | None = None,
    width: int = 3,
    height: int = 25,
) -> Chart:
    filters = [*_time_filters(time_column), *where]
    _check(dataset, [f.column for f in filters], [metric])
    params = _base_params(
        "big_number_total",
        filters,
        metric=metric,
        subtitle=subtitle,
        header_font_size=0.4,
        subtitle_font_size=0.15,
        y_axis_format=number_format,
        time_format="smart_date",
    )
    query = _query(metrics=[metric], filters=filters)
    return Chart(
        key, title, "big_number_total", dataset, description, params, query, time_column, width, height
    )


def big_number_trend(
    key: str,
    title: str,
    dataset: Dataset,
    metric: str,
    x: str,
    description: str,
    *,
    grain: str = "P1W",
    number_format: str = ",.1f",
    subtitle: str = "",
    where: Sequence[Filter] = (),
    width: int = 3,
    height: int = 30,
) -> Chart:
    """The latest period's value with its change against the previous period, over a trend line."""
    filters = [*_time_filters(x), *where]
    _check(dataset, [x, *(f.column for f in filters)], [metric])
    params = _base_params(
        "big_number",
        filters,
        metric=metric,
        x_axis=x,
        time_grain_sqla=grain,
        compare_lag=1,
        compare_suffix="vs previous week" if grain == "P1W" else "vs previous period",
        show_trend_line=True,
        start_y_axis_at_zero=True,
        show_timestamp=True,
        rolling_type="None",
        subtitle=subtitle,
        header_font_size=0.4,
        subheader_font_size=0.15,
        y_axis_format=number_format,
        time_format="smart_date",
        color_picker={"r": 0, "g": 122, "b": 135, "a": 1},
    )
    query = _query(
        columns=[_axis(x, grain)],
        metrics=[metric],
        filters=filters,
        orderby=[(x, True)],
        post_processing=[
            {
                "operation": "pivot",
                "options": {"index": [x], "columns": [], "aggregates": {metric: {"operator": "mean"}}},
            },
            {"operation": "flatten"},
        ],
    )
    return Chart(key, title, "big_number", dataset, description, params, query, x, width, height)


def timeseries(
    key: str,
    title: str,
    dataset: Dataset,
    x: str,
    metrics: Sequence[str],
    description: str,
    *,
    kind: str = "line",
    groupby: Sequence[str] = (),
    grain: str | None = "P1W",
    number_format: str = ",.1f",
    stack: bool = False,
    where: Sequence[Filter] = (),
    y_title: str = "",
    y_bounds: tuple[float | None, float | None] = (None, None),
    width: int = 6,
    height: int = 50,
) -> Chart:
    """A line / bar / area chart over a temporal x axis (weeks by default), a series per metric and group."""
    viz = {"line": "echarts_timeseries_line", "bar": "echarts_timeseries_bar", "area": "echarts_area"}[kind]
    filters = [*_time_filters(x), *where]
    _check(dataset, [x, *groupby, *(f.column for f in filters)], metrics)
    params = _base_params(
        viz,
        filters,
        x_axis=x,
        time_grain_sqla=grain,
        metrics=list(metrics),
        groupby=list(groupby),
        row_limit=10000,
        order_desc=True,
        color_scheme="supersetColors",
        show_legend=True,
        legendType="plain",
        legendOrientation="top",
        rich_tooltip=True,
        tooltipTimeFormat="smart_date",
        x_axis_time_format="%d %b",
        y_axis_format=number_format,
        y_axis_title=y_title,
        y_axis_title_margin=30 if y_title else 15,
        y_axis_title_position="Left",
        x_axis_title_margin=15,
        truncateYAxis=y_bounds != (None, None),
        y_axis_bounds=list(y_bounds),
        markerEnabled=False,
        markerSize=4,
        zoomable=False,
        only_total=True,
        sort_series_type="sum",
        show_empty_columns=True,
        comparison_type="values",
        forecastEnabled=False,
    )
    if stack:
        params["stack"] = "Stack"
    if kind == "area":
        params["opacity"] = 0.6
        params["seriesType"] = "line"
    query = _query(
        columns=[_axis(x, grain), *groupby],
        metrics=metrics,
        filters=filters,
        orderby=[(metrics[0], False)],
        post_processing=[
            {
                "operation": "pivot",
                "options": {
                    "index": [x],
                    "columns": list(groupby),
                    "aggregates": {m: {"operator": "mean"} for m in metrics},
                    "drop_missing_columns": False,
                },
            },
            {"operation": "flatten"},
        ],
    )
    return Chart(key, title, viz, dataset, description, params, query, x, width, height)


def category_bar(
    key: str,
    title: str,
    dataset: Dataset,
    x: str,
    metrics: Sequence[str],
    description: str,
    *,
    groupby: Sequence[str] = (),
    stack: bool = False,
    number_format: str = ",.0f",
    where: Sequence[Filter] = (),
    time_column: str | None = None,
    sort_by_label: bool = False,
    label_rotation: int = 0,
    width: int = 6,
    height: int = 50,
) -> Chart:
    """Bars over a categorical x axis (team, size bucket...)."""
    filters = [*_time_filters(time_column), *where]
    _check(dataset, [x, *groupby, *(f.column for f in filters)], metrics)
    params = _base_params(
        "echarts_timeseries_bar",
        filters,
        x_axis=x,
        metrics=list(metrics),
        groupby=list(groupby),
        orientation="vertical",
        row_limit=10000,
        order_desc=True,
        color_scheme="supersetColors",
        show_legend=True,
        legendType="plain",
        legendOrientation="top",
        rich_tooltip=True,
        y_axis_format=number_format,
        y_axis_bounds=[None, None],
        x_axis_sort_asc=True,
        x_axis_sort=x if sort_by_label else None,
        x_axis_sort_series="name",
        x_axis_sort_series_ascending=True,
        only_total=True,
        show_empty_columns=True,
        truncateXAxis=True,
        xAxisLabelRotation=label_rotation,
    )
    if stack:
        params["stack"] = "Stack"
    query = _query(
        columns=[_axis(x, None), *groupby],
        metrics=metrics,
        filters=filters,
        orderby=[(x, True)] if sort_by_label else [(metrics[0], False)],
        post_processing=[
            {
                "operation": "pivot",
                "options": {
                    "index": [x],
                    "columns": list(groupby),
                    "aggregates": {m: {"operator": "mean"} for m in metrics},
                    "drop_missing_columns": False,
                },
            },
            {"operation": "flatten"},
        ],
    )
    return Chart(
        key, title, "echarts_timeseries_bar", dataset, description, params, query, time_column, width, height
    )


def table(
    key: str,
    title: str,
    dataset: Dataset,
    columns: Sequence[str],
    description: str,
    *,
    order_by: Sequence[tuple[str, bool]] = (),
    where: Sequence[Filter] = (),
    time_column: str | None = None,
    row_limit: int = 10000,
    page_length: int = 10,
    timestamp_format: str = "%Y-%m-%d %H:%M",
    formats: dict[str, str] | None = None,
    width: int = 12,
    height: int = 50,
) -> Chart:
    """Rows of a dataset (raw mode), e.g. the open work oldest first; HTML links render as links."""
    filters = [*_time_filters(time_column), *where]
    _check(dataset, [*columns, *(c for c, _ in order_by), *(f.column for f in filters)], [])
    column_config = {name: {"d3NumberFormat": fmt} for name, fmt in (formats or {}).items()}
    params = _base_params(
        "table",
        filters,
        query_mode="raw",
        all_columns=list(columns),
        groupby=[],
        metrics=[],
        percent_metrics=[],
        order_by_cols=[json.dumps([name, ascending]) for name, ascending in order_by],
        order_desc=True,
        row_limit=row_limit,
        server_page_length=10,
        page_length=page_length,
        include_search=False,
        show_cell_bars=False,
        color_pn=False,
        allow_render_html=True,
        table_timestamp_format=timestamp_format,
        temporal_columns_lookup={c: True for c in columns if dataset.column(c).is_dttm},
        column_config=column_config,
    )
    query = _query(columns=columns, metrics=None, filters=filters, orderby=order_by, row_limit=row_limit)
    return Chart(key, title, "table", dataset, description, params, query, time_column, width, height)


def pie(
    key: str,
    title: str,
    dataset: Dataset,
    groupby: str,
    metric: str,
    description: str,
    *,
    where: Sequence[Filter] = (),
    time_column: str | None = None,
    width: int = 6,
    height: int = 50,
) -> Chart:
    filters = [*_time_filters(time_column), *where]
    _check(dataset, [groupby, *(f.column for f in filters)], [metric])
    params = _base_params(
        "pie",
        filters,
        groupby=[groupby],
        metric=metric,
        row_limit=100,
        sort_by_metric=True,
        color_scheme="supersetColors",
        show_legend=True,
        legendType="plain",
        legendOrientation="top",
        show_labels=True,
        labels_outside=False,
        label_type="percent",
        show_labels_threshold=5,
        number_format="SMART_NUMBER",
        date_format="smart_date",
        innerRadius=30,
        outerRadius=70,
        donut=True,
    )
    query = _query(
        columns=[groupby], metrics=[metric], filters=filters, orderby=[(metric, False)], row_limit=100
    )
    return Chart(key, title, "pie", dataset, description, params, query, time_column, width, height)


def heatmap(
    key: str,
    title: str,
    dataset: Dataset,
    x: str,
    y: str,
    metric: str,
    description: str,
    *,
    grain: str | None = "P1W",
    number_format: str = ",.0f",
    where: Sequence[Filter] = (),
    width: int = 6,
    height: int = 50,
) -> Chart:
    """Weeks across, one row per team: where a number is thin or high shows at a glance."""
    filters = [*_time_filters(x), *where]
    _check(dataset, [x, y, *(f.column for f in filters)], [metric])
    params = _base_params(
        "heatmap_v2",
        filters,
        x_axis=x,
        time_grain_sqla=grain,
        groupby=y,
        metric=metric,
        row_limit=10000,
        linear_color_scheme="superset_seq_1",
        normalize_across="heatmap",
        legend_type="continuous",
        show_legend=True,
        show_values=True,
        show_percentage=False,
        sort_x_axis="alpha_asc",
        sort_y_axis="alpha_asc",
        x_axis_time_format="%d %b",
        y_axis_format=number_format,
        value_bounds=[None, None],
        left_margin=110,
        bottom_margin="auto",
        xscale_interval=-1,
        yscale_interval=-1,
    )
    query = _query(columns=[_axis(x, grain), y], metrics=[metric], filters=filters, orderby=[(metric, False)])
    return Chart(key, title, "heatmap_v2", dataset, description, params, query, x, width, height)


def box_plot(
    key: str,
    title: str,
    dataset: Dataset,
    groupby: str,
    item: str,
    metric: str,
    description: str,
    *,
    time_column: str | None = None,
    number_format: str = ",.1f",
    where: Sequence[Filter] = (),
    width: int = 6,
    height: int = 50,
) -> Chart:
    """The distribution of ``metric`` over items (one value per ``item``) for each ``groupby`` value."""
    filters = [*_time_filters(time_column), *where]
    _check(dataset, [groupby, item, *(f.column for f in filters)], [metric])
    params = _base_params(
        "box_plot",
        filters,
        columns=[item],
        groupby=[groupby],
        metrics=[metric],
        whiskerOptions="Tukey",
        color_scheme="supersetColors",
        number_format=number_format,
        date_format="smart_date",
        x_ticks_layout="45°",
        row_limit=50000,
        x_axis_title_margin=15,
        y_axis_title_margin=15,
        y_axis_title_position="Left",
    )
    query = _query(
        columns=[item, groupby],
        metrics=[metric],
        filters=filters,
        row_limit=50000,
        post_processing=[
            {
                "operation": "boxplot",
                "options": {"groupby": [groupby], "metrics": [metric], "whisker_type": "tukey"},
            }
        ],
    )
    return Chart(key, title, "box_plot", dataset, description, params, query, time_column, width, height)


# --- the bundle -------------------------------------------------------------------------------------------


def _yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _database() -> dict[str, Any]:
    return {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": SQLALCHEMY_URI_PLACEHOLDER,
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_file_upload": False,
        "extra": {
            "allows_virtual_table_explore": True,
            "metadata_params": {},
            "engine_params": {},
            "schemas_allowed_for_file_upload": [],
        },
        "uuid": stable_uuid("database", DATABASE_KEY),
        "version": VERSION,
    }


def _dataset(dataset: Dataset) -> dict[str, Any]:
    return {
        "table_name": dataset.table_name,
        "main_dttm_col": dataset.main_dttm_col,
        "description": f"{dataset.description} Reads {', '.join(f'marts.{m}' for m in dataset.marts)}.",
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "catalog": None,
        "schema": "marts",
        "sql": dataset.sql.strip() + "\n",
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": dataset.uuid,
        "metrics": [
            {
                "metric_name": m.name,
                "verbose_name": m.label,
                "metric_type": None,
                "expression": m.expression,
                "description": m.description,
                "d3format": m.d3format,
                "extra": {},
                "warning_text": None,
            }
            for m in dataset.metrics
        ],
        "columns": [
            {
                "column_name": c.name,
                "verbose_name": c.label,
                "is_dttm": c.is_dttm,
                "is_active": True,
                "type": c.type,
                "advanced_data_type": None,
                "groupby": True,
                "filterable": True,
                "expression": None,
                "description": c.description or None,
                "python_date_format": None,
                "extra": {},
            }
            for c in dataset.columns
        ],
        "version": VERSION,
        "database_uuid": stable_uuid("database", DATABASE_KEY),
    }


def _chart(chart: Chart) -> dict[str, Any]:
    params = {**chart.params, "datasource": "0__table"}
    query_context = {
        "datasource": {"id": 0, "type": "table"},
        "force": False,
        "queries": [chart.query],
        "form_data": params,
        "result_format": "json",
        "result_type": "full",
    }
    return {
        "slice_name": chart.title,
        "description": chart.description,
        "certified_by": None,
        "certification_details": None,
        "viz_type": chart.viz_type,
        "params": params,
        "query_context": json.dumps(query_context, sort_keys=True),
        "cache_timeout": None,
        "uuid": chart.uuid,
        "version": VERSION,
        "dataset_uuid": chart.dataset.uuid,
    }


def _native_filters(dashboard: Dashboard, chart_ids: dict[str, int]) -> list[dict[str, Any]]:
    teams, projects = dashboard.filter_datasets
    not_dated = [chart_ids[c.key] for c in dashboard.charts if not c.follows_date_range]
    no_team = [chart_ids[c.key] for c in dashboard.charts if "team_id" not in _names(c.dataset)]
    no_project = [chart_ids[c.key] for c in dashboard.charts if "project" not in _names(c.dataset)]
    prefix = f"NATIVE_FILTER-{dashboard.key}"

    def native(ident: str, name: str, filter_type: str, description: str, excluded: list[int], **extra: Any):  # type: ignore[no-untyped-def]
        return {
            "id": f"{prefix}-{ident}",
            "name": name,
            "filterType": filter_type,
            "type": "NATIVE_FILTER",
            "description": description,
            "scope": {"rootPath": ["ROOT_ID"], "excluded": excluded},
            "cascadeParentIds": [],
            "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
            **extra,
        }

    select_controls = {
        "multiSelect": True,
        "enableEmptyFilter": False,
        "defaultToFirstItem": False,
        "inverseSelection": False,
        "searchAllOptions": False,
    }
    team = native(
        "team",
        "Team",
        "filter_select",
        "Teams (dim_teams.team_id). Applies to every chart whose rows belong to a team.",
        no_team,
        targets=[{"column": {"name": "team_id"}, "datasetUuid": teams.uuid}],
        controlValues=select_controls,
    )
    project = native(
        "project",
        "Project",
        "filter_select",
        "Jira project key or GitLab project path (dim_projects.project_key). Applies to item-level charts "
        "(issues, merge requests, pipelines, incidents); team-week aggregates have no project.",
        no_project,
        targets=[{"column": {"name": "project"}, "datasetUuid": projects.uuid}],
        controlValues=select_controls,
    )
    project["cascadeParentIds"] = [team["id"]]
    dates = native(
        "dates",
        "Date range",
        "filter_time",
        "Limits dated charts to a period (their time column, named in each chart's description); charts "
        "of the present (open work, current decisions) ignore it.",
        not_dated,
        targets=[{}],
        controlValues={"enableEmptyFilter": False},
    )
    return [team, project, dates]


def _names(dataset: Dataset) -> set[str]:
    return {c.name for c in dataset.columns}


def _dashboard(dashboard: Dashboard) -> dict[str, Any]:
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"children": ["GRID_ID"], "id": "ROOT_ID", "type": "ROOT"},
        "HEADER_ID": {"id": "HEADER_ID", "meta": {"text": dashboard.title}, "type": "HEADER"},
    }
    grid_children: list[str] = []
    chart_ids: dict[str, int] = {}
    next_id = 1
    for number, row in enumerate(dashboard.rows, start=1):
        row_id = f"ROW-{dashboard.key}-{number}"
        grid_children.append(row_id)
        children = []
        for cell in row:
            if isinstance(cell, Chart):
                cell_id = f"CHART-{cell.key}"
                chart_ids[cell.key] = next_id
                meta: dict[str, Any] = {
                    "chartId": next_id,
                    "height": cell.height,
                    "width": cell.width,
                    "sliceName": cell.title,
                    "uuid": cell.uuid,
                }
                next_id += 1
                kind = "CHART"
            else:
                cell_id = f"MARKDOWN-{cell.key}"
                meta = {"code": cell.text, "height": cell.height, "width": cell.width}
                kind = "MARKDOWN"
            children.append(cell_id)
            position[cell_id] = {
                "children": [],
                "id": cell_id,
                "meta": meta,
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "type": kind,
            }
        position[row_id] = {
            "children": children,
            "id": row_id,
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
            "parents": ["ROOT_ID", "GRID_ID"],
            "type": "ROW",
        }
    position["GRID_ID"] = {"children": grid_children, "id": "GRID_ID", "parents": ["ROOT_ID"], "type": "GRID"}
    metadata = {
        "native_filter_configuration": _native_filters(dashboard, chart_ids),
        "chart_configuration": {},
        "global_chart_configuration": {
            "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
            "chartsInScope": [],
        },
        "cross_filters_enabled": False,
        "color_scheme": "supersetColors",
        "color_scheme_domain": [],
        "label_colors": {},
        "shared_label_colors": [],
        "map_label_colors": {},
        "expanded_slices": {},
        "timed_refresh_immune_slices": [],
        "refresh_frequency": 0,
        "default_filters": "{}",
    }
    return {
        "dashboard_title": dashboard.title,
        "description": dashboard.description,
        "css": "",
        "slug": dashboard.slug,
        "certified_by": "",
        "certification_details": "",
        "published": True,
        "uuid": dashboard.uuid,
        "position": position,
        "metadata": metadata,
        "version": VERSION,
    }


def _file_stem(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def render_bundle(dashboards: Sequence[Dashboard]) -> dict[str, str]:
    """The bundle's files (path → YAML text), relative to its top folder."""
    files: dict[str, str] = {"metadata.yaml": _yaml({"version": VERSION})}
    files[f"databases/{DATABASE_KEY}.yaml"] = _yaml(_database())
    datasets: dict[str, Dataset] = {}
    charts: dict[str, Chart] = {}
    for dashboard in dashboards:
        for dataset in dashboard.filter_datasets:
            datasets[dataset.key] = dataset
        for chart in dashboard.charts:
            if chart.key in charts and charts[chart.key] is not chart:
                raise ValueError(f"two charts share the key {chart.key}")
            charts[chart.key] = chart
            datasets[chart.dataset.key] = chart.dataset
    for dataset in datasets.values():
        files[f"datasets/{DATABASE_KEY}/{dataset.table_name}.yaml"] = _yaml(_dataset(dataset))
    for chart in charts.values():
        files[f"charts/{chart.key}.yaml"] = _yaml(_chart(chart))
    for dashboard in dashboards:
        files[f"dashboards/{_file_stem(dashboard.key)}.yaml"] = _yaml(_dashboard(dashboard))
    return files
