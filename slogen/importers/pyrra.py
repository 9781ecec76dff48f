"""`slogen import pyrra`: Pyrra's `pyrra.dev/v1alpha1` ServiceLevelObjective resources.

Read as Pyrra reads them (kubernetes/api/v1alpha1/servicelevelobjective_types.go: the
fields, `validate()` and `Internal()`; slo/rules.go: the alerts). Pyrra has no service:
the resource's `metadata.namespace` is the slogen service (Kubernetes' unit of ownership,
and the label Pyrra itself records), `default` when there is none, as kubectl would
place it; `metadata.name` is the SLO's id. Several SLOs of one namespace share one file.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import Problem, SpecError
from ..load import Document, Path_
from ..promql import Selector, parse_selector
from ..quantity import parse_duration
from . import pyrra_alerting
from .common import Imported, ImportOptions, Origin

API_VERSION = "pyrra.dev/v1alpha1"
KIND = "ServiceLevelObjective"
PROPAGATE = "pyrra.dev/"  # Pyrra's PropagationLabelsPrefix: these labels reach its rules
SPEC_KEYS = (
    "description",
    "target",
    "window",
    "indicator",
    "alerting",
    "partial_response_strategy",
    "performanceOverAccuracy",
    "ruleOutput",
)
INDICATORS = ("ratio", "latency", "latencyNative", "bool_gauge")
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
TARGET = re.compile(r"^[0-9]+(\.[0-9]+)?$")
NATIVE = (
    "native histograms cannot be carried over: promtool 2.42, which proves every slogen alert, cannot write "
    "native histogram samples in a test's input series; write the SLI with the classic buckets (latency: "
    'success h_bucket{le="0.25"} and total h_count) or as a raw SLI'
)


def convert(docs: list[Document], options: ImportOptions) -> Imported:
    """Every ServiceLevelObjective of the documents as a slogen SLO; other Kubernetes
    objects (a Deployment beside them) are skipped with a warning."""
    imported = Imported()
    problems: list[Problem] = []
    seen: dict[tuple[str, str], Origin] = {}
    for doc in docs:
        if not _is_slo(doc, imported, problems):
            continue
        before = len(problems)
        result = _slo(doc, problems, imported.warnings)
        if result is None or len(problems) > before:
            continue
        service, slo_id, body = result
        origin = Origin.of(doc, ("metadata", "name"))
        if (service, slo_id) in seen:
            problems.append(
                doc.problem(
                    ("metadata", "name"), f"{service}/{slo_id} is imported already, from {seen[service, slo_id]}"
                )
            )
            continue
        seen[service, slo_id] = origin
        spec = imported.service(service)
        spec.data.setdefault("slos", {})[slo_id] = body
        spec.origins[slo_id] = origin
    if not problems and not imported.services:
        problems.append(Problem(docs[0].file if docs else "", 1, "", f"no {API_VERSION} {KIND} found"))
    if problems:
        raise SpecError(problems)
    imported.warnings.sort(key=_by_place)
    return imported


def _by_place(warning: str) -> tuple[str, int]:
    """Warnings in the order of the source files and lines (`file:line: ...`)."""
    file, _, rest = warning.partition(":")
    line = rest.partition(":")[0]
    return file, int(line) if line.isdigit() else 0


def _is_slo(doc: Document, imported: Imported, problems: list[Problem]) -> bool:
    data = doc.data
    api = data.get("apiVersion") if isinstance(data, dict) else None
    kind = data.get("kind") if isinstance(data, dict) else None
    if api == API_VERSION and kind == KIND:
        return True
    if isinstance(api, str) and api.startswith("pyrra.dev/"):
        problems.append(
            doc.problem(("apiVersion",), f"not a Pyrra resource slogen reads: {api} {kind} (only {API_VERSION} {KIND})")
        )
    elif isinstance(api, str) and isinstance(kind, str):
        imported.warnings.append(f"{doc.file}:{doc.line_of(())}: skipped: {api} {kind} is not a Pyrra {KIND}")
    else:
        problems.append(doc.problem((), f"not a Kubernetes object: give apiVersion: {API_VERSION} and kind: {KIND}"))
    return False


def _slo(doc: Document, problems: list[Problem], warnings: list[str]) -> tuple[str, str, dict[str, Any]] | None:
    """(service, id, slogen SLO) of one resource; problems are appended."""
    meta, spec = doc.data.get("metadata"), doc.data.get("spec")
    if not isinstance(meta, dict):
        problems.append(doc.problem(("metadata",), "a ServiceLevelObjective needs metadata with a name"))
        return None
    if not isinstance(spec, dict):
        problems.append(doc.problem(("spec",), "a ServiceLevelObjective needs a spec (target, window, indicator)"))
        return None
    problems += [
        doc.problem(("spec", k), f"not a field of Pyrra's spec (one of {', '.join(SPEC_KEYS)})")
        for k in spec
        if k not in SPEC_KEYS
    ]
    slo_id = _name(doc, ("metadata", "name"), meta.get("name"), 40, problems)
    service = _service(doc, meta, problems, warnings)
    target = _target(doc, spec.get("target"), problems, warnings)
    window_ms = _window(doc, spec.get("window"), problems)
    sli = _indicator(doc, spec.get("indicator"), problems)
    _ignored(doc, spec, warnings)
    if slo_id is None or service is None or target is None or window_ms is None or sli is None:
        return None
    body: dict[str, Any] = {"objective": f"{target}%", "window": spec["window"]}
    if isinstance(spec.get("description"), str) and spec["description"].strip():
        body["description"] = spec["description"].strip()
    body.update(_labels(doc, meta, problems))
    body.update(sli)
    budget = 1 - Decimal(target) / 100
    mapped = pyrra_alerting.alerting(doc, window_ms, Decimal(target), budget)
    problems += mapped.problems
    warnings += mapped.warnings
    body.update(mapped.fields)
    annotations = _annotations(meta)
    shaping = body["alerting"]
    if annotations:
        for kind in ("page", "ticket"):
            shaping.setdefault(kind, {})["annotations"] = dict(annotations)  # a copy: no YAML alias
    body["alerting"] = {k: shaping[k] for k in ("name", "page", "ticket", "absent", "tiers") if k in shaping}
    return service, slo_id, body


def _name(doc: Document, path: Path_, value: object, most: int, problems: list[Problem]) -> str | None:
    if not isinstance(value, str) or not value:
        problems.append(doc.problem(path, "must be set (a Kubernetes name)"))
        return None
    if not NAME.fullmatch(value) or len(value) > most:
        problems.append(
            doc.problem(path, f"{value!r} cannot be a slogen name ([a-z0-9][a-z0-9_-]*, at most {most} characters)")
        )
        return None
    return value


def _service(doc: Document, meta: dict[str, Any], problems: list[Problem], warnings: list[str]) -> str | None:
    if meta.get("namespace") is None:
        warnings.append(
            f"{doc.file}:{doc.key_line(('metadata',))}: metadata: no namespace: the service is `default`, "
            "the namespace Kubernetes would put it in"
        )
        return "default"
    return _name(doc, ("metadata", "namespace"), meta.get("namespace"), 32, problems)


def _target(doc: Document, value: object, problems: list[Problem], warnings: list[str]) -> str | None:
    """Pyrra's target is a string in percent ("99.5"), between 0 and 100."""
    path = ("spec", "target")
    if not isinstance(value, str):
        problems.append(
            doc.problem(path, f'must be a string in percent, such as "99.5" (Pyrra reads no number), got {value!r}')
        )
        return None
    text = value.strip()
    if not TARGET.fullmatch(text) or not 0 < Decimal(text) < 100:
        problems.append(
            doc.problem(path, f'must be a percentage strictly between 0 and 100, such as "99.5", got {value!r}')
        )
        return None
    if Decimal(text) < 1:
        warnings.append(
            f"{doc.file}:{doc.line_of(path)}: spec.target: {text} is read in percent, as Pyrra reads it "
            f"({text}%, not {Decimal(text) * 100}%)"
        )
    return text


