"""Canary analysis from each SLO (issue 13, item 2): an Argo Rollouts AnalysisTemplate per
service and Flagger MetricTemplates per SLO, each reading only the canary's traffic.

The query of an SLO is its burn rate: the canary's error ratio over the analysis interval
(read from the SLI's raw series, with one more matcher, `canary.label` equal to the
canary's value: the recordings sum that label away) divided by the budget. It passes at
or under the threshold (canary.max_burn_rate, by default the SLO's lowest page factor, as
`slogen gate`) and fails above it. No traffic gives an empty result or NaN, which meets
neither condition: the measurement is inconclusive, never a pass.

Argo Rollouts (docs "Analysis & Progressive Delivery" and "Prometheus" metric provider,
https://argo-rollouts.readthedocs.io/en/stable/features/analysis/ and
/analysis/prometheus/): a Prometheus query returns a vector, read as `result[0]`; with a
success and a failure condition, a measurement meeting neither is Inconclusive, and any
inconclusive measurement beyond inconclusiveLimit (0) pauses the rollout. The canary's
value comes in as the argument `canary` (Rollout: `valueFrom.podTemplateHashValue: Latest`).

Flagger (docs "Metrics Analysis", custom metrics, https://docs.flagger.app/usage/metrics):
a MetricTemplate's query is rendered with `{{ namespace }}`, `{{ target }}` and
`{{ interval }}`; a Canary's analysis.metrics entry names it (templateRef) and passes when
the value lies in thresholdRange. Flagger runs the canary as the workload `<target>` and
the stable version as `<target>-primary`: the canary's series are those whose label
(`canary.label`, e.g. `app`) is `{{ target }}`. Flagger fails a check whose query returns
no value or NaN (it counts as a failed check, never a pass).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .. import model as m
from ..gate import default_threshold
from ..promql import Matcher, Selector
from ..quantity import fmt, format_duration
from . import queries as q

ARGO_ARG = "canary"
ARGO_VALUE = "{{args.canary}}"
FLAGGER_VALUE = "{{ target }}"
INTERVAL_MS = 300_000  # one measurement per 5m: the SLIs' own rate window
ARGO_COUNT = 3  # three measurements: 15 minutes of canary traffic
ARGO_FAILURE_LIMIT = 1  # a second failed measurement fails the analysis
ARGO_DIR = "argo-rollouts"
FLAGGER_DIR = "flagger"


@dataclass(frozen=True)
class CanaryQuery:
    slo: m.SLO
    expr: str  # with the placeholder of the controller
    threshold: Decimal


def skip_reason(slo: m.SLO) -> str | None:
    """Why an SLO gets no canary metric: only SLIs of selectors can be split per version."""
    if isinstance(slo.sli, m.RatioSLI | m.LatencySLI):
        return None
    kind = {m.RawSLI: "a raw SLI", m.ExprRatioSLI: "events written as expressions", m.ProbeSLI: "a probe"}
    return (
        f"{kind[type(slo.sli)]} cannot be read per version (slogen adds the canary's matcher only to selectors); "
        "`slogen gate` still checks it after the rollout"
    )


def _with(selector: Selector | None, matcher: Matcher) -> Selector | None:
    return None if selector is None else Selector(selector.metric, (*selector.matchers, matcher))


def canary_query(slo: m.SLO, canary: m.Canary, value: str, window: str) -> CanaryQuery:
    """The SLO's burn rate over `window` (a duration or a controller's placeholder) on the
    series whose canary label is `value`, summed over every label value of a grouped SLO."""
    matcher = Matcher(canary.label, "=", value)
    sli = slo.sli
    if isinstance(sli, m.RatioSLI):
        split: m.RatioSLI | m.LatencySLI = m.RatioSLI(
            _with(sli.bad, matcher), _with(sli.good, matcher), _with(sli.total, matcher)
        )
    else:
        assert isinstance(sli, m.LatencySLI)
        split = m.LatencySLI(
            Selector(sli.histogram.metric, (*sli.histogram.matchers, matcher)), sli.buckets, sli.threshold
        )
    bad, total = q.events(split, INTERVAL_MS)
    # Both sides parenthesised: `bad` of a latency or good/total SLI is a difference
    # (total - good), which `/` would otherwise bind first.
    expr = f"(\n  ({bad})\n/\n  ({total})\n) / {fmt(slo.budget)}"
    expr = expr.replace(f"[{format_duration(INTERVAL_MS)}]", f"[{window}]")
    threshold = canary.max_burn_rate if canary.max_burn_rate is not None else default_threshold(slo)
    return CanaryQuery(slo, expr, threshold)


def argo_conditions(threshold: Decimal) -> tuple[str, str]:
    """(successCondition, failureCondition): an empty result or NaN meets neither."""
    limit = fmt(threshold)
    return f"len(result) > 0 && result[0] <= {limit}", f"len(result) > 0 && result[0] > {limit}"


def analysis_template(service: m.Service, url: str) -> dict[str, Any]:
    assert service.canary is not None
    metrics = []
    for slo in service.slos:
        if skip_reason(slo):
            continue
        query = canary_query(slo, service.canary, ARGO_VALUE, format_duration(INTERVAL_MS))
        success, failure = argo_conditions(query.threshold)
        metrics.append(
            {
                "name": slo.id,
                "interval": format_duration(INTERVAL_MS),
                "count": ARGO_COUNT,
                "failureLimit": ARGO_FAILURE_LIMIT,
                "successCondition": success,
                "failureCondition": failure,
                "provider": {"prometheus": {"address": url, "query": query.expr}},
            }
        )
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": f"{service.name}-slos", "labels": {"app.kubernetes.io/managed-by": "slogen"}},
        "spec": {"args": [{"name": ARGO_ARG}], "metrics": metrics},
    }


def metric_template(service: m.Service, slo: m.SLO, settings: m.Settings) -> dict[str, Any]:
    assert service.canary is not None
    query = canary_query(slo, service.canary, FLAGGER_VALUE, "{{ interval }}")
    return {
        "apiVersion": "flagger.app/v1beta1",
        "kind": "MetricTemplate",
        "metadata": {"name": f"{service.name}-{slo.id}", "namespace": settings.flagger_namespace},
        "spec": {"provider": {"type": "prometheus", "address": settings.flagger_url}, "query": query.expr},
    }


def flagger_analysis(service: m.Service, settings: m.Settings) -> dict[str, Any]:
    """The Canary's `analysis.metrics`, one per SLO, to paste under its `analysis:`."""
    assert service.canary is not None
    metrics = []
    for slo in service.slos:
        if skip_reason(slo):
            continue
        query = canary_query(slo, service.canary, FLAGGER_VALUE, "{{ interval }}")
        metrics.append(
            {
                "name": slo.id,
                "templateRef": {"name": f"{service.name}-{slo.id}", "namespace": settings.flagger_namespace},
                "thresholdRange": {"max": _number(query.threshold)},
                "interval": format_duration(INTERVAL_MS),
            }
        )
    return {"metrics": metrics}


