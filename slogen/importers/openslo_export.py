"""`slogen export openslo`: a spec folder as OpenSLO v1 documents, one file per service
(a Service, then an SLI and an SLO per slogen SLO, the SLO's burn-rate tiers as an inline
AlertPolicy of burnrate AlertConditions).

What OpenSLO has a field for goes there: the objective, the window, ratios of counters as
`sum(rate(selector[5m]))` queries (`sum by (...)` for `by:`), each tier's factor, long
window, `for` and severity. What it has no field for but slogen needs to generate the
same output rides in `slogen.dev/...` annotations, which `slogen import openslo` reads
back: a tier's short window and kind, and a `slogen.dev/spec` JSON of the other fields
(owner, runbook, alert shapes; latency, probe, raw and expression SLIs, whose OpenSLO
SLI then reads slogen's recorded 5m error ratio). What OpenSLO cannot hold at all
(threshold alerts, routing) is listed, to be kept in slogen or elsewhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from .. import conventions as c
from .. import model as m
from .. import tiers as t
from ..errors import Problem, SpecError
from ..load import Document
from ..quantity import fmt
from ..resolve_routing import is_settings_file
from .openslo import ANNOTATION
from .openslo_alerts import SHORT_WINDOW, TIER
from .openslo_model import API_VERSION, duration

_UNITS = (("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000))


@dataclass
class Exported:
    files: dict[str, str] = field(default_factory=dict)  # file name -> text
    left_out: list[str] = field(default_factory=list)  # what OpenSLO cannot hold


def shorthand(ms: int) -> str:
    """A duration in OpenSLO's one-unit shorthand (the largest unit that divides it)."""
    for unit, size in _UNITS:
        if ms % size == 0:
            return f"{ms // size}{unit}"
    raise ValueError(f"{ms}ms is not whole minutes")


def export(docs: list[Document], model: m.Model) -> Exported:
    out = Exported()
    services: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        data = doc.data
        if isinstance(data, dict) and "service" in data:
            services.setdefault(data["service"], []).append(data)
        elif isinstance(data, dict) and "receivers" in data:
            out.left_out.append(
                f"{doc.file}: the routing (receivers, routes): OpenSLO's notification targets name no delivery"
            )
        elif is_settings_file(data):
            out.left_out.append(f"{doc.file}: the settings (grafana, compatibility): OpenSLO has no place for them")
    ids = [slo.id for slo in model.slos()]
    for service in model.services:
        files = services[service.name]
        out.files[f"{service.name}.yaml"] = _service_file(service, files, ids, out)
    return out


def _service_file(service: m.Service, files: list[dict[str, Any]], ids: list[str], out: Exported) -> str:
    top: dict[str, Any] = {}
    bodies: dict[str, dict[str, Any]] = {}
    for data in files:
        top.update({k: v for k, v in data.items() if k not in ("slos", "alerts")})
        bodies.update(data.get("slos") or {})
        for alert in data.get("alerts") or {}:
            out.left_out.append(f"{service.name}: threshold alert {alert}: OpenSLO has no threshold alerts")
        if data.get("routing"):
            out.left_out.append(f"{service.name}: routing: OpenSLO's notification targets name no delivery")
    docs = [_service_doc(service.name, top)]
    by_id = {slo.id: slo for slo in service.slos}
    for slo_id, body in bodies.items():  # in the spec's order, as the import writes them back
        name = _name(slo_id if ids.count(slo_id) == 1 else f"{service.name}-{slo_id}")
        docs += _slo_docs(by_id[slo_id], body, name)
    return "".join("---\n" + _dump(d) for d in docs)