def _window(doc: Document, value: object, problems: list[Problem]) -> int | None:
    path = ("spec", "window")
    try:
        if not isinstance(value, str):
            raise ValueError(f"must be a duration such as 4w or 28d, got {value!r}")
        return parse_duration(value)
    except ValueError as exc:
        problems.append(doc.problem(path, str(exc)))
        return None


def _indicator(doc: Document, value: object, problems: list[Problem]) -> dict[str, Any] | None:
    """The SLI fields (ratio, latency or probe, and by) of Pyrra's one indicator."""
    here: Path_ = ("spec", "indicator")
    if not isinstance(value, dict):
        problems.append(doc.problem(here, f"must give one of {', '.join(INDICATORS)}"))
        return None
    problems += [
        doc.problem((*here, k), f"not an indicator of Pyrra's (one of {', '.join(INDICATORS)})")
        for k in value
        if k not in INDICATORS
    ]
    given = [k for k in INDICATORS if k in value]
    if len(given) != 1:
        problems.append(
            doc.problem(here, f"give exactly one of {', '.join(INDICATORS)} (got {', '.join(given) or 'none'})")
        )
        return None
    kind = given[0]
    if kind == "latencyNative":
        problems.append(doc.problem((*here, kind), NATIVE))
        return None
    body = value[kind]
    if not isinstance(body, dict):
        problems.append(doc.problem((*here, kind), "must be a mapping"))
        return None
    keys = {"ratio": ("errors", "total"), "latency": ("success", "total"), "bool_gauge": ("metric",)}[kind]
    problems += [
        doc.problem((*here, kind, k), f"not a field of Pyrra's {kind} (one of {', '.join((*keys, 'grouping'))})")
        for k in body
        if k not in (*keys, "grouping")
    ]
    before = len(problems)
    selectors = {
        k: _selector(doc, (*here, kind, k) if kind == "bool_gauge" else (*here, kind, k, "metric"), body, k, problems)
        for k in keys
    }
    by = _grouping(doc, (*here, kind, "grouping"), body.get("grouping"), problems)
    if len(problems) > before:
        return None
    out: dict[str, Any] = {"by": by} if by else {}
    if kind == "ratio":
        out["ratio"] = {"bad": selectors["errors"].render(), "total": selectors["total"].render()}
    elif kind == "bool_gauge":
        out["probe"] = {"metric": selectors["metric"].render()}
    else:
        latency = _latency(doc, (*here, kind), selectors["success"], selectors["total"], problems)
        if latency is None:
            return None
        out["latency"] = latency
    return out


