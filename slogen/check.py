"""Checks of a generated tree with the real tools: promtool on rules, their tests and
every dashboard query; amtool on the Alertmanager config, routes and templates; and the
dashboards' structure (ids, grid, variables, series they read)."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from . import conventions as c
from . import tools
from .errors import CheckFailed


def check_tree(root: Path) -> list[str]:
    """Run every external check on a generated tree; raises CheckFailed on the first failure."""
    rules = sorted((root / c.RULES_DIR).rglob("*.yaml"))
    tests = sorted((root / c.TESTS_DIR).rglob("*.test.yaml"))
    tools.promtool_check_rules(rules)
    tools.promtool_test_rules(tests)
    report = [
        f"promtool check rules: {len(rules)} files OK",
        f"promtool test rules: {len(tests)} files OK",
    ]
    config = root / c.ALERTMANAGER_CONFIG
    if config.is_file():
        report += check_alertmanager(root)
    if (root / c.GRAFANA_DIR).is_dir():
        report += check_dashboards(root)
    return report


def check_alertmanager(root: Path) -> list[str]:
    """amtool: the config, every expected route, every notification template."""
    config = root / c.ALERTMANAGER_CONFIG
    tools.amtool_check_config(config)
    cases = yaml.safe_load((root / c.ALERTMANAGER_ROUTE_TESTS).read_text())
    for case in cases:
        tools.amtool_route_test(config, case["labels"], case["receivers"])
    data = root / c.ALERTMANAGER_TEMPLATE_DATA
    glob = str(root / c.ALERTMANAGER_TEMPLATE)
    names = tools.used_templates(config.read_text())
    for name in names:
        tools.amtool_template_render(glob, name, data)
    return [
        "amtool check-config: OK",
        f"amtool config routes test: {len(cases)} label sets routed as the spec says",
        f"amtool template render: {len(names)} templates OK",
    ]


# Grafana's own variables, which dashboards may use without declaring them.
GRAFANA_BUILTINS = (
    "__rate_interval",
    "__interval",
    "__range",
    "__data",
    "__value",
    "__url_time_range",
    "__field",
    "__series",
)
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z0-9_.]+)(?::[a-z]+)?\}|([A-Za-z_][A-Za-z0-9_]*))")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def check_dashboards(root: Path) -> list[str]:
    """Every dashboard: unique panel ids, panels inside the 24-column grid and not
    overlapping, only declared variables, and every query valid PromQL (promtool) that
    reads only series the rules record or the specs' selectors name."""
    allowed = _series_in_rules(root)
    boards = sorted((root / c.GRAFANA_DIR).glob("*.json"))
    queries: list[tuple[str, str]] = []
    for board in boards:
        data = json.loads(board.read_text())
        name = board.name
        panels = _panels(data)
        ids = [p["id"] for p in panels]
        if len(ids) != len(set(ids)):
            raise CheckFailed(f"{name}: panel ids repeat: {sorted(i for i in ids if ids.count(i) > 1)}")
        _check_grid(name, panels)
        declared = {v["name"] for v in data.get("templating", {}).get("list", [])}
        for variable in sorted(_variables(json.dumps(data))):
            if variable not in declared and not variable.startswith(GRAFANA_BUILTINS):
                raise CheckFailed(f"{name}: uses the undeclared variable ${variable}")
        for panel in panels:
            for target in panel.get("targets", []):
                queries.append((f"{name} panel {panel['id']} ({panel.get('title', '')})", target["expr"]))
    for where, expr in queries:
        _check_no_variable_in_strings(where, expr)
        for metric in _metrics(where, expr):
            if metric not in allowed:
                raise CheckFailed(f"{where}: reads {metric}, which no rule records and no spec selector names")
    _promtool_queries(queries)
    return [f"dashboards: {len(boards)} files, {len(queries)} queries OK (promtool, series, variables, grid)"]


def _panels(data: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in data.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def _check_grid(name: str, panels: list[dict[str, Any]]) -> None:
    boxes: list[tuple[int, dict[str, int]]] = []
    for panel in panels:
        g = panel["gridPos"]
        if g["x"] < 0 or g["w"] < 1 or g["x"] + g["w"] > 24 or g["h"] < 1 or g["y"] < 0:
            raise CheckFailed(f"{name}: panel {panel['id']} does not fit the 24-column grid: {g}")
        for other_id, o in boxes:
            if (
                g["x"] < o["x"] + o["w"]
                and o["x"] < g["x"] + g["w"]
                and g["y"] < o["y"] + o["h"]
                and o["y"] < g["y"] + g["h"]
            ):
                raise CheckFailed(f"{name}: panels {other_id} and {panel['id']} overlap")
        boxes.append((panel["id"], g))


def _check_no_variable_in_strings(where: str, expr: str) -> None:
    """Grafana replaces variables anywhere in a query, label values included: a panel
    reading {queue="$__range"} would not query what the alert does."""
    for value in _STRING.findall(expr):
        if _variables(value) or "[[" in value:
            raise CheckFailed(f"{where}: Grafana would replace a variable inside the label value {value!r}")


def _variables(text: str) -> set[str]:
    return {a or b for a, b in _VARIABLE.findall(text)}


def _probe(expr: str) -> str:
    """A dashboard query as promtool can check it: Grafana's variables as durations."""
    return expr.replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$__range", "1d")


def _metrics(where: str, expr: str) -> list[str]:
    try:
        parsed = promql_parser.parse(_probe(expr))
    except ValueError as exc:
        raise CheckFailed(f"{where}: invalid PromQL: {exc}: {expr}") from None
    names: list[str] = []

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.append(node.name)
        return True

    promql_parser.walk(parsed, visit)
    return names


def _series_in_rules(root: Path) -> set[str]:
    """What dashboards may read: every recorded name, every metric a rule reads, ALERTS."""
    allowed = {"ALERTS"}
    for path in (root / c.RULES_DIR).rglob("*.yaml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    allowed.add(rule["record"])
                allowed.update(_metrics(str(path), rule["expr"]))
    return allowed


def _promtool_queries(queries: list[tuple[str, str]]) -> None:
    """promtool checks PromQL inside rule files: wrap each query in a recording rule."""
    rules = [{"record": f"slogen:dashboard_query:{i}", "expr": _probe(expr)} for i, (_, expr) in enumerate(queries)]
    with tempfile.TemporaryDirectory(prefix="slogen-dashboards-") as scratch:
        path = Path(scratch) / "queries.yaml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}))
        tools.promtool_check_rules([path])