def _service_doc(name: str, top: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if top.get("labels"):
        meta["labels"] = {k: str(v) for k, v in top["labels"].items()}
    extras: dict[str, Any] = {k: top[k] for k in ("owner", "runbook") if k in top}
    alerting = {k: v for k, v in (top.get("alerting") or {}).items() if k != "tiers"}
    if alerting:
        extras["alerting"] = alerting
    if extras:
        meta["annotations"] = {ANNOTATION: _json(extras)}
    spec = {"description": top["description"]} if top.get("description") else {}
    return {"apiVersion": API_VERSION, "kind": "Service", "metadata": meta, "spec": spec}


def _slo_docs(slo: m.SLO, body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    sli_spec, extras = _indicator(slo, body)
    if name != slo.id:
        extras["id"] = slo.id
    extras.update({k: body[k] for k in ("runbook",) if k in body})
    alerting = {k: v for k, v in (body.get("alerting") or {}).items() if k != "tiers"}
    if not slo.tiers:  # no policy to say alertWhenNoData: the absent-data alert rides here
        absent = slo.shaping.absent_for_ms
        alerting["absent"] = absent == c.ABSENT_FOR_MS or ({"for": shorthand(absent)} if absent else False)
    if alerting:
        extras["alerting"] = alerting
    meta: dict[str, Any] = {"name": name}
    if body.get("labels"):
        meta["labels"] = {k: str(v) for k, v in body["labels"].items()}
    if extras:
        meta["annotations"] = {ANNOTATION: _json(extras)}
    window = body.get("window", "30d")
    spec: dict[str, Any] = {}
    if body.get("description"):  # the spec's own (slogen's default is written from the objective)
        spec["description"] = body["description"]
    spec |= {
        "service": slo.service,
        "indicatorRef": _name(f"{slo.service}-{slo.id}"),
        "timeWindow": [
            {"duration": window if duration(window) == window else shorthand(slo.period_ms), "isRolling": True}
        ],
        "budgetingMethod": "Occurrences",
        "objectives": [{"target": float(slo.objective)}],
        "alertPolicies": _policies(slo, name),
    }
    sli = {
        "apiVersion": API_VERSION,
        "kind": "SLI",
        "metadata": {"name": _name(f"{slo.service}-{slo.id}")},
        "spec": sli_spec,
    }
    return [sli, {"apiVersion": API_VERSION, "kind": "SLO", "metadata": meta, "spec": spec}]


def _name(text: str) -> str:
    """An OpenSLO name (RFC 1123: lowercase letters, digits, `-`) for a slogen id, which
    may hold `_` (the id itself then rides in the `slogen.dev/spec` annotation)."""
    return text.replace("_", "-").strip("-")[:63].rstrip("-")


def _indicator(slo: m.SLO, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenSLO SLI spec, and the slogen fields it cannot hold."""
    ratio = body.get("ratio")
    if ratio and "total" in ratio and len(ratio) == 2 and _all_selectors(ratio):
        group = f"sum by ({', '.join(slo.by)}) " if slo.by else "sum"
        metric = {
            k: {"metricSource": {"type": "Prometheus", "spec": {"query": f"{group}(rate({v}[5m]))"}}}
            for k, v in ratio.items()
        }
        return {"ratioMetric": {"counter": True, **metric}}, {}
    extras: dict[str, Any] = {k: body[k] for k in ("by", "ratio", "latency", "raw", "probe") if k in body}
    labels = ", ".join(f'{k}="{v}"' for k, v in (("service", slo.service), ("slo", slo.id)))
    query = f"{c.error_ratio(c.BASE_WINDOW_MS)}{{{labels}}}"  # slogen's own recording, once deployed
    raw = {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}
    return {"ratioMetric": {"counter": False, "rawType": "failure", "raw": raw}}, extras


def _all_selectors(ratio: dict[str, Any]) -> bool:
    from ..promql import is_selector

    return all(isinstance(v, str) and is_selector(v) for v in ratio.values())


def _policies(slo: m.SLO, name: str) -> list[dict[str, Any]]:
    """One AlertPolicy per tier (OpenSLO v1 allows one condition per policy). Routing
    stays slogen's: no notification target is named."""
    out = []
    for tier in slo.tiers:
        kind = t.KIND[tier.severity]
        tier_name = f"{name}-{kind}-{shorthand(tier.long_ms).lower()}-{shorthand(tier.short_ms).lower()}"
        condition = {
            "kind": "AlertCondition",
            "metadata": {"name": tier_name, "annotations": {SHORT_WINDOW: shorthand(tier.short_ms), TIER: kind}},
            "spec": {
                "severity": slo.shaping.of(tier.severity).severity,
                "condition": {
                    "kind": "burnrate",
                    "op": "gt",
                    "threshold": _number(tier.factor),
                    "lookbackWindow": shorthand(tier.long_ms),
                    "alertAfter": shorthand(tier.for_ms) if tier.for_ms else "0m",
                },
            },
        }
        spec = {
            "alertWhenBreaching": True,
            "alertWhenNoData": slo.shaping.absent_for_ms is not None,
            "conditions": [condition],
            "notificationTargets": [],
        }
        out.append({"kind": "AlertPolicy", "metadata": {"name": tier_name}, "spec": spec})
    return out


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(fmt(value))


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=False, ensure_ascii=False, separators=(", ", ": "))


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000, default_flow_style=False)


HEADER = "# exported by `slogen export openslo`: OpenSLO v1, one file per service\n"


def write(exported: Exported, out_dir: Path) -> list[Path]:
    """Write every file, or none: a file there that this command did not write (a spec,
    someone's OpenSLO) is refused, so that `--out slo` cannot replace the specs."""
    targets = {out_dir / name: HEADER + text for name, text in exported.files.items()}
    foreign = [
        p for p in targets if p.exists() and not p.read_text(encoding="utf-8", errors="replace").startswith(HEADER)
    ]
    if foreign:
        raise SpecError(
            [Problem(str(p), 0, "", "exists and was not written by slogen export: not replaced") for p in foreign]
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, text in targets.items():
        path.write_text(text, encoding="utf-8")
    return list(targets)