def _selector(doc: Document, path: Path_, body: dict[str, Any], key: str, problems: list[Problem]) -> Selector:
    """A Pyrra metric: a plain series selector (Pyrra refuses anything else too)."""
    raw = body.get(key)
    text = raw if key == "metric" else raw.get("metric") if isinstance(raw, dict) else None
    if isinstance(raw, dict) and key != "metric":
        problems += [
            doc.problem((*path[:-1], k), "not a field of Pyrra's query (only metric)") for k in raw if k != "metric"
        ]
    try:
        if not isinstance(text, str):
            raise ValueError('must be set: a series selector such as http_requests_total{job="api"}')
        return parse_selector(text)
    except ValueError as exc:
        problems.append(doc.problem(path, str(exc)))
        return Selector("")


def _grouping(doc: Document, path: Path_, value: object, problems: list[Problem]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(doc.problem(path, "must be a list of label names"))
        return []
    return list(dict.fromkeys(value))


def _latency(
    doc: Document, here: Path_, success: Selector, total: Selector, problems: list[Problem]
) -> dict[str, Any] | None:
    """`success: h_bucket{..., le="0.25"}` over `total: h_count{...}`: the histogram h, its
    threshold the `le`. Pyrra knows of that one bucket only, and it is all the SLI needs
    (the share of requests at or under it), so it is the bucket list."""
    les = [m for m in success.matchers if m.name == "le"]
    rest = tuple(m for m in success.matchers if m.name != "le")
    path = (*here, "success", "metric")
    if len(les) != 1 or les[0].op != "=":
        problems.append(
            doc.problem(path, 'must select one bucket with an le="..." equality matcher, such as h_bucket{le="0.25"}')
        )
        return None
    try:
        bound = Decimal(les[0].value)
    except InvalidOperation:
        bound = Decimal("NaN")
    if not bound.is_finite() or bound <= 0:
        problems.append(doc.problem(path, f"le must be a finite bucket boundary above 0, got {les[0].value!r}"))
        return None
    if not success.metric.endswith("_bucket") or not total.metric.endswith("_count"):
        problems.append(
            doc.problem(
                here, "slogen reads a classic histogram: success must be its _bucket series and total its _count"
            )
        )
        return None
    family = success.metric.removesuffix("_bucket")
    if total.metric.removesuffix("_count") != family or set(total.matchers) != set(rest):
        problems.append(
            doc.problem(
                (*here, "total", "metric"),
                f"must be the same histogram with the same matchers as success, but for le: "
                f"{Selector(family + '_count', rest).render()}",
            )
        )
        return None
    value = float(bound) if bound != bound.to_integral_value() else int(bound)
    return {"histogram": Selector(family, rest).render(), "buckets": [value], "threshold": value}


def _labels(doc: Document, meta: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """Pyrra puts the resource's `pyrra.dev/<name>` labels on its rules as `<name>`."""
    labels = meta.get("labels")
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        problems.append(doc.problem(("metadata", "labels"), "must be a mapping"))
        return {}
    found = {
        k.removeprefix(PROPAGATE): str(v) for k, v in labels.items() if isinstance(k, str) and k.startswith(PROPAGATE)
    }
    return {"labels": dict(sorted(found.items()))} if found else {}


def _annotations(meta: dict[str, Any]) -> dict[str, str]:
    """Pyrra puts the resource's `pyrra.dev/<name>` annotations on its alerts as `<name>`."""
    given = meta.get("annotations")
    if not isinstance(given, dict):
        return {}
    return {
        k.removeprefix(PROPAGATE): str(v)
        for k, v in sorted(given.items())
        if isinstance(k, str) and k.startswith(PROPAGATE)
    }


def _ignored(doc: Document, spec: dict[str, Any], warnings: list[str]) -> None:
    """Fields about how Pyrra writes its rules, not what they mean: said, then left."""
    why = {
        "partial_response_strategy": "Thanos Ruler's; slogen's rule files carry none",
        "ruleOutput": "labels of Pyrra's PrometheusRule objects; slogen writes plain rule files",
    }
    for key, reason in why.items():
        if key in spec:
            warnings.append(f"{doc.file}:{doc.key_line(('spec', key))}: spec.{key}: ignored ({reason})")
