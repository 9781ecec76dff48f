"""The prometheus-operator target (issue 12, item 1): PrometheusRules, dashboards'
ConfigMaps, the Alertmanager Secret and a kustomization under out/prometheus-operator,
checked against the CRDs' published schemas (tests/k8s), by promtool, and in Python."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from slogen import api
from slogen.builders.explain import explain
from slogen.check import _failure
from slogen.check_operator import manifest_problem, operator_stages
from slogen.errors import SpecError

from .conftest import REPO
from .golden import CASES, build

CASE = CASES / "operator"
OUT = "prometheus-operator"
K8S = Path(__file__).parent / "k8s"


@pytest.fixture(scope="module")
def tree() -> dict[str, bytes]:
    return build(CASE)


def _yaml(tree: dict[str, bytes], rel: str) -> Any:
    return yaml.safe_load(tree[rel])


def test_the_manifests_and_nothing_else_change(tree: dict[str, bytes]) -> None:
    assert sorted(rel for rel in tree if rel.startswith(f"{OUT}/")) == [
        f"{OUT}/alertmanager-secret.yaml",
        f"{OUT}/dashboards/slo-batch-jobs.yaml",
        f"{OUT}/dashboards/slo-ingress.yaml",
        f"{OUT}/dashboards/slogen-overview.yaml",
        f"{OUT}/kustomization.yaml",
        f"{OUT}/rules/batch_jobs.yaml",
        f"{OUT}/rules/ingress.yaml",
    ]
    # the rest of the tree is what the same spec writes without the target
    owned = tree[".slogen-manifest"].decode()
    assert f"{OUT}/rules/ingress.yaml" in owned, "generate owns (and later removes) the manifests"
    for case in ("plan", "routing", "variety", "targets"):
        assert not [rel for rel in build(CASES / case) if rel.startswith(f"{OUT}/")]


def test_prometheus_rule_per_service_holds_the_prometheus_groups(tree: dict[str, bytes]) -> None:
    for service, name in (("ingress", "slo-ingress"), ("batch_jobs", "slo-batch-jobs")):
        rule = _yaml(tree, f"{OUT}/rules/{service}.yaml")
        assert rule["apiVersion"] == "monitoring.coreos.com/v1" and rule["kind"] == "PrometheusRule"
        assert rule["metadata"] == {
            "name": name,
            "namespace": "platform-monitoring",
            "labels": {
                "app.kubernetes.io/managed-by": "slogen",
                "app.kubernetes.io/part-of": "platform-slos",
                "release": "kube-prometheus-stack",
            },
        }
        files = sorted(rel for rel in tree if rel.startswith(f"prometheus/rules/{service}."))
        groups = [g for rel in files for g in _yaml(tree, rel)["groups"]]
        assert sorted(rule["spec"]["groups"], key=lambda g: g["name"]) == sorted(groups, key=lambda g: g["name"])


def test_dashboards_are_configmaps_for_the_sidecar(tree: dict[str, bytes]) -> None:
    for board, name in (("ingress", "slo-ingress"), ("batch_jobs", "slo-batch-jobs"), ("overview", "slogen-overview")):
        cm = _yaml(tree, f"{OUT}/dashboards/{name}.yaml")
        assert cm["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "slogen", "grafana_dashboard": "1"}
        assert cm["metadata"]["annotations"] == {"grafana_folder": "Platform SLOs"}
        assert cm["metadata"]["namespace"] == "platform-monitoring"
        assert list(cm["data"]) == [f"{name}.json"]
        assert cm["data"][f"{name}.json"] + "\n" == tree[f"grafana/{board}.json"].decode()


def _secret_files(secret: dict[str, Any]) -> dict[str, str]:
    return {key: base64.b64decode(value, validate=True).decode() for key, value in secret["data"].items()}


def test_the_alertmanager_secret_is_the_routing_with_templates_where_the_operator_mounts_them(
    tree: dict[str, bytes],
) -> None:
    secret = _yaml(tree, f"{OUT}/alertmanager-secret.yaml")
    assert secret["metadata"]["name"] == "alertmanager-platform"
    assert "stringData" not in secret, "server-side apply would keep a dropped stringData key"
    files = _secret_files(secret)
    assert sorted(files) == ["alertmanager.yaml", "slogen.tmpl"]
    config = yaml.safe_load(files["alertmanager.yaml"])
    ours = _yaml(tree, "alertmanager/alertmanager.yml")
    assert config["templates"] == ["/etc/alertmanager/config/*.tmpl"]
    assert {**config, "templates": ["templates/*.tmpl"]} == ours
    assert files["slogen.tmpl"] == tree["alertmanager/templates/slogen.tmpl"].decode()
    # secret files stay paths: the Alertmanager resource mounts them (spec.secrets)
    assert "routing_key_file: /etc/alertmanager/secrets/platform-pagerduty/routing-key" in files["alertmanager.yaml"]


def test_kustomization_lists_every_manifest(tree: dict[str, bytes]) -> None:
    kustomization = _yaml(tree, f"{OUT}/kustomization.yaml")
    listed = [f"{OUT}/{rel}" for rel in kustomization["resources"]]
    assert listed == sorted(rel for rel in tree if rel.startswith(f"{OUT}/") and not rel.endswith("kustomization.yaml"))


def test_without_routing_no_secret(tmp_path: Path) -> None:
    shutil.copytree(CASE / "slo", tmp_path / "slo")
    (tmp_path / "slo" / "alerting.yaml").unlink()
    tree = api.build_tree(api.load_model(api.Options(spec_dir=tmp_path / "slo")), None)
    assert f"{OUT}/alertmanager-secret.yaml" not in tree
    assert "alertmanager-secret.yaml" not in tree[f"{OUT}/kustomization.yaml"].decode()


def test_defaults_without_settings(tmp_path: Path) -> None:
    shutil.copytree(CASE / "slo", tmp_path / "slo")
    (tmp_path / "slo" / "slogen.yaml").write_text("version: 1\ntargets: [prometheus, prometheus-operator]\n")
    tree = api.build_tree(api.load_model(api.Options(spec_dir=tmp_path / "slo")), None)
    rule = _yaml(tree, f"{OUT}/rules/ingress.yaml")
    assert rule["metadata"]["namespace"] == "monitoring"
    assert rule["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "slogen"}
    assert _yaml(tree, f"{OUT}/dashboards/slo-ingress.yaml")["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert _yaml(tree, f"{OUT}/alertmanager-secret.yaml")["metadata"]["name"] == "alertmanager-main"


def _many_alerts(count: int) -> str:
    # Threshold alerts: a service dashboard has a panel for each (its SLOs are bounded to
    # one repeated row past 20, builders/dashboard_scale.py).
    alerts = "".join(f'  a{i}:\n    gauge: queue_depth{{queue="q{i}"}}\n    warning: {{above: 10}}\n' for i in range(count))
    return f"version: 1\nservice: big\nalerts:\n{alerts}"


def test_a_dashboard_over_one_mebibyte_is_a_problem_at_its_service(tmp_path: Path) -> None:
    spec = tmp_path / "slo"
    spec.mkdir()
    (spec / "slogen.yaml").write_text("version: 1\ntargets: [prometheus, prometheus-operator]\n")
    sizes = []
    for count in (2, 3):
        (spec / "big.yaml").write_text(_many_alerts(count))
        sizes.append(len(api.build_tree(api.load_model(api.Options(spec_dir=spec)), None)["grafana/big.json"]))
    (spec / "big.yaml").write_text(_many_alerts(1024 * 1024 // (sizes[1] - sizes[0]) + 5))
    with pytest.raises(SpecError) as err:
        api.build_tree(api.load_model(api.Options(spec_dir=spec)), None)
    (problem,) = [p for p in err.value.problems if p.path == "service"]
    assert problem.line == 2
    assert "prometheus-operator: the dashboard grafana/big.json holds" in problem.message
    assert "over the 1 MiB (1048576 bytes)" in problem.message


def test_explain_says_where_the_service_manifests_go() -> None:
    model = api.load_model(api.Options(spec_dir=CASE / "slo"))
    assert explain(model, "batch_jobs/completions").endswith(
        "\n\n  also written for (targets in slogen.yaml):\n"
        "    out/prometheus-operator/rules/batch_jobs.yaml: PrometheusRule slo-batch-jobs in namespace"
        " platform-monitoring, labels for the ruleSelector: app.kubernetes.io/part-of=platform-slos,"
        " release=kube-prometheus-stack\n"
        "    out/prometheus-operator/dashboards/slo-batch-jobs.yaml: the dashboard's ConfigMap, labels for the"
        " Grafana sidecar: grafana_dashboard=1"
    )


# --- validate's checks (no node) --------------------------------------------------------


def _write(tree: dict[str, bytes], root: Path) -> Path:
    for rel, data in tree.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_validate_passes_on_the_golden_case(tree: dict[str, bytes], tmp_path: Path) -> None:
    promtool, manifests = operator_stages(_write(tree, tmp_path), {}, _failure)
    assert (promtool.ok, promtool.count, manifests.ok, manifests.count) == (True, 2, True, 7), (
        promtool.failures + manifests.failures
    )


def test_promtool_catches_a_broken_rule_inside_a_prometheus_rule(tree: dict[str, bytes], tmp_path: Path) -> None:
    root = _write(tree, tmp_path)
    path = root / OUT / "rules/ingress.yaml"
    path.write_text(path.read_text().replace("expr: sum(rate(", "expr: sum(rate((", 1))
    promtool, _ = operator_stages(root, {f"{OUT}/rules/ingress.yaml": "slo/ingress.yaml:3: ingress"}, _failure)
    assert len(promtool.failures) == 1
    assert promtool.failures[0].startswith(
        "slo/ingress.yaml:3: ingress: out/prometheus-operator/rules/ingress.yaml: failed"
    )


@pytest.mark.parametrize(
    ("rel", "old", "new", "problem"),
    [
        (
            "rules/ingress.yaml",
            "namespace: platform-monitoring",
            "namespace: Platform",
            "metadata.namespace 'Platform'",
        ),
        ("rules/ingress.yaml", "kind: PrometheusRule", "kind: PrometheusRules", "must be apiVersion monitoring"),
        ("dashboards/slo-ingress.yaml", "name: slo-ingress", "name: slo_ingress", "metadata.name 'slo_ingress'"),
        ("dashboards/slo-ingress.yaml", "grafana_dashboard: '1'", "grafana_dashboard: '1 '", "label value"),
        ("alertmanager-secret.yaml", "/etc/alertmanager/config/*.tmpl", "templates/*.tmpl", "templates must read"),
        ("alertmanager-secret.yaml", "resolve_timeout: 5m", "resolve_timeout: 6m", "differs from out/alertmanager"),
        ("alertmanager-secret.yaml", "{{ define", "{{ defin", "template keys differ from out/alertmanager"),
        ("alertmanager-secret.yaml", "data:\n  alertmanager.yaml: ", "data:\n  alertmanager.yaml: _", "base64"),
        ("kustomization.yaml", "- rules/ingress.yaml\n", "", "resources must list every manifest"),
    ],
)
def test_validate_catches_a_broken_manifest(
    tree: dict[str, bytes], tmp_path: Path, rel: str, old: str, new: str, problem: str
) -> None:
    root = _write(tree, tmp_path)
    path = root / OUT / rel
    if rel == "alertmanager-secret.yaml" and not old.startswith("data:"):
        # an edit of a file inside the Secret: decode its data, edit, encode again
        secret = yaml.safe_load(path.read_text())
        files = _secret_files(secret)
        assert any(old in text for text in files.values())
        edited = {key: text.replace(old, new, 1) for key, text in files.items()}
        secret["data"] = {key: base64.b64encode(text.encode()).decode() for key, text in edited.items()}
        path.write_text(yaml.safe_dump(secret, sort_keys=False))
    else:
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new, 1))
    assert problem in manifest_problem(root, f"{OUT}/{rel}")
    _, manifests = operator_stages(root, {}, _failure)
    assert len(manifests.failures) == 1 and manifests.failures[0].startswith(f"out/{OUT}/{rel}: failed")


# --- the CRDs' and Kubernetes' published schemas (node, tests/k8s) -----------------------


def _schema_check(manifests: list[tuple[str, Any]]) -> subprocess.CompletedProcess[str]:
    if not (K8S / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=K8S, check=True, capture_output=True)
    return subprocess.run(
        ["node", str(K8S / "validate.mjs")], input=json.dumps(manifests), capture_output=True, text=True, timeout=120
    )


def _manifests(tree: dict[str, bytes]) -> list[tuple[str, Any]]:
    return [
        (rel, _yaml(tree, rel))
        for rel in sorted(tree)
        if rel.startswith(f"{OUT}/") and not rel.endswith("kustomization.yaml")
    ]


def test_every_manifest_passes_the_published_schema(tree: dict[str, bytes]) -> None:
    result = _schema_check(_manifests(tree))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "6 manifests, 0 problems"


def test_the_schema_check_catches_violations_and_unknown_fields(tree: dict[str, bytes]) -> None:
    rule = _yaml(tree, f"{OUT}/rules/ingress.yaml")
    rule["spec"]["groups"][0]["rules"][0]["exprr"] = rule["spec"]["groups"][0]["rules"][0].pop("expr")
    interval = _yaml(tree, f"{OUT}/rules/ingress.yaml")
    interval["spec"]["groups"][0]["interval"] = "five minutes"
    configmap = _yaml(tree, f"{OUT}/dashboards/slo-ingress.yaml")
    configmap["metadata"]["lables"] = configmap["metadata"].pop("labels")
    secret = _yaml(tree, f"{OUT}/alertmanager-secret.yaml")
    secret["data"]["alertmanager.yaml"] = "not base64!"
    result = _schema_check([("rule", rule), ("interval", interval), ("configmap", configmap), ("secret", secret)])
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("4 manifests, ")
    assert any(line.startswith("rule: spec.groups[0].rules[0].exprr: not a field of the schema") for line in lines)
    assert any(line.startswith("rule: ") and "expr" in line and "required" in line for line in lines), lines
    assert any(line.startswith("interval: ") and "pattern" in line for line in lines)
    assert any(line.startswith("configmap: metadata.lables: not a field") for line in lines)
    assert any(line.startswith("secret: ") and "data/data/alertmanager.yaml" in line for line in lines), lines


def test_the_readme_operator_example_is_accepted(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    block = next(b for b in blocks if b.startswith("# slo/slogen.yaml of a team on Kubernetes"))
    shutil.copytree(CASE / "slo", tmp_path / "slo")
    (tmp_path / "slo" / "slogen.yaml").write_text(block)
    model = api.load_model(api.Options(spec_dir=tmp_path / "slo"))
    assert model.settings.operator is not None
    assert model.settings.operator.namespace == "monitoring"
    assert model.settings.operator.rule_labels == (("release", "kube-prometheus-stack"),)
    assert model.settings.operator.dashboard_labels == (("grafana_dashboard", "1"),)
    assert model.settings.operator.alertmanager == "main"
    assert model.settings.grafana_folder == "Platform SLOs"


def test_a_later_generate_without_the_target_removes_the_manifests(tmp_path: Path) -> None:
    shutil.copytree(CASE / "slo", tmp_path / "slo")
    options = api.Options(spec_dir=tmp_path / "slo", out_dir=tmp_path / "out", templates=None)
    api.generate(options)
    assert (tmp_path / "out" / OUT / "rules" / "ingress.yaml").is_file()
    (tmp_path / "slo" / "slogen.yaml").write_text("version: 1\ntargets: [prometheus]\n")
    api.generate(options)
    assert not (tmp_path / "out" / OUT).exists()
    assert (tmp_path / "out" / "prometheus" / "rules").is_dir()
