"""The CLI's other commands: validate with promtool, explain, schema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .conftest import REPO, slogen


def test_validate_runs_promtool_on_everything_generated(promtool: str) -> None:
    result = slogen("validate")
    assert result.returncode == 0, result.stderr
    assert "promtool check rules: 12 files OK" in result.stdout
    assert "promtool test rules: 12 files OK" in result.stdout


def test_validate_fails_with_exit_1_when_promtool_rejects_a_test(promtool: str, tmp_path: Path) -> None:
    """A raw alert whose own test series never fire it: promtool says so, slogen exits 1."""
    shutil.copytree(REPO / "tests/cases/variety/slo", tmp_path / "slo")
    spec = tmp_path / "slo/checkout.yaml"
    spec.write_text(spec.read_text().replace("critical: {above: 900}", "critical: {above: 90000}"))
    result = slogen("validate", "--spec", "slo", cwd=tmp_path)
    assert result.returncode == 1
    assert "promtool test rules failed" in result.stderr
    assert "Traceback" not in result.stderr


def test_explain_gives_windows_factors_and_time_to_fire() -> None:
    result = slogen("explain", "api/availability")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split()[:7] == ["critical", "1h", "5m", "14.4x", "1.44%", "~52s", "2%"] for line in lines)
    assert any(line.split()[:7] == ["warning", "3d", "6h", "1x", "0.1%", "~4m19s", "10%"] for line in lines)
    assert "error budget 0.1% of events (= 43m12s of total outage)" in result.stdout


def test_explain_an_unknown_target_is_exit_2() -> None:
    result = slogen("explain", "api/nope")
    assert result.returncode == 2
    assert "no SLO or alert 'nope' in api" in result.stderr


def test_routing_and_settings_have_schemas_too() -> None:
    routing = json.loads(slogen("schema", "routing").stdout)
    assert set(routing["required"]) == {"version", "receivers", "routes"}
    settings = json.loads(slogen("schema", "settings").stdout)
    assert "grafana" in settings["properties"]


def test_schema_is_json_schema_for_the_spec() -> None:
    result = slogen("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["required"]) == {"version", "service"}
    assert schema["additionalProperties"] is False
    assert "SLO" in schema["$defs"] and "for" in schema["$defs"]["Level"]["properties"]


def test_explain_says_who_gets_each_alert_through_which_route() -> None:
    text = slogen("explain", "api/availability").stdout
    block = text[text.index("routing (slo/alerting.yaml):") :]
    assert "SLOErrorBudgetBurn critical:\n      -> platform-email     via summary" in block
    assert "-> oncall-pager       via routes[0] (severity critical)" in block
    assert "inhibited while a critical alert of api/availability fires" in block


def test_explain_shows_a_service_routing_its_own_alerts() -> None:
    text = slogen("explain", "--spec", str(REPO / "tests/cases/routing/slo"), "checkout/availability").stdout
    assert "-> payments-pager     via the routing of service checkout (critical)" in text
    assert "only in business-hours" in text
