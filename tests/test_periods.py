"""The burn-rate rule holds for every period: on the rules slogen generates for SLOs of
1h, 1d, 7d, 28d, 30d and 90d (tests/periods/slo), promtool over hand-written series shows
that a total outage pages within minutes and a 2-minute spike of 10% errors alerts no one."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REPO, slogen

SPEC = REPO / "tests" / "periods" / "slo"
PER_MINUTE = 6000
# Healthy history before the incident: longer than every page tier's long window (90d:
# 18h), so that no window sees less data than it would in production.
HISTORY = {"p1h": 60, "p1d": 3 * 60, "p7d": 3 * 60, "p28d": 8 * 60, "p30d": 8 * 60, "p90d": 20 * 60}


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("periods") / "out"
    result = slogen("generate", "--spec", str(SPEC), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out / "prometheus" / "rules"


def requests(job: str, minutes: list[tuple[int, float]]) -> list[dict[str, str]]:
    """Counters of 6,000 requests a minute, `ratio` of them 500s, stretch by stretch."""
    ok: list[str] = []
    bad: list[str] = []
    ok_total = bad_total = 0.0
    first = True
    for length, ratio in minutes:
        step_bad = PER_MINUTE * ratio
        step_ok = PER_MINUTE - step_bad
        if first:  # the first sample is the counters' start, at 0
            ok.append(f"0+{step_ok:g}x{length}")
            bad.append(f"0+{step_bad:g}x{length}")
            ok_total, bad_total = step_ok * length, step_bad * length
            first = False
            continue
        ok.append(f"{ok_total + step_ok:g}+{step_ok:g}x{length - 1}")
        bad.append(f"{bad_total + step_bad:g}+{step_bad:g}x{length - 1}")
        ok_total += step_ok * length
        bad_total += step_bad * length
    return [
        {"series": f'requests_total{{job="{job}", code="200"}}', "values": " ".join(ok)},
        {"series": f'requests_total{{job="{job}", code="500"}}', "values": " ".join(bad)},
    ]


def burn(slo: str, severity: str) -> str:
    return f'ALERTS{{alertname="SLOErrorBudgetBurn", alertstate="firing", slo="{slo}", severity="{severity}"}}'


def run(promtool: str, rules: Path, slo: str, test: dict[str, Any], tmp_path: Path) -> None:
    doc = {
        "rule_files": [str(rules / f"periods.{slo}.yaml")],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", **test}],
    }
    (tmp_path / "t.test.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    result = subprocess.run(
        [promtool, "test", "rules", "t.test.yaml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


PERIODS = sorted(HISTORY, key=lambda s: list(HISTORY).index(s))


@pytest.mark.parametrize("slo", PERIODS)
def test_a_total_outage_pages_within_five_minutes(promtool: str, rules: Path, slo: str, tmp_path: Path) -> None:
    start = HISTORY[slo]  # the last healthy sample; requests fail from the next minute on
    labels = f'{{__name__="ALERTS", alertname="SLOErrorBudgetBurn", alertstate="firing", owner="sre", service="periods", severity="critical", slo="{slo}"}}'
    run(
        promtool,
        rules,
        slo,
        {
            "input_series": requests(slo, [(start, 0.0), (30, 1.0)]),
            "promql_expr_test": [
                {"expr": burn(slo, "critical"), "eval_time": f"{start}m", "exp_samples": []},
                {
                    "expr": burn(slo, "critical"),
                    "eval_time": f"{start + 1 + 5}m",
                    "exp_samples": [{"labels": labels, "value": 1}],
                },
            ],
        },
        tmp_path,
    )


@pytest.mark.parametrize("slo", PERIODS)
def test_a_two_minute_spike_of_10_percent_errors_alerts_no_one(
    promtool: str, rules: Path, slo: str, tmp_path: Path
) -> None:
    start = HISTORY[slo]
    until = f"{start + 2 + 180}m"  # three hours after the spike: past every short window
    never = [
        {"expr": f"count_over_time({burn(slo, severity)}[{until}])", "eval_time": until, "exp_samples": []}
        for severity in ("critical", "warning")
    ]
    run(
        promtool,
        rules,
        slo,
        {"input_series": requests(slo, [(start, 0.0), (2, 0.1), (180, 0.0)]), "promql_expr_test": never},
        tmp_path,
    )


def test_the_blip_is_not_too_small_to_matter(promtool: str, rules: Path, tmp_path: Path) -> None:
    """The same spike, ten times as long, does page: the test above is not vacuous."""
    start = HISTORY["p30d"]
    until = f"{start + 20 + 60}m"
    run(
        promtool,
        rules,
        "p30d",
        {
            "input_series": requests("p30d", [(start, 0.0), (20, 0.1), (60, 0.0)]),
            "promql_expr_test": [
                {
                    "expr": f"count(count_over_time({burn('p30d', 'critical')}[{until}]))",
                    "eval_time": until,
                    "exp_samples": [{"labels": "{}", "value": 1}],
                }
            ],
        },
        tmp_path,
    )


def test_the_generated_tests_of_every_period_pass(promtool: str) -> None:
    result = slogen("validate", "--spec", str(SPEC))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "promtool test rules: passed (8 files)" in result.stdout


def test_a_budget_too_small_to_defend_is_warned_about(tmp_path: Path) -> None:
    result = slogen("generate", "--spec", str(SPEC), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    # The fixture has no routing file: that warning aside, only the tight SLO is warned about.
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:") and "routing" not in line]
    assert len(warnings) == 1, result.stderr
    assert "slos.p1h-tight: no burn-rate alert generated: the whole error budget is 3s600ms" in warnings[0]
    rules = (tmp_path / "out" / "prometheus" / "rules" / "periods.p1h-tight.yaml").read_text()
    assert "SLOErrorBudgetBurn" not in rules and "SLOMetricAbsent" in rules
