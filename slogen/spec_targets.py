"""Spec v1, `slo/slogen.yaml`: the output targets (issue 12, item 1) and their settings.

Every target is written from the same model: `prometheus` is today's tree, `mimir` and
`cortex` the ruler's namespace files (`mimirtool rules load` / `cortextool rules load`),
`thanos` Thanos Ruler rule files, `prometheus-operator` Kubernetes manifests
(target_operator.py)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from .spec import Strict, Unique

Target = Literal["prometheus", "mimir", "cortex", "thanos", "prometheus-operator", "argo-rollouts", "flagger"]


def _tenant(value: str) -> str:
    # Mimir's tenant ids: at most 150 of these characters, and not "." or ".."
    # (Grafana Mimir docs, "About tenant IDs"); `|` would join tenants, so it is refused too.
    if not re.fullmatch(r"[A-Za-z0-9!_.*'()-]{1,150}", value) or value in (".", ".."):
        raise ValueError(f"a tenant id is 1 to 150 letters, digits or !-_.*'() (and not . or ..), got {value!r}")
    return value


TenantId = Annotated[str, AfterValidator(_tenant)]


class RulerSettings(Strict):
    """Settings of a Mimir or Cortex ruler's rule groups."""

    source_tenants: Annotated[list[TenantId], Unique] = []
    """Tenants whose series every rule group reads (a federated rule group); empty: the
    tenant that loads the rules, as usual."""


class ThanosSettings(Strict):
    """Settings of Thanos Ruler's rule groups."""

    partial_response_strategy: Literal["warn", "abort"] | None = None
    """What a rule group does when a StoreAPI does not answer: `abort` the evaluation or
    `warn` and evaluate on the partial data; unset: Thanos Ruler's default (abort)."""


# Kubernetes' own syntax rules ("Object Names and IDs" and "Labels and Selectors", Syntax
# and character set, kubernetes.io/docs/concepts/overview/working-with-objects/):
# a DNS-1123 label is at most 63 lowercase letters, digits and '-', starting and ending
# with a letter or digit; a label key is an optional DNS-1123 subdomain prefix and '/',
# then a name of at most 63 letters, digits, '-', '_' or '.' that starts and ends with a
# letter or digit; a label value is empty or such a name.
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_K8S_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")


def dns_label(value: str, limit: int = 63) -> bool:
    return len(value) <= limit and bool(_DNS_LABEL.fullmatch(value))


def _namespace(value: str) -> str:
    if not dns_label(value):
        raise ValueError(
            f"a namespace is a DNS-1123 label: at most 63 lowercase letters, digits or '-', "
            f"starting and ending with a letter or digit, got {value!r}"
        )
    return value


def k8s_label_problem(key: str, value: str) -> str:
    """Why Kubernetes refuses this label (key and value), or ""."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and not (len(prefix) <= 253 and _DNS_SUBDOMAIN.fullmatch(prefix)):
        return f"a Kubernetes label key's prefix is a DNS-1123 subdomain (like example.com), got {key!r}"
    if not (len(name) <= 63 and _K8S_NAME.fullmatch(name)):
        return (
            "a Kubernetes label name is at most 63 letters, digits, '-', '_' or '.', "
            f"starting and ending with a letter or digit, got {key!r}"
        )
    if value and not (len(value) <= 63 and _K8S_NAME.fullmatch(value)):
        return (
            "a Kubernetes label value is empty or at most 63 letters, digits, '-', '_' or '.', "
            f"starting and ending with a letter or digit, got {value!r}"
        )
    return ""


def _label_key(value: str) -> str:
    why = k8s_label_problem(value, "")
    if why:
        raise ValueError(why)
    return value


def _label_value(value: str) -> str:
    why = k8s_label_problem("x", value)
    if why:
        raise ValueError(why)
    return value


def _alertmanager(value: str) -> str:
    # The operator names the Secret and the StatefulSet alertmanager-<name>; the pods'
    # names (alertmanager-<name>-0) are host names: keep alertmanager-<name> a DNS label.
    if not dns_label(value, 63 - len("alertmanager-")):
        raise ValueError(
            f"an Alertmanager's name is at most 50 lowercase letters, digits or '-', starting and "
            f"ending with a letter or digit (alertmanager-<name> is a DNS-1123 label), got {value!r}"
        )
    return value


K8sLabels = dict[Annotated[str, AfterValidator(_label_key)], Annotated[str, AfterValidator(_label_value)]]


class OperatorSettings(Strict):
    """Settings of the prometheus-operator target's manifests."""

    namespace: Annotated[str, AfterValidator(_namespace)] = "monitoring"
    """The namespace of every manifest (the PrometheusRules, the dashboards' ConfigMaps and
    the Alertmanager's Secret); a Prometheus reads PrometheusRules of the namespaces its
    ruleNamespaceSelector matches."""
    rule_labels: K8sLabels = {}
    """Labels on every PrometheusRule: the ones the Prometheus' ruleSelector matches (with
    kube-prometheus-stack, `release: <the Helm release>`); empty: no labels."""
    dashboard_labels: K8sLabels = {"grafana_dashboard": "1"}
    """Labels on every dashboard's ConfigMap: the ones Grafana's dashboard sidecar watches
    (kube-prometheus-stack's default: grafana_dashboard: "1")."""
    alertmanager: Annotated[str, AfterValidator(_alertmanager)] = "main"
    """The name of the Alertmanager resource: the routing goes into its Secret
    alertmanager-<name>, key alertmanager.yaml (written when slo/alerting.yaml exists)."""


TargetList = Annotated[list[Target], Unique, Field(min_length=1)]
