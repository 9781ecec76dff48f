"""`slogen import openslo` and `slogen export openslo`: OpenSLO v1 documents of our own,
shaped like the specification's examples (github.com/OpenSLO/OpenSLO, README.md v1 and
pkg/openslo/v1/examples), become the expected slogen specs, which promtool proves; every
refusal is told at its line with nothing written; both round trips hold."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest
import yaml

from slogen import api

from .conftest import REPO, slogen, snapshot

TESTS = REPO / "tests"  # the CLI runs here: messages name imports/openslo/...
IMPORTS = TESTS / "imports/openslo"
BAD = sorted(p.name for p in (IMPORTS / "bad").iterdir())


def _import(source: str, out: Path, *more: str) -> tuple[int, str]:
    run = slogen("import", "openslo", source, "--out", str(out), *more, cwd=TESTS)
    return run.returncode, run.stderr


# The imported spec of imports/openslo/good is the golden case tests/cases/openslo (its
# slo/payments.yaml byte for byte, and its alerting.yaml is the routing stub filled in).
GOLDEN = TESTS / "cases/openslo/slo"


def _expected(case: str) -> dict[str, bytes]:
    expected = {p.name: p.read_bytes() for p in (IMPORTS / f"{case}.expected").iterdir() if p.name != "stderr.txt"}
    if case == "good":
        expected["payments.yaml"] = (GOLDEN / "payments.yaml").read_bytes()
    return expected


@pytest.mark.parametrize("case", ["good", "calendar"])
def test_documents_become_the_expected_spec(case: str, tmp_path: Path) -> None:
    code, stderr = _import(f"imports/openslo/{case}", tmp_path / "slo")
    assert code == 0, stderr
    assert stderr == (IMPORTS / f"{case}.expected/stderr.txt").read_text()
    assert snapshot(tmp_path / "slo") == _expected(case)


def _filled(stub: str) -> str:
    """The routing stub as a person completes it: uncommented, each TODO given a value."""
    body = stub[stub.index("# version: 1") :]
    text = "".join(line.removeprefix("# ") + "\n" for line in body.splitlines())
    text = text.replace("secrets/TODO", "secrets/key").replace('"#TODO"', '"#payments"')
    assert "TODO" not in text
    return text


def test_the_imported_spec_is_proven_by_promtool_and_its_routing_stub_by_amtool(promtool: str, tmp_path: Path) -> None:
    code, stderr = _import("imports/openslo/good", tmp_path / "slo")
    assert code == 0, stderr
    stub = tmp_path / "slo/alerting.yaml.todo"
    (tmp_path / "slo/alerting.yaml").write_text(_filled(stub.read_text()))
    assert (tmp_path / "slo/alerting.yaml").read_text() == (GOLDEN / "alerting.yaml").read_text()
    run = slogen("validate", "--spec", str(tmp_path / "slo"), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "promtool test rules: passed" in run.stdout
    assert "amtool check-config: passed" in run.stdout and "routes test: passed" in run.stdout


def test_the_mapping_field_by_field() -> None:
    """What the expected file says, read as data: the choices the README documents."""
    spec = yaml.safe_load((GOLDEN / "payments.yaml").read_text())
    slos = spec["slos"]
    assert spec["labels"] == {"tier": "1"}  # a list of one value is that value
    assert slos["availability"]["window"] == "4w"
    assert slos["refunds-most"]["window"] == "30d"  # 1M is 30 days, as OpenSLO reads it
    assert slos["availability"]["ratio"] == {  # through the DataSource's metricSourceRef
        "bad": 'http_requests_total{code=~"5..", job="payments"}',
        "total": 'http_requests_total{job="payments"}',
    }
    assert slos["refunds-most"]["by"] == ["route"]  # sum by (route), Sloth's {{.window}}
    assert [s["objective"] for s in slos.values()] == ["99.9%", "99%", "95%", "99.5%"]
    page, ticket = slos["availability"]["alerting"]["tiers"]
    assert page == {"severity": "page", "long": "1h", "short": "5m", "factor": 13.44, "for": "2m"}
    assert ticket == {"severity": "ticket", "long": "3d", "short": "6h", "factor": 1, "for": "1h"}
    assert "absent" not in slos["availability"].get("alerting", {})  # alertWhenNoData: true
    # raw + rawType: failure, a ratio of two increases: its numerator is the bad events
    assert slos["captures"]["ratio"] == {
        "bad": 'captures_failed_total{job="payments"}',
        "total": 'captures_total{job="payments"}',
    }
    assert slos["captures"]["window"] == "7d"
    # the condition's kind defaults to burnrate; slogen.dev/tier keeps the P1 label
    assert slos["captures"]["alerting"]["page"] == {"severity": "P1"}
    assert slos["captures"]["alerting"]["tiers"] == [
        {"severity": "page", "long": "2h", "short": "10m", "factor": 10, "for": "5m"}
    ]


@pytest.mark.parametrize("case", BAD)
def test_a_refusal_is_told_at_its_line_and_nothing_is_written(case: str, tmp_path: Path) -> None:
    code, stderr = _import(f"imports/openslo/bad/{case}", tmp_path / "slo")
    assert code == 2
    assert stderr == (IMPORTS / "bad" / case / "expected.txt").read_text()
    assert not (tmp_path / "slo").exists()


def test_an_existing_spec_is_not_overwritten_without_force(tmp_path: Path) -> None:
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo/payments.yaml").write_text("mine\n")
    code, stderr = _import("imports/openslo/good", tmp_path / "slo")
    assert code == 2 and "use --force" in stderr
    assert (tmp_path / "slo/payments.yaml").read_text() == "mine\n"
    code, _ = _import("imports/openslo/good", tmp_path / "slo", "--force")
    assert code == 0 and (tmp_path / "slo/payments.yaml").read_text().startswith("# imported")


def _export(spec: Path, out: Path) -> str:
    run = slogen("export", "openslo", "--spec", str(spec), "--out", str(out), cwd=TESTS)
    assert run.returncode == 0, run.stderr
    return run.stderr


def _model(spec: Path) -> list[object]:
    model = api.load_model(api.Options(spec_dir=spec))
    return [dataclasses.replace(slo, source=None) for slo in model.slos()]


def test_openslo_to_slogen_to_openslo_to_slogen_gives_the_same_model(tmp_path: Path) -> None:
    code, stderr = _import("imports/openslo/good", tmp_path / "one")
    assert code == 0, stderr
    _export(tmp_path / "one", tmp_path / "openslo")
    code, stderr = _import(str(tmp_path / "openslo"), tmp_path / "two")
    assert code == 0, stderr
    assert _model(tmp_path / "one") == _model(tmp_path / "two")
    one, two = (yaml.safe_load((tmp_path / d / "payments.yaml").read_text()) for d in ("one", "two"))
    assert one == two


def _without_threshold_alerts(case: str, spec: Path) -> None:
    shutil.copytree(TESTS / case / "slo", spec)
    for path in spec.glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        if "service" in data:
            data.pop("alerts", None)
            path.write_text(yaml.safe_dump(data, sort_keys=False))


# The generated files cite the spec's lines (`from slo/shop.yaml:12`): the written spec
# lays the same SLOs out on other lines, so those citations are set aside.
_SPEC_LINE = re.compile(rb"slo/[a-z0-9_-]+\.yaml(:|#L)[0-9]+")


@pytest.mark.parametrize("case", ["cases/kinds", "cases/shaped", "cases/grouped", "imports/openslo/roundtrip"])
def test_slogen_to_openslo_to_slogen_generates_the_same_output(case: str, tmp_path: Path) -> None:
    """Every kind (ratio, latency, raw, probe, expressions), `by`, shaped alerts, custom
    tiers, absent settings, disabled tiers, ids OpenSLO cannot name: the same rules, tests,
    dashboards and routing."""
    _without_threshold_alerts(case, tmp_path / "a/slo")
    _export(tmp_path / "a/slo", tmp_path / "openslo")
    code, stderr = _import(str(tmp_path / "openslo"), tmp_path / "b/slo")
    assert code == 0, stderr
    for extra in ("alerting.yaml", "slogen.yaml"):  # not OpenSLO's: told on stderr
        if (tmp_path / "a/slo" / extra).exists():
            shutil.copy(tmp_path / "a/slo" / extra, tmp_path / "b/slo" / extra)
    trees = []
    for side in ("a", "b"):
        run = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path / side)
        assert run.returncode == 0, run.stderr
        trees.append({k: _SPEC_LINE.sub(b"slo/X", v) for k, v in snapshot(tmp_path / side / "out").items()})
    assert trees[0] == trees[1]
    assert len(trees[0]) > 5  # rules, tests, dashboards, docs


def test_export_lists_what_openslo_cannot_hold(tmp_path: Path) -> None:
    stderr = _export(REPO / "tests/cases/shaped/slo", tmp_path / "openslo")
    assert "not exported: payments: threshold alert refund-errors: OpenSLO has no threshold alerts" in stderr
    assert "alerting.yaml: the routing (receivers, routes)" in stderr
    docs = list(yaml.safe_load_all((tmp_path / "openslo/payments.yaml").read_text()))
    kinds = [d["kind"] for d in docs]
    assert kinds[0] == "Service" and kinds.count("SLO") == kinds.count("SLI") == 3
    slo = next(d for d in docs if d["kind"] == "SLO")
    assert slo["spec"]["budgetingMethod"] == "Occurrences"
    assert slo["spec"]["alertPolicies"][0]["spec"]["conditions"][0]["spec"]["condition"]["kind"] == "burnrate"


def test_export_never_replaces_a_file_it_did_not_write(tmp_path: Path) -> None:
    spec = tmp_path / "slo"
    shutil.copytree(TESTS / "imports/openslo/roundtrip/slo", spec)
    before = snapshot(spec)
    for inside in (spec, spec / "openslo"):  # among the specs, `generate` would read them
        run = slogen("export", "openslo", "--spec", str(spec), "--out", str(inside), cwd=TESTS)
        assert run.returncode == 2
        assert f"{inside}: is inside the spec folder {spec}: export elsewhere" in run.stderr
        assert snapshot(spec) == before
    other = tmp_path / "other"
    shutil.copytree(spec, other)
    run = slogen("export", "openslo", "--spec", str(spec), "--out", str(other), cwd=TESTS)
    assert run.returncode == 2
    assert f"{other}/ops.yaml: exists and was not written by slogen export: not replaced" in run.stderr
    assert snapshot(other) == before
    _export(spec, tmp_path / "openslo")
    _export(spec, tmp_path / "openslo")  # its own files: replaced
    assert (tmp_path / "openslo/ops.yaml").read_text().startswith("# exported by `slogen export openslo`")
