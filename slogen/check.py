"""Checks of a generated tree with the real tools: promtool on rules, their tests and
every dashboard query; vmalert -dryRun on the rules, when it is installed; amtool on the
Alertmanager config, routes and templates; and the dashboards' structure (ids, grid,
variables, series they read).

Every stage runs, whatever the others found, and reports what it checked and what
failed. A failure names the spec file and line of the SLO or alert it comes from (the
tools only see generated files, in a scratch folder that is gone by the time anyone
reads the report).
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from . import check_vmalert, tools
from . import conventions as c
from .check_canary import canary_queries
from .check_operator import operator_stages
from .errors import CheckFailed
from .target_operator import TARGET
from .targets import RULER_GROUP_KEYS, RULER_TARGETS

# libyaml's loader and dumper (PyYAML's C binding): PyYAML's pure-Python safe_load of the
# rule files of 1,000 SLOs took about 28 s of `validate`, more than a third of it.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python


# Generated file (relative to the output folder) -> where it comes from in the spec,
# "slo/api.yaml:10: api/availability"; api.validate builds it from the model.
Sources = dict[str, str]


@dataclass
class Stage:
    """One check over part of the tree: how many things it checked, which failed."""

    name: str
    count: int
    unit: str
    failures: list[str] = field(default_factory=list)
    skipped: str = ""  # why the stage had nothing to check
    per_item: bool = True  # one failure per item checked (a file, a label set), or any number

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        counted = f"{self.count} {_singular(self.unit) if self.count == 1 else self.unit}"
        if self.skipped:
            return f"{self.name}: skipped ({self.skipped})"
        if self.ok:
            return f"{self.name}: passed ({counted})"
        if self.per_item:
            return f"{self.name}: FAILED ({len(self.failures)} of {counted})"
        problems = "1 problem" if len(self.failures) == 1 else f"{len(self.failures)} problems"
        return f"{self.name}: FAILED ({problems} in {counted})"


def _singular(unit: str) -> str:
    return unit[:-3] + "y" if unit.endswith("ies") else unit.removesuffix("s")


def check_tree(root: Path, sources: Sources | None = None) -> list[Stage]:
    """Run every external check on a generated tree."""
    sources = sources or {}
    rules = sorted(p.relative_to(root).as_posix() for p in (root / c.RULES_DIR).rglob("*.yaml"))
    tests = sorted(p.relative_to(root).as_posix() for p in (root / c.TESTS_DIR).rglob("*.test.yaml"))
    stages = [
        _files_stage("promtool check rules", ["check", "rules"], rules, root, sources),
        _files_stage("promtool test rules", ["test", "rules"], tests, root, sources),
        vmalert_stage(rules, root, sources),
    ]
    ruler = sorted(p.relative_to(root).as_posix() for t in RULER_TARGETS for p in (root / t).glob("*.yaml"))
    if ruler:
        stages.append(ruler_rules_stage(ruler, root, sources))
    if (root / TARGET).is_dir():
        stages += operator_stages(root, sources, _failure)
    if (root / c.ALERTMANAGER_CONFIG).is_file():
        stages += alertmanager_stages(root, sources)
    else:
        stages.append(Stage("amtool", 0, "files", skipped="no routing file, so no Alertmanager config"))
    if (root / c.GRAFANA_DIR).is_dir():
        stages.append(dashboards_stage(root, sources))
    canary = canary_queries(root, sources)
    if canary:
        left = [f"{where}: a placeholder is left after substitution: {q}" for where, q in canary if "{{" in q]
        stages.append(Stage("canary queries", len(canary), "queries", left + _promtool_queries(canary), per_item=False))
    return stages


def _files_stage(name: str, command: list[str], files: list[str], root: Path, sources: Sources) -> Stage:
    failures = tools.failing_files("promtool", command, files, root)
    return Stage(name, len(files), "files", [_failure(sources, rel, output) for rel, output in failures.items()])


def vmalert_stage(rules: list[str], root: Path, sources: Sources) -> Stage:
    """The Prometheus rule files as vmalert loads them, or skipped (saying how to install
    it) when vmalert is not on PATH: validate works without it."""
    if not check_vmalert.available():
        return Stage(check_vmalert.STAGE, 0, "files", skipped=f"vmalert not found: {check_vmalert.INSTALL}")
    failures = check_vmalert.failing_files(rules, root)
    return Stage(
        check_vmalert.STAGE, len(rules), "files", [_failure(sources, rel, out) for rel, out in failures.items()]
    )


def ruler_rules_stage(files: list[str], root: Path, sources: Sources) -> Stage:
    """`promtool check rules` on the mimir, cortex and thanos files, their ruler-only keys
    set aside in a scratch copy (promtool refuses keys it does not know); the keys left
    out are checked here against the documented shape of each target."""
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="slogen-ruler-") as tmp:
        for rel in files:
            data = _load_yaml((root / rel).read_text(encoding="utf-8"))
            shape = _ruler_shape(rel, data)
            if shape:
                failures.append(_failure(sources, rel, shape))
                continue
            plain = {"groups": [{k: v for k, v in g.items() if k not in RULER_GROUP_KEYS} for g in data["groups"]]}
            (Path(tmp) / rel).parent.mkdir(parents=True, exist_ok=True)
            (Path(tmp) / rel).write_text(yaml.dump(plain, Dumper=_DUMPER, sort_keys=False), encoding="utf-8")
        checked = [rel for rel in files if (Path(tmp) / rel).is_file()]
        found = tools.failing_files("promtool", ["check", "rules"], checked, Path(tmp))
        failures += [_failure(sources, rel, output) for rel, output in found.items()]
    return Stage("promtool check rules (mimir, cortex, thanos)", len(files), "files", failures)


def _ruler_shape(rel: str, data: Any) -> str:
    """What breaks the target's documented file shape, or ""."""
    target, service = rel.split("/")[0], Path(rel).stem
    keys = ["namespace", "groups"] if target in ("mimir", "cortex") else ["groups"]
    if not isinstance(data, dict) or list(data) != keys:
        return f"the file must hold exactly {', '.join(keys)}"
    if not isinstance(data["groups"], list) or not all(isinstance(g, dict) for g in data["groups"]):
        return "groups must be a list of rule groups"
    if target != "thanos" and data["namespace"] != service:
        return f"namespace {data['namespace']!r} is not the service {service!r}"
    allowed = {"mimir": {"source_tenants"}, "cortex": {"source_tenants"}, "thanos": {"partial_response_strategy"}}
    extra = {k for g in data["groups"] for k in g if k in RULER_GROUP_KEYS} - allowed[target]
    return f"{target} does not read {', '.join(sorted(extra))}" if extra else ""


