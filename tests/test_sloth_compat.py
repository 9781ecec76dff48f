"""compatibility: {sloth_labels: true} in slo/slogen.yaml: a team that moves from Sloth
keeps its Grafana dashboards, which select SLOs by Sloth's labels and list them from
sloth_slo_info (Sloth's pkg/common/conventions; queries shaped like those of Sloth's
published dashboards, grafana.com 14348 and 14643, written here from their shape)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from .conftest import REPO, slogen

CASE = REPO / "tests" / "cases" / "moved-from-sloth"
ID = 'sloth_service="checkout", sloth_slo="requests-availability"'
# Every series of the SLO: slogen's labels, the spec's, and Sloth's.
LABELS = (
    '{owner="payments", service="checkout", slo="requests-availability", sloth_id="checkout-requests-availability", '
    'sloth_service="checkout", sloth_slo="requests-availability", tier="1"}'
)


def _generate(tmp_path: Path, compatibility: bool) -> Path:
    shutil.copytree(CASE / "slo", tmp_path / "slo")
    if not compatibility:
        (tmp_path / "slo" / "slogen.yaml").unlink()
    result = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / "out" / "prometheus" / "rules"


def _dashboard_test(rules: list[Path]) -> dict[str, Any]:
    """Two hours of checkout traffic, 1% of it failing (10x the budget), and what the
    Sloth dashboards' panels and variables would read."""
    series = [
        {"series": 'http_requests_total{job="checkout", code="500"}', "values": "0+6x120"},
        {"series": 'http_requests_total{job="checkout", code="200"}', "values": "0+594x120"},
    ]
    expected = [
        (f"slo:sli_error:ratio_rate5m{{{ID}}}", 0.01),
        (f"1 - max(slo:sli_error:ratio_rate1h{{{ID}}})", 0.99),  # aggregated: no labels
        (f"slo:objective:ratio{{{ID}}}", 0.999),
        (f"slo:error_budget:ratio{{{ID}}}", 0.001),
        (f"slo:time_period:days{{{ID}}}", 30),
        (f"slo:current_burn_rate:ratio{{{ID}}}", 10),
        (f"slo:period_burn_rate:ratio{{{ID}}}", 10),
        (f"slo:period_error_budget_remaining:ratio{{{ID}}}", -9),
        ('count(sloth_slo_info{sloth_service="checkout"})', 3),
        ('count(sloth_slo_info{sloth_id="checkout-requests-availability", sloth_objective="99.9"})', 1),
    ]
    tests = [
        {
            "interval": "1m",
            "input_series": series,
            "promql_expr_test": [
                {
                    "expr": f"round({expr}, 0.0001)",
                    "eval_time": "2h",
                    "exp_samples": [
                        {"labels": "{}" if expr.startswith(("1 - max", "count")) else LABELS, "value": value}
                    ],
                }
                for expr, value in expected
            ],
        }
    ]
    return {"rule_files": [str(p) for p in rules], "evaluation_interval": "1m", "tests": tests}


def test_sloth_dashboard_queries_read_slogens_rules_with_the_setting_on(promtool: str, tmp_path: Path) -> None:
    rules = sorted(_generate(tmp_path, compatibility=True).glob("checkout.*.yaml"))
    path = tmp_path / "dashboard.test.yaml"
    path.write_text(yaml.safe_dump(_dashboard_test(rules)))
    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_without_the_setting_no_sloth_label_or_series_is_written(tmp_path: Path) -> None:
    text = "".join(p.read_text() for p in _generate(tmp_path, compatibility=False).glob("*.yaml"))
    assert "sloth" not in text.lower()


def test_with_the_setting_every_recording_and_alert_of_an_slo_carries_sloths_labels(tmp_path: Path) -> None:
    rules_dir = _generate(tmp_path, compatibility=True)
    rules = [r for g in yaml.safe_load((rules_dir / "carts.jobs.yaml").read_text())["groups"] for r in g["rules"]]
    ids = {"sloth_id": "carts-jobs", "sloth_service": "carts", "sloth_slo": "jobs"}
    assert all(r["labels"].items() >= ids.items() for r in rules), [r for r in rules if "sloth_id" not in r["labels"]]
    assert "sloth_window" not in str(rules)  # slogen's alerts join windows with `and`


def test_explain_says_that_sloths_labels_are_added(tmp_path: Path) -> None:
    shutil.copytree(CASE / "slo", tmp_path / "slo")
    result = slogen("explain", "--spec", "slo", "checkout/requests-availability", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        "  Sloth's labels on every series and alert (sloth_id=checkout-requests-availability, sloth_service=checkout, "
        "sloth_slo=requests-availability) and sloth_slo_info, slo:time_period:days recorded: compatibility.sloth_labels"
    ) in result.stdout.splitlines()