def _number(value: Decimal) -> int | float:
    # 6, not 6.0: as a person writes a threshold (YAML reads both as the same number)
    return int(value) if value == value.to_integral_value() else float(value)


def build_canary_files(model: m.Model) -> dict[str, dict[str, Any]]:
    """{path under out/: {"source", "data"}} for the argo-rollouts and flagger targets."""
    settings = model.settings
    files: dict[str, dict[str, Any]] = {}
    for service in model.services:
        if service.canary is None or all(skip_reason(slo) for slo in service.slos):
            continue
        source = service.canary.source.spec_path
        if "argo-rollouts" in settings.targets:
            data = analysis_template(service, settings.argo_rollouts_url)
            files[f"{ARGO_DIR}/{service.name}.yaml"] = {"source": source, "data": data}
        if "flagger" in settings.targets:
            for slo in service.slos:
                if not skip_reason(slo):
                    data = metric_template(service, slo, settings)
                    files[f"{FLAGGER_DIR}/{service.name}/{slo.id}.yaml"] = {"source": source, "data": data}
            data = flagger_analysis(service, settings)
            files[f"{FLAGGER_DIR}/{service.name}/analysis.yaml"] = {"source": source, "data": data}
    return files


def explain_canary(model: m.Model, service: m.Service, item: m.SLO | m.ThresholdAlert) -> str:
    """`slogen explain`'s lines on an SLO's canary analysis ("" without a delivery target)."""
    targets = [t for t in model.settings.targets if t in ("argo-rollouts", "flagger")]
    if not targets or not isinstance(item, m.SLO):
        return ""
    head = "\n\n  canary analysis"
    if service.canary is None:
        return f"{head}: none (the service has no `canary:`, so {' and '.join(targets)} write nothing for it)"
    reason = skip_reason(item)
    if reason:
        return f"{head}: not generated for this SLO: {reason}"
    canary = service.canary
    threshold = canary.max_burn_rate if canary.max_burn_rate is not None else default_threshold(item)
    why = "canary.max_burn_rate" if canary.max_burn_rate is not None else "the lowest page factor"
    lines = [
        f"{head} (series with the canary's value of {canary.label}):",
        f"    the canary's burn rate over each {format_duration(INTERVAL_MS)}; passes at or under "
        f"{fmt(threshold)}x ({why}), fails above",
    ]
    if "argo-rollouts" in targets:
        lines.append(
            f"    out/{ARGO_DIR}/{service.name}.yaml metric {item.id}: {ARGO_COUNT} measurements, fails after "
            f"{ARGO_FAILURE_LIMIT + 1} failed; no traffic is Inconclusive (the rollout pauses)"
        )
    if "flagger" in targets:
        lines.append(
            f"    out/{FLAGGER_DIR}/{service.name}/{item.id}.yaml (MetricTemplate) and analysis.yaml: "
            "no traffic is a failed check"
        )
    return "\n".join(lines)
