"""`slogen import openslo`: OpenSLO v1 documents (Service, SLI, SLO, DataSource,
AlertPolicy, AlertCondition, AlertNotificationTarget) to slogen service specs.

Follows the OpenSLO v1 specification (github.com/OpenSLO/OpenSLO README.md and
pkg/openslo/v1; see openslo_model.py). What slogen cannot mean the same way is refused at
the source's file:line (thresholdMetric, non-Prometheus sources, Timeslices budgets,
composite objectives, queries that are not counters); calendar windows become rolling
ones with a warning. `slogen.dev/spec` annotations (written by `slogen export openslo`)
carry the slogen fields OpenSLO has no place for.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import SpecError
from ..load import Document, Path_
from ..quantity import parse_duration
from . import openslo_alerts as alerts
from . import openslo_query as q
from .common import Imported, ImportOptions, Origin
from .openslo_model import (
    CALENDAR,
    INLINE,
    METRIC,
    OBJECTIVE,
    RATIO,
    SOURCE,
    SPEC,
    TIME_WINDOW,
    Checker,
    duration,
    labels,
)

ANNOTATION = "slogen.dev/spec"
SLO_EXTRAS = ("id", "runbook", "alerting", "by", "ratio", "latency", "raw", "probe")
SERVICE_EXTRAS = ("owner", "runbook", "alerting")
SLI_KINDS = ("ratio", "latency", "raw", "probe")


class _Converter:
    def __init__(self, options: ImportOptions) -> None:
        self.chk = Checker()
        self.out = Imported()
        self.options = options
        self.by_kind: dict[str, dict[str, Document]] = {}
        self.targets = alerts.Targets()

    def index(self, docs: list[Document]) -> None:
        """Check every document's shape and index them by kind and name (unique per kind)."""
        for doc in docs:
            if not self.chk.document(doc):
                continue
            kind, name = doc.data["kind"], doc.data["metadata"]["name"]
            seen = self.by_kind.setdefault(kind, {})
            if name in seen:
                self.chk.refuse(
                    doc, ("metadata", "name"), f"a second {kind} named {name} (first at {Origin.of(seen[name])})"
                )
                continue
            seen[name] = doc

    def ref(self, doc: Document, path: Path_, kind: str, name: Any) -> Document | None:
        found = self.by_kind.get(kind, {}).get(name) if isinstance(name, str) else None
        if found is None:
            self.chk.refuse(doc, path, f"no {kind} named {name!r} in the files imported")
        return found

    def run(self) -> Imported:
        for doc in self.by_kind.get("Service", {}).values():
            self.service(doc)
        for doc in self.by_kind.get("SLO", {}).values():
            self.slo(doc)
        if self.chk.problems:
            raise SpecError(self.chk.problems)
        self.out.warnings = list(dict.fromkeys(self.out.warnings))  # one per condition, not per objective
        stub = self.targets.stub()
        if stub:
            self.out.extra_files[alerts.STUB] = stub
        return self.out

    def service(self, doc: Document) -> None:
        """A Service document: its file's top fields, in the order slogen writes them."""
        data, spec = doc.data, doc.data["spec"]
        svc = self.out.service(data["metadata"]["name"])
        extras = self.extras(doc, SERVICE_EXTRAS)
        found = {
            "owner": extras.get("owner"),
            "description": spec.get("description"),
            "runbook": extras.get("runbook"),
            "labels": labels(self.chk, doc, ("metadata", "labels"), data["metadata"]["labels"])
            if data["metadata"].get("labels")
            else None,
            "alerting": extras.get("alerting"),
        }
        svc.data.update({k: v for k, v in found.items() if v is not None})

    def extras(self, doc: Document, allowed: tuple[str, ...], path: Path_ = ("metadata",)) -> dict[str, Any]:
        """The slogen fields of a `slogen.dev/spec` annotation (JSON), those allowed only."""
        meta = _at(doc.data, path)
        notes = meta.get("annotations") or {}
        text = notes.get(ANNOTATION) if isinstance(notes, dict) else None
        if text is None:
            return {}
        where = (*path, "annotations", ANNOTATION)
        try:
            value = json.loads(text)
        except (TypeError, ValueError) as exc:
            self.chk.refuse(doc, where, f"not JSON: {exc}")
            return {}
        if not isinstance(value, dict) or any(k not in allowed for k in value):
            self.chk.refuse(doc, where, f"expected a JSON object of slogen fields among {', '.join(allowed)}")
            return {}
        return value

    def slo(self, doc: Document) -> None:
        spec = doc.data["spec"]
        window = self.time_window(doc, spec["timeWindow"])
        budget_ok = self.budgeting(doc, spec["budgetingMethod"])
        extras = self.extras(doc, SLO_EXTRAS)
        # slogen's own SLI, exported beside an OpenSLO SLI that reads its recording
        own = {k: v for k, v in extras.items() if k in ("by", *SLI_KINDS)}
        sli = own if any(k in own for k in SLI_KINDS) else self.indicator(doc, spec)
        if not isinstance(spec["objectives"], list) or not spec["objectives"]:
            self.chk.refuse(doc, ("spec", "objectives"), "expected a list of at least one objective")
            return
        if sli is None or window is None or not budget_ok:
            return
        svc = self.out.service(spec["service"])
        names = _objective_names(extras.get("id") or doc.data["metadata"]["name"], spec["objectives"])
        for i, name in enumerate(names):
            body = self.objective(doc, i, sli, extras, window, name)
            if name in svc.origins:
                self.chk.refuse(
                    doc,
                    ("metadata", "name"),
                    f"a second SLO {name} of service {svc.name} (first at {svc.origins[name]})",
                )
            elif body is not None:
                svc.data.setdefault("slos", {})[name] = body
                svc.origins[name] = Origin(
                    doc.file, doc.line_of(("spec", "objectives", i)) if len(names) > 1 else doc.line_of(())
                )

    def time_window(self, doc: Document, value: Any) -> str | None:
        path: Path_ = ("spec", "timeWindow")
        if not isinstance(value, list) or len(value) != 1:
            self.chk.refuse(doc, path, "expected a list of exactly one time window")
            return None
        path, item = (*path, 0), value[0]
        if not self.chk.fields(doc, path, item, TIME_WINDOW):
            return None
        window = duration(item["duration"])
        if window is None:
            self.chk.refuse(
                doc, (*path, "duration"), "not an OpenSLO duration shorthand ([0-9]+ and one of m h d w M Q Y)"
            )
            return None
        try:
            parse_duration(window)
        except ValueError as exc:
            self.chk.refuse(doc, (*path, "duration"), f"{item['duration']} is {window}: {exc}")
            return None
        calendar = item.get("calendar")
        if calendar is not None and not self.chk.fields(doc, (*path, "calendar"), calendar, CALENDAR):
            return None
        # A calendar window: `calendar:` given, or isRolling: false (assumed false with a calendar)
        if calendar is not None or item.get("isRolling") is False:
            self.out.warnings.append(
                f"{Origin(doc.file, doc.line_of(path))}: a calendar window of {item['duration']} becomes a rolling "
                f"window of {window} (slogen's budgets and alerts look back over the last {window}, not from a "
                "calendar start)"
            )
        return window

    def budgeting(self, doc: Document, value: Any) -> bool:
        if value == "Occurrences":
            return True
        if value in ("Timeslices", "RatioTimeslices"):
            why = (
                f"{value} budgets count good time slices, slogen's count good events (Occurrences): the alerts "
                "would not mean the same; write budgetingMethod: Occurrences if events are what you mean"
            )
        else:
            why = "expected Occurrences, Timeslices or RatioTimeslices"
        self.chk.refuse(doc, ("spec", "budgetingMethod"), why)
        return False

    def indicator(self, doc: Document, spec: dict[str, Any]) -> dict[str, Any] | None:
        """The slogen SLI of the SLO's inline indicator or indicatorRef."""
        if ("indicator" in spec) == ("indicatorRef" in spec):
            self.chk.refuse(doc, ("spec",), "give exactly one of indicator and indicatorRef")
            return None
        if "indicator" in spec:
            if not self.chk.fields(doc, ("spec", "indicator"), spec["indicator"], INLINE):
                return None
            meta_ok = self.chk.metadata(doc, ("spec", "indicator", "metadata"), spec["indicator"]["metadata"])
            return self.sli(doc, ("spec", "indicator", "spec"), spec["indicator"]["spec"]) if meta_ok else None
        found = self.ref(doc, ("spec", "indicatorRef"), "SLI", spec["indicatorRef"])
        return self.sli(found, ("spec",), found.data["spec"]) if found else None

    def sli(self, doc: Document, path: Path_, spec: Any) -> dict[str, Any] | None:
        if not self.chk.fields(doc, path, spec, SPEC["SLI"]):
            return None
        if "thresholdMetric" in spec:
            self.chk.refuse(
                doc,
                (*path, "thresholdMetric"),
                "a threshold SLI (each value good or bad against `value`) has no slogen kind: slogen's SLIs are ratios of events; use ratioMetric",
            )
            return None
        if "ratioMetric" not in spec:
            self.chk.refuse(doc, path, "give ratioMetric (thresholdMetric is not imported)")
            return None
        return self.ratio(doc, (*path, "ratioMetric"), spec["ratioMetric"])

    def ratio(self, doc: Document, path: Path_, value: Any) -> dict[str, Any] | None:
        if not self.chk.fields(doc, path, value, RATIO):
            return None
        if "raw" in value:
            return self.raw(doc, path, value)
        given = [k for k in ("good", "bad") if k in value]
        if len(given) != 1 or "total" not in value:
            self.chk.refuse(doc, path, "give total and one of good and bad (or raw with rawType)")
            return None
        if value.get("counter") is False:
            self.chk.refuse(
                doc,
                (*path, "counter"),
                "counter: false (queries that are already rates or gauges) is not imported: slogen reads counters",
            )
            return None
        events = {k: self.events(doc, (*path, k), value[k]) for k in (*given, "total")}
        if any(e is None for e in events.values()):
            return None
        return self.grouped(doc, path, events)  # type: ignore[arg-type]

    def raw(self, doc: Document, path: Path_, value: dict[str, Any]) -> dict[str, Any] | None:
        kind = value.get("rawType")
        if kind not in ("success", "failure"):
            self.chk.refuse(doc, (*path, "rawType"), "raw needs rawType: success or failure")
            return None
        query = self.query(doc, (*path, "raw"), value["raw"])
        if query is None:
            return None
        try:
            top, bottom = q.ratio(query)
        except q.NotCounters as exc:
            self.chk.refuse(
                doc,
                (*path, "raw"),
                f"{exc}; slogen writes other error ratios as a raw SLI with `$window` and `test:` series (raw: {{error_ratio, test}}): write that SLO by hand",
            )
            return None
        return self.grouped(doc, path, {"bad" if kind == "failure" else "good": top, "total": bottom})

    def grouped(self, doc: Document, path: Path_, events: dict[str, q.Events]) -> dict[str, Any] | None:
        by = {e.by for e in events.values()}
        if len(by) != 1:
            self.chk.refuse(doc, path, "the queries are summed by different labels: give each the same `sum by (...)`")
            return None
        out: dict[str, Any] = {}
        (labels_by,) = by
        if labels_by:
            out["by"] = list(labels_by)
        out["ratio"] = {k: e.selector for k, e in events.items()}
        return out

    def events(self, doc: Document, path: Path_, value: Any) -> q.Events | None:
        query = self.query(doc, path, value)
        if query is None:
            return None
        try:
            return q.events(query)
        except q.NotCounters as exc:
            self.chk.refuse(
                doc,
                (*path, "metricSource", "spec", "query"),
                f"{exc}; other expressions need `$window` in place of the range and `test:` series in slogen "
                "(ratio: {bad: <expression>, total: ..., test: {erroring, healthy}}): write that SLO by hand",
            )
            return None

    def query(self, doc: Document, path: Path_, value: Any) -> str | None:
        """The Prometheus query of a metric spec, directly or through a DataSource."""
        if not self.chk.fields(doc, path, value, METRIC):
            return None
        path, source = (*path, "metricSource"), value["metricSource"]
        if not self.chk.fields(doc, path, source, SOURCE):
            return None
        kind = source.get("type")
        if "metricSourceRef" in source:
            found = self.ref(doc, (*path, "metricSourceRef"), "DataSource", source["metricSourceRef"])
            if found is None:
                return None
            kind = found.data["spec"]["type"]
        if not isinstance(kind, str) or kind.lower() != "prometheus":  # OpenSLO sets no naming convention
            self.chk.refuse(
                doc,
                path,
                f"a {kind or 'untyped'} metric source: slogen compiles Prometheus queries only (type: Prometheus)",
            )
            return None
        spec = source.get("spec")
        if not isinstance(spec, dict) or set(spec) != {"query"}:
            self.chk.refuse(doc, (*path, "spec"), "a Prometheus metric source's spec is {query: <PromQL>}")
            return None
        return self.chk.string(doc, (*path, "spec", "query"), spec["query"])

    def objective(
        self, doc: Document, i: int, sli: dict[str, Any], extras: dict[str, Any], window: str, slo_id: str
    ) -> dict[str, Any] | None:
        path: Path_ = ("spec", "objectives", i)
        value = doc.data["spec"]["objectives"][i]
        if not self.chk.fields(doc, path, value, OBJECTIVE):
            return None
        target = self.target(doc, path, value)
        for key, why in _OBJECTIVE_REFUSED.items():
            if key in value:
                self.chk.refuse(doc, (*path, key), why)
                target = None
        if target is None:
            return None
        meta, spec = doc.data["metadata"], doc.data["spec"]
        body: dict[str, Any] = {"objective": target, "window": window}
        description = spec.get("description") or value.get("displayName")
        if description:
            body["description"] = description
        if "runbook" in extras:
            body["runbook"] = extras["runbook"]
        if meta.get("labels"):
            body["labels"] = labels(self.chk, doc, ("metadata", "labels"), meta["labels"])
        body.update(sli)
        objective = Decimal(target.removesuffix("%")) / 100
        shaping = alerts.Policies(self, doc, objective, window, slo_id).read(extras.get("alerting"))
        body.update(shaping)
        return body

    def target(self, doc: Document, path: Path_, value: dict[str, Any]) -> str | None:
        if ("target" in value) == ("targetPercent" in value):
            self.chk.refuse(doc, path, "give exactly one of target (0 to 1) and targetPercent (0 to 100)")
            return None
        key = "target" if "target" in value else "targetPercent"
        scale = 100 if key == "target" else 1
        try:
            number = Decimal(str(value[key])) * scale
        except InvalidOperation:
            number = Decimal(-1)
        if isinstance(value[key], bool) or not 0 < number < 100:
            self.chk.refuse(doc, (*path, key), f"expected a number strictly between 0 and {1 if scale == 100 else 100}")
            return None
        return f"{number.normalize():f}%"


