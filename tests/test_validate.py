"""`slogen validate`'s checks map what the tools reject back to the spec: the SLO's or
alert's file and line, never a scratch path; every stage runs and reports."""

from __future__ import annotations

import shutil
from pathlib import Path

from slogen import api

from .conftest import REPO, slogen

CASE = REPO / "tests/cases/routing"


def _broken_tree(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The routing case's tree with one bad rule and one wrong route."""
    shutil.copytree(CASE / "out", tmp_path / "out")
    rules = tmp_path / "out/prometheus/rules/checkout.availability.yaml"
    rules.write_text(rules.read_text().replace('sum(rate(payments_total{job="checkout"}[5m]))', "sum(rate(", 1))
    config = tmp_path / "out/alertmanager/alertmanager.yml"
    config.write_text(config.read_text().replace('severity="warning"', 'severity="warnings"', 1))
    model = api.load_model(api.Options(spec_dir=CASE / "slo"))
    return tmp_path / "out", api.sources(model)


def test_a_rejected_rules_file_is_reported_at_its_slo_in_the_spec(promtool: str, tmp_path: Path) -> None:
    root, sources = _broken_tree(tmp_path)
    stages = {stage.name: stage for stage in api.check_tree(root, sources)}
    check = stages["promtool check rules"]
    assert check.summary() == "promtool check rules: FAILED (1 of 2 files)"
    line = 1 + (CASE / "slo/checkout.yaml").read_text().splitlines().index("  availability:")
    head, *detail = check.failures[0].splitlines()
    spec = "tests/cases/routing/slo/checkout.yaml"
    assert head.endswith(
        f"{spec}:{line}: checkout/availability: out/prometheus/rules/checkout.availability.yaml: failed"
    )
    assert any("unclosed left parenthesis" in x for x in detail)
    assert str(tmp_path) not in "\n".join(check.failures)


def test_every_stage_runs_when_one_fails_and_amtool_failures_name_the_routing_file(tmp_path: Path) -> None:
    root, sources = _broken_tree(tmp_path)
    stages = api.check_tree(root, sources)
    names = [stage.name for stage in stages]
    assert names == [
        "promtool check rules",
        "promtool test rules",
        "vmalert -dryRun",
        "amtool check-config",
        "amtool config routes test",
        "amtool template render",
        "dashboards",
    ]
    routes = stages[4]
    assert not routes.ok and "tests/cases/routing/slo/alerting.yaml:1: the routing: {" in routes.failures[0]
    assert "should reach" in routes.failures[0]
    assert all(str(tmp_path) not in f for stage in stages for f in stage.failures)


def test_vmalert_dry_run_reports_a_rejected_rules_file_at_its_slo(tmp_path: Path) -> None:
    root, sources = _broken_tree(tmp_path)
    stage = next(s for s in api.check_tree(root, sources) if s.name == "vmalert -dryRun")
    assert stage.summary() == "vmalert -dryRun: FAILED (1 of 2 files)"
    head, *detail = stage.failures[0].splitlines()
    assert head.endswith(": checkout/availability: out/prometheus/rules/checkout.availability.yaml: failed")
    assert head.startswith("tests/cases/routing/slo/checkout.yaml:")
    assert detail and all("failed to parse" in line for line in detail), detail  # vmalert's verdict, not its log
    assert "bad prometheus expr" in detail[0]


def test_validate_runs_without_vmalert_and_says_its_stage_was_skipped(tmp_path: Path) -> None:
    tools_only = tmp_path / "bin"
    tools_only.mkdir()
    for tool in ("promtool", "amtool"):
        found = shutil.which(tool)
        assert found
        (tools_only / tool).symlink_to(found)
    result = slogen("validate", "--spec", "slo", cwd=CASE, env={"PATH": str(tools_only)})
    assert result.returncode == 0, result.stderr
    assert (
        "vmalert -dryRun: skipped (vmalert not found: install it with `apt-get install victoria-metrics` "
        "(Debian) to check the rules as vmalert loads them)"
    ) in result.stdout.splitlines()
    assert "promtool test rules: passed (2 files)" in result.stdout.splitlines()


def test_a_spec_without_routing_file_warns_that_no_alertmanager_config_is_written(tmp_path: Path) -> None:
    shutil.copytree(REPO / "tests/cases/variety/slo", tmp_path / "slo")
    result = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        "warning: slo: no routing file (alerting.yaml with receivers and routes), so no Alertmanager config "
        "was written: the alerts reach no one until one declares where they go"
    ) in result.stderr.splitlines()
    assert not (tmp_path / "out/alertmanager").exists()
