"""`slogen import sloth`: Sloth's `prometheus/v1` specs and `sloth.slok.dev/v1`
PrometheusServiceLevel CRDs (the same fields under `spec:`, in camelCase) as slogen specs.

Read from Sloth's published types (github.com/slok/sloth pkg/prometheus/api/v1/v1.go and
pkg/kubernetes/api/sloth/v1/types.go). Field by field:

- `service` -> `service`; `labels` (on every rule of the service) -> `labels`, their
  `owner` -> `owner`; an SLO's `labels` -> the SLO's `labels`;
- `slos[].name` -> the SLO's id, `objective: 99.9` -> `99.9%`, `description`;
- Sloth has no period: every SLO gets `window: --period` (default 30d, Sloth's default),
  and Sloth's alert windows for it (sloth_windows.py);
- `sli.events` / `sli.raw`: see sloth_queries.py; `sli.plugin` and plugin chains are
  refused (slogen cannot run Sloth's plugins);
- `alerting.name` -> `alerting.name`; `alerting.labels` / `annotations` go on both kinds;
  `page_alert` / `ticket_alert` `.labels` -> `alerting.page` / `ticket` `.labels`, their
  `severity` -> `.severity`; `disable: true` -> `burn_rate_alerts: {page: false}`.
  Annotations slogen writes itself are dropped with a warning, `runbook_url` becomes the
  SLO's `runbook:`, and one holding a Go template (`{{`) is dropped with a warning.

Unknown fields are refused (a typo would otherwise be lost without a word).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .. import conventions as c
from ..errors import Problem, SpecError, shown
from ..load import Document, Path_
from ..spec_alerting import OWN_ANNOTATIONS
from . import sloth_queries as q
from . import sloth_windows
from .common import Imported, ImportOptions, Origin

API_VERSION = "sloth.slok.dev/v1"
SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

# Field names of the prometheus/v1 file; the CRD spells some in camelCase.
_CAMEL = {
    "slo_plugins": "sloPlugins",
    "error_query": "errorQuery",
    "total_query": "totalQuery",
    "error_ratio_query": "errorRatioQuery",
    "page_alert": "pageAlert",
    "ticket_alert": "ticketAlert",
}


@dataclass
class _Source:
    """One Sloth document: where its spec is and how it spells its fields."""

    doc: Document
    root: Path_  # () for prometheus/v1, ("spec",) for the CRD
    camel: bool
    problems: list[Problem] = field(default_factory=list)

    def key(self, name: str) -> str:
        return _CAMEL.get(name, name) if self.camel else name

    def path(self, *parts: str | int) -> Path_:
        return (*self.root, *parts)

    def refuse(self, path: Path_, message: str) -> None:
        self.problems.append(self.doc.problem(path, message))

    def mapping(self, value: Any, path: Path_, known: tuple[str, ...]) -> dict[str, Any]:
        """The mapping at path ({} if absent), its unknown fields refused."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.refuse(path, f"expected a mapping, got {shown(value)}")
            return {}
        names = tuple(self.key(k) for k in known)
        for key in value:
            if key not in names:
                self.refuse((*path, key), f"unknown field in a Sloth spec (known here: {', '.join(names)})")
        return value

    def labels(self, value: Any, path: Path_) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, item in self.mapping(value, path, tuple(value) if isinstance(value, dict) else ()).items():
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                self.refuse((*path, key), f"expected text, got {shown(item)}")
            else:
                out[str(key)] = str(item)
        return out