_OBJECTIVE_REFUSED = {
    "value": "a threshold objective (value and op) needs a thresholdMetric, which slogen does not import",
    "timeSliceTarget": "time slices are for Timeslices budgets, which slogen does not import",
    "timeSliceWindow": "time slices are for Timeslices budgets, which slogen does not import",
    "indicator": "composite SLOs (an indicator per objective) are not imported: give each its own SLO",
    "indicatorRef": "composite SLOs (an indicator per objective) are not imported: give each its own SLO",
    "compositeWeight": "composite SLOs (an indicator per objective) are not imported: give each its own SLO",
}


def _at(data: Any, path: Path_) -> Any:
    for key in path:
        data = data[key]
    return data


def _objective_names(name: str, objectives: list[Any]) -> list[str]:
    """One slogen SLO per objective: the SLO's name, suffixed by each objective's display
    name (or its position) when there are several."""
    if len(objectives) == 1:
        return [name]
    out = []
    for i, item in enumerate(objectives):
        label = item.get("displayName") if isinstance(item, dict) else None
        slug = re.sub(r"[^a-z0-9]+", "-", str(label or "").lower()).strip("-")
        out.append(f"{name}-{slug or i + 1}")
    return out


def convert(docs: list[Document], options: ImportOptions) -> Imported:
    conv = _Converter(options)
    conv.index(docs)
    return conv.run()
