"""The one module that talks to grafana-foundation-sdk (pre-1.0: its API may change;
change it here). Builders describe panels with the small types below; this turns them
into the SDK's v1 dashboard model and then into plain JSON-ready data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

# The SDK's v1 builders warn "Prefer using dashboardv2" (a DeprecationWarning, silent
# under Python's default filters); pytest's configuration ignores it.
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as sdk
from grafana_foundation_sdk.builders import prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models import prometheus as prometheus_models

DATASOURCE_VAR = "datasource"
DATASOURCE = models.DataSourceRef(type_val="prometheus", uid="${" + DATASOURCE_VAR + "}")
GRID_WIDTH = 24


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False


@dataclass(frozen=True)
class Step:
    """A threshold step: from `value` upwards (None: the base) the colour is `color`."""

    value: float | None
    color: str


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass
class Panel:
    kind: str  # stat | timeseries | table
    title: str
    queries: list[Query]
    x: int
    y: int
    w: int
    h: int
    unit: str = ""
    description: str = ""
    decimals: int | None = None
    steps: list[Step] = field(default_factory=list)
    draw_thresholds: bool = False  # timeseries: draw the steps as lines
    links: list[Link] = field(default_factory=list)
    min: float | None = None
    max: float | None = None
    transformations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    data_links: list[Link] = field(default_factory=list)
    sort_by: str | None = None  # table: sort by this column, ascending
    overrides_unit: dict[str, str] = field(default_factory=dict)  # table: column -> unit


@dataclass(frozen=True)
class Variable:
    """A label's values as a multi-value dashboard variable with "All" (`.*`), read from
    `query` (a recorded series); panels filter with `label=~"$name"`."""

    name: str
    query: str
    # False for the variable a row repeats over: "All" would draw a row per value, the very
    # size the repetition avoids. Grafana then selects the first value on load.
    include_all: bool = True


@dataclass
class Row:
    title: str
    y: int
    panels: list[Panel]
    repeat: str | None = None  # a variable: Grafana draws the row once per selected value


def _target(query: Query, ref: str) -> Any:
    q = prometheus.Dataquery().expr(query.expr).ref_id(ref).datasource(DATASOURCE)
    if query.legend:
        q = q.legend_format(query.legend)
    if query.instant:
        q = q.instant()  # also sets range: false
    if query.table:
        q = q.format(prometheus_models.PromQueryFormat.TABLE)
    return q


def _refs() -> Any:
    return iter("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _common(builder: Any, panel: Panel, panel_id: int) -> Any:
    refs = _refs()
    builder = (
        builder.id(panel_id)
        .title(panel.title)
        .datasource(DATASOURCE)
        .grid_pos(models.GridPos(h=panel.h, w=panel.w, x=panel.x, y=panel.y))
    )
    for query in panel.queries:
        builder = builder.with_target(_target(query, next(refs)))
    if panel.description:
        builder = builder.description(panel.description)
    if panel.unit:
        builder = builder.unit(panel.unit)
    if panel.decimals is not None:
        builder = builder.decimals(panel.decimals)
    if panel.min is not None:
        builder = builder.min(panel.min)
    if panel.max is not None:
        builder = builder.max(panel.max)
    if panel.steps:
        steps = [models.Threshold(value=s.value, color=s.color) for s in panel.steps]
        builder = builder.thresholds(sdk.ThresholdsConfig().mode(models.ThresholdsMode.ABSOLUTE).steps(steps))
    if panel.links:
        builder = builder.links([sdk.DashboardLink(link.title).url(link.url) for link in panel.links])
    for transform_id, options in panel.transformations:
        builder = builder.with_transformation(models.DataTransformerConfig(id_val=transform_id, options=options))
    if panel.data_links:
        builder = builder.data_links([sdk.DashboardLink(link.title).url(link.url) for link in panel.data_links])
    return builder


def _panel(panel: Panel, panel_id: int) -> Any:
    if panel.kind == "stat":
        builder = _common(stat.Panel(), panel, panel_id)
        return (
            builder.color_mode(common_models.BigValueColorMode.BACKGROUND)
            .graph_mode(common_models.BigValueGraphMode.NONE)
            .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        )
    if panel.kind == "timeseries":
        builder = _common(timeseries.Panel(), panel, panel_id)
        builder = builder.legend(
            common_builders.VizLegendOptions()
            .show_legend(True)
            .display_mode(common_models.LegendDisplayMode.LIST)
            .placement(common_models.LegendPlacement.BOTTOM)
        )
        if panel.draw_thresholds:
            builder = builder.thresholds_style(
                common_builders.GraphThresholdsStyleConfig().mode(common_models.GraphThresholdsStyleMode.LINE)
            )
        return builder
    builder = _common(table.Panel(), panel, panel_id)
    if panel.sort_by:
        builder = builder.sort_by([common_builders.TableSortByFieldState().display_name(panel.sort_by).desc(False)])
    for column, unit in sorted(panel.overrides_unit.items()):
        builder = builder.override_by_name(column, [models.DynamicConfigValue(id_val="unit", value=unit)])
    return builder


def dashboard(
    uid: str,
    title: str,
    rows: list[Row],
    tags: list[str],
    links: list[Link],
    description: str = "",
    time_from: str = "now-7d",
    variables: tuple[Variable, ...] = (),
) -> dict[str, Any]:
    """A whole dashboard as plain data. Panel ids are assigned in order, from 1."""
    builder = (
        sdk.Dashboard(title)
        .uid(uid)
        .tags(tags)
        .editable()
        .timezone("utc")
        .time(time_from, "now")
        .refresh("1m")
        .with_variable(sdk.DatasourceVariable(DATASOURCE_VAR).label("Data source").type("prometheus"))
    )
    for variable in variables:
        query = (
            sdk.QueryVariable(variable.name)
            .label(variable.name)
            .datasource(DATASOURCE)
            .query(f"label_values({variable.query}, {variable.name})")
            .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(models.VariableSort.ALPHABETICAL_ASC)
            .multi(True)
        )
        builder = builder.with_variable(query.include_all(True).all_value(".*") if variable.include_all else query)
    if description:
        builder = builder.description(description)
    for link in links:
        builder = builder.link(
            sdk.DashboardLink(link.title)
            .type(models.DashboardLinkType.LINK)
            .url(link.url)
            .include_vars(True)
            .keep_time(True)
        )
    panel_id = 1
    for row in rows:
        if row.title:
            header = sdk.Row(row.title).id(panel_id).grid_pos(models.GridPos(h=1, w=GRID_WIDTH, x=0, y=row.y))
            builder = builder.with_row(header.repeat(row.repeat) if row.repeat else header)
            panel_id += 1
        for panel in row.panels:
            builder = builder.with_panel(_panel(panel, panel_id))
            panel_id += 1
    data: dict[str, Any] = orjson.loads(orjson.dumps(builder.build(), default=JSONEncoder().default))
    return data