def convert(docs: list[Document], options: ImportOptions) -> Imported:
    """Every Sloth document as slogen service specs; every problem of every document is
    collected before refusing."""
    imported = Imported()
    sources: list[_Source] = []
    windows: list[Document] = []
    problems: list[Problem] = []
    for doc in docs:
        if sloth_windows.is_alert_windows(doc.data):
            windows.append(doc)
            continue
        source = _source(doc)
        if source is None:
            problems.append(
                doc.problem(
                    (),
                    "not a Sloth spec: expected version: prometheus/v1, or apiVersion: "
                    f"{API_VERSION} with kind: PrometheusServiceLevel",
                )
            )
        else:
            sources.append(source)
    try:
        tiers = sloth_windows.tiers_for(options.period, windows)
    except SpecError as err:
        problems += err.problems
        tiers = None
    service_labels: dict[str, list[dict[str, str]]] = {}
    for source in sources:
        found = _service(source, imported, options)
        if found is not None:
            service_labels.setdefault(found[0], []).append(found[1])
        problems += source.problems
    if problems:
        raise SpecError(problems)
    for name, spec in imported.services.items():
        _hoist_labels(spec.data, service_labels[name])
        if tiers is not None:
            spec.data["alerting"] = {"tiers": tiers}
            spec.data["slos"] = spec.data.pop("slos")  # written after the service's alerting
    return imported


def _source(doc: Document) -> _Source | None:
    data = doc.data
    if not isinstance(data, dict):
        return None
    if data.get("version") == "prometheus/v1":
        return _Source(doc, (), camel=False)
    if data.get("apiVersion") == API_VERSION and data.get("kind") == "PrometheusServiceLevel":
        source = _Source(doc, ("spec",), camel=True)
        source.mapping(data, (), ("apiVersion", "kind", "metadata", "spec", "status"))
        return source
    return None


def _service(source: _Source, imported: Imported, options: ImportOptions) -> tuple[str, dict[str, str]] | None:
    """Add the document's SLOs to its service; its name and service labels."""
    data = source.doc.data
    body = source.mapping(
        data if not source.root else data.get("spec"),
        source.root,
        ("version", "service", "labels", "slo_plugins", "slos")
        if not source.root
        else ("service", "labels", "slo_plugins", "slos"),
    )
    name = body.get("service")
    if not isinstance(name, str) or not SERVICE_NAME.match(name):
        source.refuse(
            source.path("service"),
            f"slogen's service names are [a-z0-9][a-z0-9_-]*, at most 32 "
            f"characters (a label value and a file name), got {shown(name)}",
        )
        return None
    _plugins(source, body.get(source.key("slo_plugins")), source.path(source.key("slo_plugins")))
    labels = _series_labels(source, body.get("labels"), source.path("labels"), RESERVED)
    slos = body.get("slos")
    if not isinstance(slos, list) or not slos:
        source.refuse(source.path("slos"), "expected a list of SLOs")
        return None
    spec = imported.service(name)
    spec.data.setdefault("slos", {})
    for index, slo in enumerate(slos):
        _slo(source, index, slo, labels, spec, imported, options)
    return name, labels


# Labels slogen sets on every series and alert: Sloth's labels may not set them.
RESERVED = ("service", "slo", "severity", "alertname")


def _series_labels(source: _Source, value: Any, path: Path_, reserved: tuple[str, ...]) -> dict[str, str]:
    """Sloth's labels of every rule of a service or an SLO."""
    labels = source.labels(value, path)
    for key in labels:
        if key == "owner" and key in reserved:
            source.refuse((*path, key), "slogen has one owner per service: give it in the service's labels")
        elif key in reserved:
            source.refuse((*path, key), f"slogen sets the {key} label on every series and alert: rename this one")
    return labels


def _plugins(source: _Source, value: Any, path: Path_) -> None:
    chain = source.mapping(value, path, ("overridePrevious", "chain")).get("chain") or []
    ids = [p.get("id") for p in chain if isinstance(p, dict)] if isinstance(chain, list) else []
    if chain:
        source.refuse(
            path,
            f"Sloth's SLO plugins ({', '.join(map(str, ids))}) change the rules Sloth generates; "
            "slogen cannot run them: remove them and check what slogen generates instead",
        )


