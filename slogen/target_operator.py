"""The prometheus-operator target (issue 12, item 1): out/ again as Kubernetes manifests
under out/prometheus-operator/, all in the settings' namespace:

- rules/<service>.yaml: a monitoring.coreos.com/v1 PrometheusRule per service; spec.groups
  are the service's groups of out/prometheus, equal in content (their promtool tests prove
  them here too), metadata.labels the ones the Prometheus' ruleSelector matches.
- dashboards/<name>.yaml: a ConfigMap per dashboard of out/grafana with the labels the
  Grafana sidecar watches; key <name>.json is the dashboard.
- alertmanager-secret.yaml: the Secret alertmanager-<name> the operator reads (key
  alertmanager.yaml), the notification templates as further keys (base64, as `data`). The operator mounts
  every key of it in /etc/alertmanager/config (prometheus-operator's
  pkg/alertmanager/statefulset.go, alertmanagerConfDir), so the config's templates read
  from there.
- kustomization.yaml: every manifest, for `kubectl apply --server-side -k`.

Kubernetes refuses a ConfigMap or Secret whose data (keys and values) is over 1 MiB
(k8s.io/kubernetes pkg/apis/core/validation, MaxSecretSize): such a manifest is a problem
told at the spec line it comes from, before anything is written.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

import orjson

from . import conventions as c
from . import model as m
from .builders import alertmanager as am
from .dump import to_yaml
from .errors import Problem, SpecError
from .targets import service_groups

TARGET = "prometheus-operator"
RULES_DIR = f"{TARGET}/rules"
DASHBOARDS_DIR = f"{TARGET}/dashboards"
SECRET_FILE = f"{TARGET}/alertmanager-secret.yaml"
KUSTOMIZATION = f"{TARGET}/kustomization.yaml"
CONFIG_KEY = "alertmanager.yaml"
CONFIG_DIR = "/etc/alertmanager/config"
MAX_DATA_BYTES = 1024 * 1024
MANAGED_BY = ("app.kubernetes.io/managed-by", "slogen")
FOLDER_ANNOTATION = "grafana_folder"  # kube-prometheus-stack's sidecar.dashboards.folderAnnotation


def k8s_name(text: str) -> str:
    """A DNS-1123 subdomain from a service name or dashboard uid ('_' is not allowed there)."""
    return re.sub(r"[^a-z0-9.-]", "-", text.lower()).strip("-.")


def rule_file(service: str) -> str:
    return f"{RULES_DIR}/{service}.yaml"


def rule_name(service: str) -> str:
    return k8s_name(f"slo-{service}")


def dashboard_name(service: str) -> str:
    return k8s_name(c.dashboard_uid(service))


class OperatorFiles:
    """The manifests (path under out/ -> bytes), built as generate streams the tree: a
    service's PrometheusRule and dashboard ConfigMap with the service's files, the overview,
    the Secret and the kustomization once every service is done. Problems (a name two
    services share, an object over 1 MiB) are collected; `problems` is read at the end."""

    def __init__(self, model: m.Model) -> None:
        target = model.settings.operator
        assert target is not None
        self.model, self.target = model, target
        self.problems: list[Problem] = []
        self.names: dict[str, str] = {}
        self.written: list[str] = []

    def service(
        self, service: m.Service, rule_files: dict[str, dict[str, Any]], dashboard: bytes
    ) -> Iterator[tuple[str, bytes]]:
        taken = self.names.setdefault(rule_name(service.name), service.name)
        if taken != service.name:
            # Kubernetes names have no '_': both services would write the same objects.
            message = f"{TARGET} names its manifests {rule_name(service.name)}, as it does {taken}'s: rename one"
            self.problems.append(Problem(service.source.file, service.source.line, "service", message))
            return
        rule = _prometheus_rule(service, self.target, service_groups(service, rule_files))
        yield self._file(rule_file(service.name), to_yaml(rule, c.HEADER.format(source=service.source.spec_path)))
        where = (service.source.file, service.source.line, "service")
        yield self._file(*_dashboard(self.model, self.target, c.dashboard_file(service.name), dashboard, where, service.source.spec_path, self.problems))

    def shared(self, overview: bytes | None, template: bytes) -> Iterator[tuple[str, bytes]]:
        if overview is not None:
            where = (self.target.file, self.target.line, "targets")
            yield self._file(*_dashboard(self.model, self.target, c.dashboard_file(c.OVERVIEW_NAME), overview, where, "slogen", self.problems))
        if self.model.routing is not None:
            secret, sizes = _secret(self.model, self.target, template)
            _check_size(sizes, f"the Secret alertmanager-{self.target.alertmanager}", _routing_where(self.model), self.problems)
            yield self._file(SECRET_FILE, to_yaml(secret, c.HEADER.format(source=self.model.routing.source.spec_path)))
        if self.problems:
            raise SpecError(sorted(self.problems))
        yield KUSTOMIZATION, to_yaml(_kustomization(sorted(self.written)), c.HEADER.format(source="slogen"))

    def _file(self, rel: str, data: bytes) -> tuple[str, bytes]:
        self.written.append(rel)
        return rel, data


def _metadata(name: str, target: m.OperatorTarget, labels: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": target.namespace,
        # the settings' labels win over ours: they are what selectors match
        "labels": dict(sorted({MANAGED_BY[0]: MANAGED_BY[1], **dict(labels)}.items())),
    }


def _prometheus_rule(service: m.Service, target: m.OperatorTarget, groups: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": _metadata(rule_name(service.name), target, target.rule_labels),
        "spec": {"groups": groups},
    }


def _dashboard(
    model: m.Model,
    target: m.OperatorTarget,
    rel: str,
    data: bytes,
    where: tuple[str, int, str],
    source: str,
    problems: list[Problem],
) -> tuple[str, bytes]:
    """A dashboard's ConfigMap, the sidecar's labels on it."""
    name = k8s_name(str(orjson.loads(data)["uid"]))
    # The dashboard's JSON without its last newline: YAML keeps it as a literal block.
    body = {f"{name}.json": data.decode("utf-8").rstrip("\n")}
    _check_size(body, f"the dashboard {rel}", where, problems)
    metadata = _metadata(name, target, target.dashboard_labels)
    metadata["annotations"] = {FOLDER_ANNOTATION: model.settings.grafana_folder}
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": body}
    return f"{DASHBOARDS_DIR}/{name}.yaml", to_yaml(configmap, c.HEADER.format(source=source))


def _secret(model: m.Model, target: m.OperatorTarget, template: bytes) -> tuple[dict[str, Any], dict[str, int]]:
    """The Secret, and the size of each of its files (Kubernetes' limit is on those)."""
    assert model.routing is not None
    config = am.build_alertmanager_config(model.routing, am.inhibit_by(model))
    # The operator mounts every key of the Secret in one folder, the templates included.
    config["templates"] = [f"{CONFIG_DIR}/*.tmpl"]
    files = {CONFIG_KEY: to_yaml(config, c.HEADER.format(source=model.routing.source.spec_path))}
    files[PurePosixPath(c.ALERTMANAGER_TEMPLATE).name] = template
    # `data`, not `stringData`: server-side apply owns stringData's keys, not the data keys
    # the API server turns them into, so a key dropped later would stay in the Secret
    # (kubernetes/kubernetes#108008; Kubernetes docs, "Secrets", stringData).
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _metadata(f"alertmanager-{target.alertmanager}", target, ()),
        "type": "Opaque",
        "data": {key: base64.b64encode(value).decode("ascii") for key, value in files.items()},
    }
    return secret, {key: len(value) for key, value in files.items()}


