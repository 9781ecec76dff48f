"""`slogen validate` on out/prometheus-operator, without node or a cluster: promtool on the
groups inside each PrometheusRule, and in Python what the API server and the operator
would refuse or read otherwise (kinds, names, labels, sizes, the Secret's config being
out/alertmanager's, the kustomization listing every manifest). The manifests are checked
against the CRDs' published schemas in the tests (tests/k8s)."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any

import yaml

from . import conventions as c
from . import tools
from .spec_targets import dns_label, k8s_label_problem
from .target_operator import CONFIG_DIR, CONFIG_KEY, KUSTOMIZATION, MAX_DATA_BYTES, SECRET_FILE, TARGET

Sources = dict[str, str]
_KINDS = {"rules": ("monitoring.coreos.com/v1", "PrometheusRule"), "dashboards": ("v1", "ConfigMap")}


def operator_stages(root: Path, sources: Sources, failure: Any) -> list[Any]:
    """The two stages, as check.Stage objects (`failure` is check._failure)."""
    from .check import Stage  # check.py calls us: import its Stage lazily

    rules = sorted(p.relative_to(root).as_posix() for p in (root / TARGET / "rules").glob("*.yaml"))
    manifests = sorted(p.relative_to(root).as_posix() for p in (root / TARGET).rglob("*.yaml"))
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="slogen-operator-") as tmp:
        for rel in rules:
            data = yaml.safe_load((root / rel).read_text(encoding="utf-8"))
            groups = data.get("spec", {}).get("groups") if isinstance(data, dict) else None
            if not isinstance(groups, list):
                failures.append(failure(sources, rel, "a PrometheusRule must hold spec.groups, a list of rule groups"))
                continue
            (Path(tmp) / rel).parent.mkdir(parents=True, exist_ok=True)
            (Path(tmp) / rel).write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
        checked = [rel for rel in rules if (Path(tmp) / rel).is_file()]
        found = tools.failing_files("promtool", ["check", "rules"], checked, Path(tmp))
        failures += [failure(sources, rel, output) for rel, output in found.items()]
    promtool = Stage("promtool check rules (prometheus-operator)", len(rules), "files", failures)
    shapes = [failure(sources, rel, why) for rel in manifests if (why := manifest_problem(root, rel))]
    return [promtool, Stage("prometheus-operator manifests", len(manifests), "files", shapes)]


def manifest_problem(root: Path, rel: str) -> str:
    """What the API server or the operator would refuse in one manifest, or ""."""
    data = yaml.safe_load((root / rel).read_text(encoding="utf-8"))
    if rel == KUSTOMIZATION:
        return _kustomization_problem(root, data)
    if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
        return "a manifest must be a mapping with metadata"
    kind = _KINDS.get(rel.split("/")[1], ("v1", "Secret"))
    if (data.get("apiVersion"), data.get("kind")) != kind:
        return f"must be apiVersion {kind[0]}, kind {kind[1]}"
    why = _metadata_problem(data["metadata"])
    if why or kind[1] == "PrometheusRule":
        return why
    body = data.get("data")
    if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
        return "its data must map keys to text"
    if kind[1] == "Secret":
        try:  # a Secret's data is base64; Kubernetes' limit is on the decoded bytes
            body = {k: base64.b64decode(v, validate=True).decode("utf-8") for k, v in body.items()}
        except ValueError:
            return "its data must be base64 of UTF-8 text"
    size = sum(len(str(k).encode()) + len(v.encode()) for k, v in body.items())
    if size > MAX_DATA_BYTES:
        return f"its data holds {size} bytes, over the {MAX_DATA_BYTES} Kubernetes allows"
    return _secret_problem(root, body) if kind[1] == "Secret" else ""


def _metadata_problem(meta: dict[str, Any]) -> str:
    name, namespace = str(meta.get("name", "")), str(meta.get("namespace", ""))
    if not (len(name) <= 253 and all(dns_label(part) for part in name.split("."))):
        return f"metadata.name {name!r} is not a DNS-1123 subdomain"
    if not dns_label(namespace):
        return f"metadata.namespace {namespace!r} is not a DNS-1123 label"
    for field in ("labels", "annotations"):
        for key, value in (meta.get(field) or {}).items():
            why = k8s_label_problem(str(key), str(value) if field == "labels" else "")
            if why:
                return f"metadata.{field}: {why}"
    return ""


def _secret_problem(root: Path, body: dict[str, str]) -> str:
    """The Secret's config (decoded) is out/alertmanager's but for the templates' folder
    (amtool checked that one), and its templates are out/alertmanager's templates."""
    config = yaml.safe_load(body.get(CONFIG_KEY, "")) or {}
    ours = yaml.safe_load((root / c.ALERTMANAGER_CONFIG).read_text(encoding="utf-8"))
    if config.get("templates") != [f"{CONFIG_DIR}/*.tmpl"]:
        return f"{CONFIG_KEY}: templates must read {CONFIG_DIR}/*.tmpl, where the operator mounts the Secret"
    if {**config, "templates": ours.get("templates")} != ours:
        return f"{CONFIG_KEY} differs from out/{c.ALERTMANAGER_CONFIG}"
    folder = (root / c.ALERTMANAGER_TEMPLATE).parent
    templates = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.tmpl")}
    if {k: v for k, v in body.items() if k != CONFIG_KEY} != templates:
        return f"its template keys differ from out/{folder.relative_to(root).as_posix()}"
    return ""


def _kustomization_problem(root: Path, data: Any) -> str:
    if not isinstance(data, dict) or data.get("kind") != "Kustomization":
        return "must be a Kustomization"
    present = sorted(p.relative_to(root / TARGET).as_posix() for p in (root / TARGET).rglob("*.yaml"))
    wanted = [rel for rel in present if rel != Path(KUSTOMIZATION).name]
    if data.get("resources") != wanted:
        return f"resources must list every manifest: {', '.join(wanted)}"
    if SECRET_FILE.split("/", 1)[1] in wanted and not (root / c.ALERTMANAGER_CONFIG).is_file():
        return "lists a Secret without out/alertmanager"
    return ""