def _slo(
    source: _Source,
    index: int,
    value: Any,
    labels: dict[str, str],
    spec: Any,
    imported: Imported,
    options: ImportOptions,
) -> None:
    path = source.path("slos", index)
    known = ("name", "description", "objective", "plugins", "labels", "sli", "alerting")
    slo = source.mapping(value, path, known)
    name = slo.get("name")
    if not isinstance(name, str):
        source.refuse((*path, "name"), f"expected the SLO's name, got {shown(name)}")
        return
    if name in spec.data["slos"]:
        source.refuse((*path, "name"), f"SLO {name!r} of service {spec.name!r} is already at {spec.origins[name]}")
        return
    objective = slo.get("objective")
    if isinstance(objective, bool) or not isinstance(objective, int | float):
        source.refuse((*path, "objective"), f"expected a percentage such as 99.9, got {shown(objective)}")
        return
    _plugins(source, slo.get("plugins"), (*path, "plugins"))
    body: dict[str, Any] = {"objective": f"{objective}%", "window": options.period}
    if slo.get("description"):
        body["description"] = str(slo["description"])
    alerting = _alerting(source, slo.get("alerting"), (*path, "alerting"), imported)
    if "runbook" in alerting:
        body["runbook"] = alerting.pop("runbook")
    body["labels"] = {**labels, **_series_labels(source, slo.get("labels"), (*path, "labels"), (*RESERVED, "owner"))}
    body.update(_sli(source, slo.get("sli"), (*path, "sli")))
    body.update(alerting)
    spec.data["slos"][name] = body
    spec.origins[name] = Origin(source.doc.file, source.doc.line_of(path))


def _sli(source: _Source, value: Any, path: Path_) -> dict[str, Any]:
    sli = source.mapping(value, path, ("events", "raw", "plugin"))
    given = [k for k in ("events", "raw", "plugin") if sli.get(k) is not None]
    if len(given) != 1:
        source.refuse(path, f"expected one of events, raw and plugin, got {', '.join(given) or 'none'}")
        return {}
    kind = given[0]
    if kind == "plugin":
        plugin = source.mapping(sli["plugin"], (*path, "plugin"), ("id", "options"))
        source.refuse(
            (*path, "plugin"),
            f"Sloth's SLI plugin {shown(plugin.get('id'))} writes its queries at "
            "generation time; slogen cannot run it: write the SLI the plugin generates as events queries",
        )
        return {}
    keys = ("error_query", "total_query") if kind == "events" else ("error_ratio_query",)
    node = source.mapping(sli[kind], (*path, kind), keys)
    queries = {}
    for key in keys:
        text = node.get(source.key(key))
        where = (*path, kind, source.key(key))
        if not isinstance(text, str) or not q.has_window(text):
            source.refuse(where, f"expected a PromQL query with {{{{.window}}}}, got {shown(text)}")
            return {}
        queries[key] = text
    events = q.events_of(*queries.values()) if kind == "events" else q.raw_events_of(queries["error_ratio_query"])
    if events is None:
        _refuse_expression(source, (*path, kind), kind, queries)
        return {}
    return {**({"by": list(events.by)} if events.by else {}), "ratio": events.fields}


def _refuse_expression(source: _Source, path: Path_, kind: str, queries: dict[str, str]) -> None:
    """An expression slogen cannot derive test series from: say what to write instead."""
    if kind == "events":
        written = (
            f"ratio: {{bad: {q.with_placeholder(queries['error_query'])!r}, "
            f"total: {q.with_placeholder(queries['total_query'])!r}, test: {{erroring: [...], healthy: [...]}}}}"
        )
    else:
        written = f"raw: {{error_ratio: {q.with_placeholder(queries['error_ratio_query'])!r}, test: {{erroring: [...], healthy: [...]}}}}"
    source.refuse(
        path,
        "slogen reads sum(rate(selector[{{.window}}])) queries (and a total minus a good one, or "
        "their ratio) as selectors and writes the tests that prove the alerts from them; from any other "
        "expression it cannot derive test series. Remove this SLO from the file to import, then add it "
        f"by hand with input series that make it fail and pass: {written}",
    )