def _routing_where(model: m.Model) -> tuple[str, int, str]:
    assert model.routing is not None
    return (model.routing.source.file, model.routing.source.line, "routing")


def _check_size(data: dict[str, Any], what: str, where: tuple[str, int, str], problems: list[Problem]) -> None:
    """data: key -> text, or key -> size in bytes (a Secret's, before base64)."""
    size = sum(len(k.encode()) + (v if isinstance(v, int) else len(v.encode())) for k, v in data.items())
    if size > MAX_DATA_BYTES:
        problems.append(
            Problem(
                *where,
                f"{TARGET}: {what} holds {size} bytes, over the 1 MiB ({MAX_DATA_BYTES} bytes) "
                "Kubernetes allows in a ConfigMap or Secret: split the service or drop the target",
            )
        )


def _kustomization(files: list[str]) -> dict[str, Any]:
    resources = [PurePosixPath(rel).relative_to(TARGET).as_posix() for rel in files]
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}


def operator_sources(model: m.Model) -> dict[str, str]:
    """Each manifest -> `file:line: what` in the spec, for validate's failures."""
    target = model.settings.operator
    assert target is not None
    out: dict[str, str] = {}
    for service in model.services:
        where = f"{service.source.file}:{service.source.line}: {service.name}"
        out[rule_file(service.name)] = where
        out[f"{DASHBOARDS_DIR}/{dashboard_name(service.name)}.yaml"] = where
    if model.routing is not None:
        out[SECRET_FILE] = f"{model.routing.source.file}:{model.routing.source.line}: the routing"
    out[KUSTOMIZATION] = f"{target.file}:{target.line}: targets"
    return out


def explain_operator(settings: m.Settings, service: str) -> str:
    """`slogen explain`'s line on the service's manifests (a line under 'also written for')."""
    target = settings.operator
    assert target is not None
    labels = ", ".join(f"{k}={v}" for k, v in target.rule_labels) or "none"
    dash = ", ".join(f"{k}={v}" for k, v in target.dashboard_labels) or "none"
    return (
        f"    out/{rule_file(service)}: PrometheusRule {rule_name(service)} in namespace {target.namespace},"
        f" labels for the ruleSelector: {labels}\n"
        f"    out/{DASHBOARDS_DIR}/{dashboard_name(service)}.yaml: the dashboard's ConfigMap,"
        f" labels for the Grafana sidecar: {dash}"
    )