def _failure(sources: Sources, rel: str, output: str) -> str:
    """`slo/api.yaml:10: api/availability: out/prometheus/...: failed`, then the tool's words."""
    where = sources.get(rel)
    head = f"{where}: out/{rel}" if where else f"out/{rel}"
    return f"{head}: failed\n" + "\n".join(f"    {line}" for line in output.splitlines() if line.strip())


def alertmanager_stages(root: Path, sources: Sources | None = None) -> list[Stage]:
    """amtool: the config, every expected route, every notification template."""
    sources = sources or {}
    config = c.ALERTMANAGER_CONFIG
    checked = tools.run("amtool", ["check-config", config], root)
    check_config = Stage("amtool check-config", 1, "files")
    if checked.returncode != 0:
        check_config.failures.append(_failure(sources, config, checked.output))
    cases = _load_yaml((root / c.ALERTMANAGER_ROUTE_TESTS).read_text())
    route_tests = Stage("amtool config routes test", len(cases), "label sets")
    answers = tools.in_parallel(
        lambda case: tools.amtool_route_test(config, case["labels"], case["receivers"], root), cases
    )
    for case, wrong in zip(cases, answers, strict=True):
        if wrong is not None:
            labels = ", ".join(f"{k}={v}" for k, v in sorted(case["labels"].items()))
            where = sources.get(config, f"out/{config}")
            route_tests.failures.append(f"{where}: {{{labels}}} should reach {','.join(case['receivers'])}: {wrong}")
    names = tools.used_templates((root / config).read_text())
    templates = Stage("amtool template render", len(names), "templates")
    rendered = tools.in_parallel(
        lambda name: tools.amtool_template_render(c.ALERTMANAGER_TEMPLATE, name, c.ALERTMANAGER_TEMPLATE_DATA, root),
        names,
    )
    for name, wrong in zip(names, rendered, strict=True):
        if wrong is not None:
            templates.failures.append(_failure(sources, c.ALERTMANAGER_TEMPLATE, f"template {name}: {wrong}"))
    return [check_config, route_tests, templates]


def check_alertmanager(root: Path) -> list[str]:
    """The amtool stages, raising CheckFailed with every failure if any failed."""
    return _raise_if_failed(alertmanager_stages(root))


def check_dashboards(root: Path) -> list[str]:
    """The dashboard stage, raising CheckFailed with every failure if any failed."""
    return _raise_if_failed([dashboards_stage(root)])


def _raise_if_failed(stages: list[Stage]) -> list[str]:
    failures = [f for stage in stages for f in stage.failures]
    if failures:
        raise CheckFailed("\n".join(failures))
    return [stage.summary() for stage in stages]


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