def _alerting(source: _Source, value: Any, path: Path_, imported: Imported) -> dict[str, Any]:
    """The SLO's runbook, alerting and burn_rate_alerts fields from Sloth's alerting."""
    alerting = source.mapping(value, path, ("name", "labels", "annotations", "page_alert", "ticket_alert"))
    shaped: dict[str, Any] = {"name": alerting["name"]} if alerting.get("name") else {}
    common_labels = source.labels(alerting.get("labels"), (*path, "labels"))
    runbooks: dict[str, str] = {}
    common = _annotations(source, alerting.get("annotations"), (*path, "annotations"), imported, runbooks)
    disabled: dict[str, bool] = {}
    for kind in ("page", "ticket"):
        where = (*path, source.key(f"{kind}_alert"))
        alert = source.mapping(alerting.get(source.key(f"{kind}_alert")), where, ("disable", "labels", "annotations"))
        if alert.get("disable") is True:
            disabled[kind] = False  # Sloth generates no such alert: neither does slogen
            continue
        labels = {**common_labels, **source.labels(alert.get("labels"), (*where, "labels"))}
        own = _annotations(source, alert.get("annotations"), (*where, "annotations"), imported, runbooks)
        shape = _shape(kind, labels, {**common, **own})
        if shape:
            shaped[kind] = shape
    out: dict[str, Any] = {}
    if len(set(runbooks.values())) == 1:
        out["runbook"] = next(iter(runbooks.values()))
    elif runbooks:
        imported.warnings.append(
            f"{Origin.of(source.doc, path)}: the alerts have different runbook_url annotations "
            f"({', '.join(sorted(set(runbooks.values())))}); slogen has one runbook per SLO: "
            "none was carried over, set runbook: by hand"
        )
    if shaped:
        out["alerting"] = shaped
    if disabled:
        out["burn_rate_alerts"] = disabled
    return out


def _annotations(
    source: _Source, value: Any, path: Path_, imported: Imported, runbooks: dict[str, str]
) -> dict[str, str]:
    """The annotations slogen can carry; a warning for each one it cannot."""
    kept = {}
    for key, text in source.labels(value, path).items():
        origin = Origin(source.doc.file, source.doc.line_of((*path, key)))
        if key == "runbook_url":
            runbooks[str(origin)] = text  # slogen writes runbook_url from the SLO's runbook:
        elif key in OWN_ANNOTATIONS:
            imported.warnings.append(f"{origin}: annotation {key} is dropped: {OWN_ANNOTATIONS[key]}")
        elif "{{" in text:
            imported.warnings.append(
                f"{origin}: annotation {key} is dropped: it is a Go template ({{{{ }}}}), "
                "which slogen refuses in every spec string"
            )
        else:
            kept[key] = text
    return kept


def _shape(kind: str, labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    """alerting.page or .ticket: Sloth's severity label is slogen's severity value."""
    shape: dict[str, Any] = {}
    severity = labels.pop("severity", None)
    if severity is not None and severity != c.KIND_SEVERITY[kind]:
        shape["severity"] = severity
    if labels:
        shape["labels"] = labels
    if annotations:
        shape["annotations"] = annotations
    return shape


def _hoist_labels(data: dict[str, Any], service_labels: list[dict[str, str]]) -> None:
    """The labels every document of the service gives all its SLOs become the service's
    (`owner` its owner); an SLO keeps the others, and its own."""
    shared = dict(service_labels[0])
    for labels in service_labels[1:]:
        shared = {k: v for k, v in shared.items() if labels.get(k) == v}
    for body in data["slos"].values():
        body["labels"] = {k: v for k, v in body["labels"].items() if shared.get(k) != v}
        if not body["labels"]:
            del body["labels"]
    if "owner" in shared:
        data["owner"] = shared.pop("owner")
    if shared:
        data["labels"] = shared
    data["slos"] = data.pop("slos")  # written after owner and labels
