"""Spec v1: canary analysis for progressive delivery (issue 13, item 2). A service's
`canary:` and the settings of the `argo-rollouts` and `flagger` targets in slo/slogen.yaml."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from .spec import LabelName, Strict


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError(f"a burn rate is a positive multiple of the budget, such as 2 or 14.4, got {value}")
    return value


def _prometheus_url(value: str) -> str:
    # written into the manifests as the Prometheus provider's address
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?", value):
        raise ValueError(
            f"must be an http(s) URL such as http://prometheus-operated.monitoring.svc:9090, got {value!r}"
        )
    return value.rstrip("/")


PrometheusUrl = Annotated[str, Field(max_length=256), AfterValidator(_prometheus_url)]
# A Kubernetes namespace: a DNS-1123 label.
Namespace = Annotated[str, Field(max_length=63, pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")]


class Canary(Strict):
    """Canary analysis of this service's SLOs, for Argo Rollouts and Flagger."""

    label: LabelName
    """The label whose value tells the canary's series from the stable version's, such as
    `rollouts-pod-template-hash` (Argo Rollouts' pod label, when Prometheus keeps it) or
    `version`: the generated queries read only the series whose label has the canary's value."""
    max_burn_rate: Annotated[float, AfterValidator(_positive)] | None = None
    """The canary fails above this burn rate over the analysis interval; unset: the lowest
    factor of each SLO's page tiers (as `slogen gate`)."""


class ArgoRolloutsSettings(Strict):
    """Settings of the argo-rollouts target: one AnalysisTemplate per service with `canary:`."""

    prometheus_url: PrometheusUrl
    """The address the Prometheus provider of every AnalysisTemplate queries, as the Argo
    Rollouts controller reaches it."""


class FlaggerSettings(Strict):
    """Settings of the flagger target: one MetricTemplate per SLO of a service with `canary:`."""

    prometheus_url: PrometheusUrl
    """The address of every MetricTemplate's Prometheus provider, as Flagger reaches it."""
    namespace: Namespace = "flagger-system"
    """The namespace of the MetricTemplates (a Canary's templateRef names it)."""