def dashboards_stage(root: Path, sources: Sources | None = None) -> Stage:
    """Every dashboard: unique panel ids, panels inside the 24-column grid and not
    overlapping, only declared variables, and every query valid PromQL (promtool) that
    reads only series the rules record or the specs' selectors name."""
    sources = sources or {}
    allowed = _series_in_rules(root)
    boards = sorted((root / c.GRAFANA_DIR).glob("*.json"))
    queries: list[tuple[str, str]] = []
    declared_of: dict[str, frozenset[str]] = {}  # per query: the variables of a grouped SLO it may filter by
    failures: list[str] = []
    for board in boards:
        data = json.loads(board.read_text())
        rel = board.relative_to(root).as_posix()
        where = f"{sources[rel]}: out/{rel}" if rel in sources else f"out/{rel}"
        panels = _panels(data)
        ids = [p["id"] for p in panels]
        if len(ids) != len(set(ids)):
            failures.append(f"{where}: panel ids repeat: {sorted(i for i in ids if ids.count(i) > 1)}")
        failures += [f"{where}: {problem}" for problem in _grid_problems(panels)]
        declared = {v["name"] for v in data.get("templating", {}).get("list", [])}
        for variable in sorted(_variables(json.dumps(data))):
            if variable not in declared and not variable.startswith(GRAFANA_BUILTINS):
                failures.append(f"{where}: uses the undeclared variable ${variable}")
        for panel in panels:
            for target in panel.get("targets", []):
                at = f"{where} panel {panel['id']} ({panel.get('title', '')})"
                declared_of[at] = frozenset(declared - {"datasource"})
                queries.append((at, target["expr"]))
    parsed = []
    for where, expr in queries:
        try:
            _check_no_variable_in_strings(where, expr, declared_of[where])
            unknown = list(dict.fromkeys(metric for metric in _metrics(where, expr) if metric not in allowed))
        except CheckFailed as err:
            failures.append(str(err))  # and not promtool's word on the same query as well
            continue
        parsed.append((where, expr))
        failures += [f"{where}: reads {m}, which no rule records and no spec selector names" for m in unknown]
    failures += _promtool_queries(parsed)
    return Stage("dashboards", len(queries), "queries", failures, per_item=False)


def _panels(data: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in data.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def _grid_problems(panels: list[dict[str, Any]]) -> list[str]:
    problems = []
    boxes: list[tuple[int, dict[str, int]]] = []
    for panel in panels:
        g = panel["gridPos"]
        if g["x"] < 0 or g["w"] < 1 or g["x"] + g["w"] > 24 or g["h"] < 1 or g["y"] < 0:
            problems.append(f"panel {panel['id']} does not fit the 24-column grid: {g}")
        for other_id, o in boxes:
            if (
                g["x"] < o["x"] + o["w"]
                and o["x"] < g["x"] + g["w"]
                and g["y"] < o["y"] + o["h"]
                and o["y"] < g["y"] + g["h"]
            ):
                problems.append(f"panels {other_id} and {panel['id']} overlap")
        boxes.append((panel["id"], g))
    return problems


def _check_no_variable_in_strings(where: str, expr: str, groups: frozenset[str] = frozenset()) -> None:
    """Grafana replaces variables anywhere in a query, label values included: a panel
    reading {queue="$__range"} would not query what the alert does. The one exception is
    slogen's own filter of a grouped SLO, `route=~"$route"`, on a declared variable (a
    spec's label value may hold no variable at all)."""
    for value in _STRING.findall(expr):
        if value.startswith("$") and value[1:] in groups and f'=~"{value}"' in expr:
            continue
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
        for group in _load_yaml(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    allowed.add(rule["record"])
                try:
                    allowed.update(_metrics(path.relative_to(root).as_posix(), rule["expr"]))
                except CheckFailed:
                    continue  # promtool check rules reports it, at its SLO
    return allowed


def _promtool_queries(queries: list[tuple[str, str]]) -> list[str]:
    """promtool checks PromQL inside rule files: wrap each query in a recording rule,
    and name the panel of a query it rejects (the rule is named by the query's index)."""
    rules = [{"record": f"slogen:dashboard_query:{i}", "expr": _probe(expr)} for i, (_, expr) in enumerate(queries)]
    if not rules:
        return []
    with tempfile.TemporaryDirectory(prefix="slogen-dashboards-") as scratch:
        Path(scratch, "queries.yaml").write_text(
            yaml.dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, Dumper=_DUMPER)
        )
        result = tools.run("promtool", ["check", "rules", "queries.yaml"], Path(scratch))
    if result.returncode == 0:
        return []
    failures = []
    for line in result.output.splitlines():
        found = re.search(r"slogen:dashboard_query:(\d+)\"?: (.*)", line)
        if found:
            where, expr = queries[int(found.group(1))]
            failures.append(f"{where}: promtool: {found.group(2)}: {expr}")
    return failures or [f"promtool rejected the dashboard queries: {result.output}"]
