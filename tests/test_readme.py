"""The README's full examples are real: they load, generate and pass promtool and amtool."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from slogen.promql import parse_selector

from .conftest import REPO, slogen


def _block(starting: str) -> str:
    readme = (REPO / "README.md").read_text()
    return next(b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if b.startswith(starting))


def test_the_readme_examples_validate(promtool: str, tmp_path: Path) -> None:
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo" / "api.yaml").write_text(_block("# slo/api.yaml"))
    (tmp_path / "slo" / "alerting.yaml").write_text(_block("version: 1\nsmtp:"))
    result = slogen("validate", "--spec", "slo", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "promtool test rules: passed (10 files)" in result.stdout
    assert "amtool check-config: passed (1 file)" in result.stdout


def test_the_side_by_side_examples_say_what_the_sloth_and_pyrra_specs_say(promtool: str, tmp_path: Path) -> None:
    """The slogen specs beside the Sloth and Pyrra ones validate, and generate what those
    tools would: Sloth's alert name and page/ticket labels, Pyrra's grouping, tiers with
    their own for, no absent-data alert, and a probe."""
    (tmp_path / "slo").mkdir()
    for name in ("checkout", "search"):
        (tmp_path / "slo" / f"{name}.yaml").write_text(_block(f"# slo/{name}.yaml"))
    result = slogen("validate", "--spec", "slo", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "promtool test rules: passed (3 files)" in result.stdout
    assert slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path).returncode == 0
    rules = tmp_path / "out/prometheus/rules"
    checkout = [
        r
        for g in yaml.safe_load((rules / "checkout.requests-availability.yaml").read_text())["groups"]
        for r in g["rules"]
    ]
    burn = [r for r in checkout if r.get("alert") == "CheckoutHighErrorRate"]
    assert [
        (r["labels"]["severity"], r["labels"].get("routing_key"), r["labels"].get("slack_channel")) for r in burn
    ] == [
        ("pageteam", "payments", None),
        ("slack", None, "#alerts-payments"),
    ]
    search = [r for g in yaml.safe_load((rules / "search.requests.yaml").read_text())["groups"] for r in g["rules"]]
    tiers = [
        (r["labels"]["long"], r["labels"]["short"], r["for"])
        for r in search
        if r.get("alert") == "SearchErrorBudgetBurn"
    ]
    assert tiers == [("1h", "5m", "2m"), ("6h", "30m", "15m"), ("1d", "2h", "1h"), ("4d", "6h", "3h")]
    assert all("sum by (route)" in r["expr"] for r in search if r.get("record") == "slo:sli_total_events:rate5m")
    assert not [r for r in search if r.get("alert") == "SLOMetricAbsent"]
    probe = (rules / "search.probe.yaml").read_text()
    assert "count_over_time(probe_success{" in probe


def test_slogen_import_writes_what_the_side_by_side_examples_say(tmp_path: Path) -> None:
    """`slogen import sloth` of the README's Sloth example generates the same rules and
    tests as the slogen spec beside it; `slogen import pyrra` of the Pyrra example writes
    the same tiers, by and absent setting (its names come from the namespace)."""
    (tmp_path / "sloth.yaml").write_text(_block('version: "prometheus/v1"'))
    (tmp_path / "pyrra.yaml").write_text(_block("apiVersion: pyrra.dev/v1alpha1"))
    assert slogen("import", "sloth", "sloth.yaml", "--out", "imported", cwd=tmp_path).returncode == 0
    (tmp_path / "written").mkdir()
    (tmp_path / "written" / "checkout.yaml").write_text(_block("# slo/checkout.yaml"))
    trees = {}
    for name in ("imported", "written"):
        (tmp_path / name).rename(tmp_path / "slo")  # the same spec folder: the files name it
        assert slogen("generate", "--spec", "slo", "--out", f"out-{name}", cwd=tmp_path).returncode == 0
        (tmp_path / "slo").rename(tmp_path / name)
        out = tmp_path / f"out-{name}" / "prometheus"
        trees[name] = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*.yaml"))}
    assert trees["imported"] and trees["imported"] == trees["written"]

    assert slogen("import", "pyrra", "pyrra.yaml", "--out", "pyrra", cwd=tmp_path).returncode == 0
    imported = yaml.safe_load((tmp_path / "pyrra" / "monitoring.yaml").read_text())["slos"]["search-requests"]
    written = yaml.safe_load(_block("# slo/search.yaml"))["slos"]["requests"]
    for field in ("objective", "window", "by"):
        assert imported[field] == written[field]
    assert {k: parse_selector(v) for k, v in imported["ratio"].items()} == {
        k: parse_selector(v) for k, v in written["ratio"].items()
    }
    assert imported["alerting"] == written["alerting"]
