"""Output targets (issue 12, item 1): the rule groups of out/prometheus, written again
for the rulers that scale Prometheus out.

- mimir, cortex: the ruler's namespace format that `mimirtool rules load` and `cortextool
  rules load` read: a YAML file with `namespace:` and `groups:` (Grafana Mimir docs,
  "Grafana Mimir mimirtool", rules load), one namespace per service; `source_tenants` on
  every group for federated rule groups (Grafana Mimir docs, ruler, "Federated rule
  groups", grafana/mimir#1906; a Prometheus rule group plus `source_tenants`, as in
  grafana/agent internal/mimir/client/types.go).
- thanos: Prometheus rule files with Thanos Ruler's group key `partial_response_strategy`
  (Thanos docs, "Rule", Partial Response), one file per service.

- argo-rollouts, flagger: no rule groups, but canary analysis of each service with
  `canary:` (builders/canary.py): an Argo Rollouts AnalysisTemplate per service
  (out/argo-rollouts/<service>.yaml), a Flagger MetricTemplate per SLO and the Canary's
  analysis.metrics (out/flagger/<service>/).

The groups themselves are the prometheus target's, byte for byte once the ruler keys are
set aside: the promtool tests of out/prometheus prove them for every target.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import conventions as c
from . import model as m
from . import spec as s
from .builders.canary import build_canary_files
from .errors import Problem
from .load import Document
from .promql import Selector
from .spec_targets import OperatorSettings

# Keys a ruler reads that promtool's rule file format does not know; check.py sets them
# aside before `promtool check rules`.
RULER_TARGETS = ("mimir", "cortex", "thanos")
RULER_GROUP_KEYS = ("source_tenants", "partial_response_strategy")
DELIVERY_TARGETS = ("argo-rollouts", "flagger")


def resolve_settings(doc: Document, spec: s.SettingsFile, sloth_labels: bool, problems: list[Problem]) -> m.Settings:
    """The model's settings from slogen.yaml; a problem for a target's settings without the target."""
    # Settings of a target that is not written would be silently ignored: refuse them.
    for name in ("mimir", "cortex", "thanos", "prometheus-operator", "argo-rollouts", "flagger"):
        key = name.replace("-", "_")
        if getattr(spec, key) is not None and name not in spec.targets:
            problems.append(doc.problem((key,), f"{key} settings, but {name} is not in targets: add it there"))
        if name in DELIVERY_TARGETS and name in spec.targets and getattr(spec, key) is None:
            where = ("targets", spec.targets.index(name))
            problems.append(
                doc.problem(where, f"{name} needs its settings: {key}: {{prometheus_url: http://prometheus:9090}}")
            )
    grafana = spec.grafana
    return m.Settings(
        grafana.url.rstrip("/"),
        grafana.folder,
        grafana.dashboards_path,
        sloth_labels,
        targets=tuple(spec.targets),
        mimir_source_tenants=tuple(spec.mimir.source_tenants) if spec.mimir else (),
        cortex_source_tenants=tuple(spec.cortex.source_tenants) if spec.cortex else (),
        thanos_partial_response=spec.thanos.partial_response_strategy if spec.thanos else None,
        argo_rollouts_url=spec.argo_rollouts.prometheus_url if spec.argo_rollouts else "",
        flagger_url=spec.flagger.prometheus_url if spec.flagger else "",
        flagger_namespace=spec.flagger.namespace if spec.flagger else "",
        operator=_operator(doc, spec) if "prometheus-operator" in spec.targets else None,
    )


def _operator(doc: Document, spec: s.SettingsFile) -> m.OperatorTarget:
    settings = spec.prometheus_operator or OperatorSettings()
    index = list(spec.targets).index("prometheus-operator")
    return m.OperatorTarget(
        namespace=settings.namespace,
        rule_labels=tuple(sorted(settings.rule_labels.items())),
        dashboard_labels=tuple(sorted(settings.dashboard_labels.items())),
        alertmanager=settings.alertmanager,
        file=doc.file,
        line=doc.line_of(("targets", index)),
    )


def resolve_canary(
    files: list[tuple[Document, s.ServiceFile]], slos: list[m.SLO], problems: list[Problem]
) -> m.Canary | None:
    """A service's `canary:`, given in one of its files at most, on a label its SLIs'
    selectors do not match on already (two matchers on one label would match nothing)."""
    given = [(doc, spec.canary) for doc, spec in files if spec.canary is not None]
    for doc, _ in given[1:]:
        problems.append(doc.problem(("canary",), f"canary is already given in {given[0][0].file}: give it once per service"))
    if not given:
        return None
    doc, canary = given[0]
    for slo in slos:
        taken = sorted({x.name for sel in _selectors(slo.sli) for x in sel.matchers} | _implied(slo.sli))
        if canary.label in taken:
            problems.append(
                doc.problem(
                    ("canary", "label"),
                    f"the SLI of {slo.id} already matches on {canary.label}: "
                    "name the label that only tells the canary's series from the stable version's",
                )
            )
    threshold = Decimal(str(canary.max_burn_rate)) if canary.max_burn_rate is not None else None
    source = m.Source(doc.file, doc.line_of(("canary",)), doc.spec_path)
    return m.Canary(canary.label, threshold, source)


def _selectors(sli: m.SLI) -> list[Selector]:
    if isinstance(sli, m.RatioSLI):
        return [x for x in (sli.bad, sli.good, sli.total) if x is not None]
    return [sli.histogram] if isinstance(sli, m.LatencySLI) else []


def _implied(sli: m.SLI) -> set[str]:
    return {"le"} if isinstance(sli, m.LatencySLI) else set()  # the bucket bound the query sets


def build_target_files(model: m.Model, rule_files: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """{path under out/: {"source": spec file, "data": file content}} for every target but prometheus."""
    settings = model.settings
    files: dict[str, dict[str, Any]] = {}
    for service in model.services:
        groups = service_groups(service, rule_files)
        for target in settings.targets:
            if target in ("prometheus", "prometheus-operator") or target in DELIVERY_TARGETS:
                continue  # prometheus-operator: target_operator.py; the delivery targets: their own modules
            data: dict[str, Any] = {"groups": [_group(g, target, settings) for g in groups]}
            if target in ("mimir", "cortex"):
                data = {"namespace": service.name, **data}
            files[target_file(target, service.name)] = {"source": service.source.spec_path, "data": data}
    return files | build_canary_files(model)


def target_file(target: str, service: str) -> str:
    return f"{target}/{service}.yaml"


def service_groups(service: m.Service, rule_files: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    # The order of out/prometheus: the SLOs, then the threshold alerts, as the spec lists them.
    items = [slo.id for slo in service.slos] + [alert.id for alert in service.alerts]
    return [group for item in items for group in rule_files[c.rules_file(service.name, item)]["groups"]]


def _group(group: dict[str, Any], target: str, settings: m.Settings) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    tenants = {"mimir": settings.mimir_source_tenants, "cortex": settings.cortex_source_tenants}.get(target, ())
    if tenants:
        extra["source_tenants"] = list(tenants)
    if target == "thanos" and settings.thanos_partial_response:
        extra["partial_response_strategy"] = settings.thanos_partial_response
    if not extra:
        return group
    # The ruler keys go after name and interval, before the rules, as the docs show them.
    head = {k: v for k, v in group.items() if k != "rules"}
    return {**head, **extra, "rules": group["rules"]}


def explain_targets(settings: m.Settings, service: str) -> str:
    """`slogen explain`'s lines on where an item's groups go besides out/prometheus ("" when nowhere)."""
    lines = []
    for target in settings.targets:
        if target == "prometheus" or target in DELIVERY_TARGETS:
            continue
        if target == "prometheus-operator":
            from .target_operator import explain_operator  # it builds on this module

            lines.append(explain_operator(settings, service))
            continue
        keys = [f"namespace {service}"] if target in ("mimir", "cortex") else []
        tenants = {"mimir": settings.mimir_source_tenants, "cortex": settings.cortex_source_tenants}.get(target, ())
        if tenants:
            keys.append(f"source_tenants {', '.join(tenants)} (federated rule groups)")
        if target == "thanos" and settings.thanos_partial_response:
            keys.append(f"partial_response_strategy {settings.thanos_partial_response}")
        lines.append(f"    out/{target_file(target, service)}" + (f": {'; '.join(keys)}" if keys else ""))
    return "\n\n  also written for (targets in slogen.yaml):\n" + "\n".join(lines) if lines else ""
