"""Output targets (issue 12, item 1): mimir, cortex and thanos files from the same model
as out/prometheus, checked by promtool with the ruler-only keys set aside."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from slogen import api
from slogen.builders.explain import explain
from slogen.check import ruler_rules_stage

from .conftest import REPO
from .golden import CASES, build

CASE = CASES / "targets"


@pytest.fixture(scope="module")
def tree() -> dict[str, bytes]:
    return build(CASE)


def _yaml(tree: dict[str, bytes], rel: str) -> dict:  # type: ignore[type-arg]
    data = yaml.safe_load(tree[rel])
    assert isinstance(data, dict)
    return data


def _prometheus_groups(tree: dict[str, bytes], service: str) -> list[dict]:  # type: ignore[type-arg]
    files = sorted(rel for rel in tree if rel.startswith(f"prometheus/rules/{service}."))
    # the targets keep the spec's order (SLOs, then alerts); compare as a set of groups by name
    return sorted((g for rel in files for g in _yaml(tree, rel)["groups"]), key=lambda g: g["name"])


def test_one_file_per_service_and_target(tree: dict[str, bytes]) -> None:
    targets = {rel for rel in tree if rel.split("/")[0] in ("mimir", "cortex", "thanos")}
    assert targets == {f"{t}/{s}.yaml" for t in ("mimir", "cortex", "thanos") for s in ("ingest", "query")}


@pytest.mark.parametrize("target", ["mimir", "cortex"])
def test_ruler_namespace_format(tree: dict[str, bytes], target: str) -> None:
    # mimirtool/cortextool `rules load` read `namespace:` then `groups:`, a namespace per service
    data = _yaml(tree, f"{target}/ingest.yaml")
    assert list(data) == ["namespace", "groups"]
    assert data["namespace"] == "ingest"
    tenants = [g.get("source_tenants") for g in data["groups"]]
    assert tenants == [["edge", "ingest"] if target == "mimir" else None] * len(tenants)


def test_thanos_partial_response_on_every_group(tree: dict[str, bytes]) -> None:
    data = _yaml(tree, "thanos/ingest.yaml")
    assert list(data) == ["groups"]
    assert {g["partial_response_strategy"] for g in data["groups"]} == {"warn"}
    assert all("source_tenants" not in g for g in data["groups"])


@pytest.mark.parametrize("target", ["mimir", "cortex", "thanos"])
def test_groups_are_the_prometheus_groups(tree: dict[str, bytes], target: str) -> None:
    for service in ("ingest", "query"):
        groups = _yaml(tree, f"{target}/{service}.yaml")["groups"]
        plain = [
            {k: v for k, v in g.items() if k not in ("source_tenants", "partial_response_strategy")} for g in groups
        ]
        assert sorted(plain, key=lambda g: g["name"]) == _prometheus_groups(tree, service)


def test_without_targets_no_target_folder() -> None:
    for case in ("plan", "routing", "variety"):
        assert not [rel for rel in build(CASES / case) if rel.split("/")[0] in ("mimir", "cortex", "thanos")]


def test_targets_prometheus_alone_is_the_default(tmp_path: Path) -> None:
    spec = tmp_path / "slo"
    shutil.copytree(CASES / "plan" / "slo", spec)
    settings = spec / "slogen.yaml"
    settings.write_text(settings.read_text() + "targets: [prometheus]\n")
    options = api.Options(spec_dir=spec, out_dir=tmp_path / "out", templates=None)
    assert api.build_tree(api.load_model(options), None) == build(CASES / "plan")


def _write(tree: dict[str, bytes], root: Path) -> list[str]:
    rels = sorted(rel for rel in tree if rel.split("/")[0] in ("mimir", "cortex", "thanos"))
    for rel in rels:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(tree[rel])
    return rels


def test_promtool_passes_with_ruler_keys_set_aside(tree: dict[str, bytes], tmp_path: Path) -> None:
    stage = ruler_rules_stage(_write(tree, tmp_path), tmp_path, {})
    assert stage.ok, stage.failures
    assert stage.count == 6


def test_promtool_catches_a_broken_rule(tree: dict[str, bytes], tmp_path: Path) -> None:
    rels = _write(tree, tmp_path)
    broken = tmp_path / "mimir/query.yaml"
    broken.write_text(broken.read_text().replace("expr: sum(rate(", "expr: sum(rate((", 1))
    stage = ruler_rules_stage(rels, tmp_path, {"mimir/query.yaml": "slo/query.yaml:2: query"})
    assert len(stage.failures) == 1
    assert stage.failures[0].startswith("slo/query.yaml:2: query: out/mimir/query.yaml: failed")


@pytest.mark.parametrize(
    ("rel", "old", "new", "problem"),
    [
        ("mimir/query.yaml", "namespace: query", "namespace: ingest", "namespace 'ingest' is not the service 'query'"),
        (
            "thanos/query.yaml",
            "partial_response_strategy: warn",
            "source_tenants: [a]",
            "thanos does not read source_tenants",
        ),
        ("cortex/query.yaml", "namespace: query\n", "", "the file must hold exactly namespace, groups"),
    ],
)
def test_shape_of_each_target(
    tree: dict[str, bytes], tmp_path: Path, rel: str, old: str, new: str, problem: str
) -> None:
    rels = _write(tree, tmp_path)
    path = tmp_path / rel
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    stage = ruler_rules_stage(rels, tmp_path, {})
    assert stage.failures == [f"out/{rel}: failed\n    {problem}"]


def test_explain_says_where_the_groups_also_go() -> None:
    model = api.load_model(api.Options(spec_dir=CASE / "slo", out_dir=CASE / "out", templates=None))
    text = explain(model, "query/availability")
    assert text.endswith(
        "\n\n  also written for (targets in slogen.yaml):\n"
        "    out/mimir/query.yaml: namespace query; source_tenants edge, ingest (federated rule groups)\n"
        "    out/cortex/query.yaml: namespace query\n"
        "    out/thanos/query.yaml: partial_response_strategy warn"
    )
    plan = api.load_model(api.Options(spec_dir=CASES / "plan" / "slo", out_dir=CASE / "out", templates=None))
    assert "also written for" not in explain(plan, "api")


def test_the_readme_targets_example_is_accepted(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if b.startswith("# slo/slogen.yaml of a team"))
    spec = tmp_path / "slo"
    shutil.copytree(CASE / "slo", spec)
    (spec / "slogen.yaml").write_text(block)
    model = api.load_model(api.Options(spec_dir=spec, out_dir=tmp_path / "out", templates=None))
    assert model.settings.targets == ("prometheus", "mimir", "cortex", "thanos")
    assert model.settings.mimir_source_tenants == ("edge", "ingest")
    assert model.settings.thanos_partial_response == "warn"
