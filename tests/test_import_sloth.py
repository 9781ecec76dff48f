"""`slogen import sloth`: Sloth's prometheus/v1 files and PrometheusServiceLevel CRDs.

The sources under tests/imports/sloth/ are written for these tests in the shape of
Sloth's published examples (github.com/slok/sloth examples/ and pkg/prometheus/api/v1);
expected/ holds the specs slogen must write from them, errors/ a folder per refusal
(sloth.yaml and the exact stderr).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from . import sloth_shape
from .conftest import REPO, slogen

IMPORTS = REPO / "tests" / "imports" / "sloth"
SOURCES = ("tests/imports/sloth/checkout.yaml", "tests/imports/sloth/carts-crd.yaml")
ERRORS = sorted(p.name for p in (IMPORTS / "errors").iterdir())


def _import(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Import from a copy of the sources at the same relative paths (the specs name them)."""
    for source in SOURCES:
        (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / source, tmp_path / source)
    return slogen("import", "sloth", *args, "--out", "slo", cwd=tmp_path)


def test_sloth_files_and_crds_become_the_expected_specs_which_validate(tmp_path: Path) -> None:
    result = _import(tmp_path, *SOURCES)
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "warning: tests/imports/sloth/checkout.yaml:23: annotation summary is dropped: slogen writes it from the SLO\n"
    )
    written = sorted(p.name for p in (tmp_path / "slo").iterdir())
    assert written == ["carts.yaml", "checkout.yaml"]
    for name in written:
        assert (tmp_path / "slo" / name).read_text() == (IMPORTS / "expected" / name).read_text(), name
    validated = slogen("validate", "--spec", "slo", cwd=tmp_path)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "promtool test rules: passed (5 files)" in validated.stdout


@pytest.mark.parametrize("name", ERRORS)
def test_each_refusal_names_file_line_and_field_and_writes_nothing(tmp_path: Path, name: str) -> None:
    shutil.copy(IMPORTS / "errors" / name / "sloth.yaml", tmp_path / "sloth.yaml")
    result = slogen("import", "sloth", "sloth.yaml", "--out", "slo", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr == (IMPORTS / "errors" / name / "expected.txt").read_text()
    assert not (tmp_path / "slo").exists()


def _tiers(tmp_path: Path, *args: str) -> list[dict[str, Any]]:
    result = _import(tmp_path, "tests/imports/sloth/carts-crd.yaml", *args)
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load((tmp_path / "slo" / "carts.yaml").read_text())
    assert {slo["window"] for slo in data["slos"].values()} == {args[-1] if args else "30d"}
    return list(data.get("alerting", {}).get("tiers", []))


def test_30d_keeps_slogens_default_tiers_which_are_sloths(tmp_path: Path) -> None:
    assert _tiers(tmp_path) == []


def test_28d_writes_sloths_28_day_windows_and_factors_as_tiers(tmp_path: Path) -> None:
    assert _tiers(tmp_path, "--period", "28d") == [
        {"severity": "page", "long": "1h", "short": "5m", "factor": 13.44},
        {"severity": "page", "long": "6h", "short": "30m", "factor": 5.6},
        {"severity": "ticket", "long": "1d", "short": "2h", "factor": 2.8},
        {"severity": "ticket", "long": "3d", "short": "6h", "factor": 0.9333333333},
    ]


WINDOWS_7D = """apiVersion: sloth.slok.dev/v1
kind: AlertWindows
spec:
  sloPeriod: 7d
  page:
    quick: {errorBudgetPercent: 8, shortWindow: 5m, longWindow: 1h}
    slow: {errorBudgetPercent: 12.5, shortWindow: 30m, longWindow: 6h}
  ticket:
    quick: {errorBudgetPercent: 20, shortWindow: 2h, longWindow: 1d}
    slow: {errorBudgetPercent: 42, shortWindow: 6h, longWindow: 3d}
"""


def test_an_alert_windows_file_among_the_files_gives_the_tiers(tmp_path: Path) -> None:
    (tmp_path / "7d.yaml").write_text(WINDOWS_7D)
    assert _tiers(tmp_path, str(tmp_path / "7d.yaml"), "--period", "7d") == [
        {"severity": "page", "long": "1h", "short": "5m", "factor": 13.44},
        {"severity": "page", "long": "6h", "short": "30m", "factor": 3.5},
        {"severity": "ticket", "long": "1d", "short": "2h", "factor": 1.4},
        {"severity": "ticket", "long": "3d", "short": "6h", "factor": 0.98},
    ]


def test_windows_for_another_period_and_a_period_without_windows_are_refused(tmp_path: Path) -> None:
    (tmp_path / "7d.yaml").write_text(WINDOWS_7D)
    mismatch = _import(tmp_path, SOURCES[1], str(tmp_path / "7d.yaml"))
    assert mismatch.returncode == 2
    assert mismatch.stderr.splitlines()[0] == (
        f"{tmp_path}/7d.yaml:4: spec.sloPeriod: these windows are for 7d, the import's period is 30d: give --period 7d"
    )
    missing = _import(tmp_path, SOURCES[1], "--period", "14d")
    assert missing.returncode == 2
    assert missing.stderr.startswith("--period: Sloth has alert windows for 30d and 28d only: for 14d it reads")
    assert not (tmp_path / "slo").exists()


# --- the imported alerts fire where Sloth's do ------------------------------------------

ERROR_QUERY = 'sum(rate(http_requests_total{job="checkout",code=~"(5..|429)"}[{{.window}}]))'
TOTAL_QUERY = 'sum(rate(http_requests_total{job="checkout"}[{{.window}}]))'
SLOTH_ALERT = {
    "name": "CheckoutHighErrorRate",
    "slo_labels": {"owner": "payments", "tier": "1"},
    "page": {"category": "availability", "severity": "pageteam", "routing_key": "payments"},
    "ticket": {"category": "availability", "severity": "slack", "slack_channel": "#alerts-payments"},
}
AT = 3 * 1440 + 60  # minutes: every window, the longest (3d) included, sees the whole burn
# promtool evaluates every rule at every step up to AT: 3 days at 1m took minutes. Samples
# every 2m (a 5m rate still sees three) and rules every 5m, as Prometheus might run them.
STEP, EVALUATION = 2, "5m"


def _alert_test(
    rules: str, scenarios: list[sloth_shape.Scenario], labels: dict[str, dict[str, str]], period: int, budget: float
) -> dict[str, Any]:
    tests = []
    for scenario in scenarios:
        fired = scenario.fires(period, budget)
        tests.append(
            {
                "name": scenario.name,
                "interval": f"{STEP}m",
                "input_series": scenario.series(
                    'http_requests_total{job="checkout", code="500"}',
                    'http_requests_total{job="checkout", code="200"}',
                    STEP,
                ),
                "alert_rule_test": [
                    {
                        "eval_time": f"{AT}m",
                        "alertname": SLOTH_ALERT["name"],
                        "exp_alerts": [{"exp_labels": labels[kind]} for kind in ("page", "ticket") if kind in fired],
                    }
                ],
            }
        )
    return {"rule_files": [rules], "evaluation_interval": EVALUATION, "tests": tests}


def _without_annotations(rules_file: Path, copy: Path) -> dict[str, dict[str, str]]:
    """A copy of slogen's rules without annotations (promtool would compare their text,
    which is not what this test is about), and the labels its page and ticket alerts fire
    with: their rule's labels (which repeat the recordings' own)."""
    data = yaml.safe_load(rules_file.read_text())
    for group in data["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    copy.write_text(yaml.safe_dump(data, sort_keys=False))
    rules = [r for g in data["groups"] for r in g["rules"]]
    by_severity = {r["labels"]["severity"]: r["labels"] for r in rules if r.get("alert") == SLOTH_ALERT["name"]}
    return {"page": by_severity["pageteam"], "ticket": by_severity["slack"]}


def _sloth_rules(tmp_path: Path, period: int) -> Path:
    path = tmp_path / "sloth-rules.yaml"
    rules = sloth_shape.rules("checkout", "requests-availability", ERROR_QUERY, TOTAL_QUERY, 99.9, period, SLOTH_ALERT)
    path.write_text(yaml.safe_dump(rules))
    return path


# The labels Sloth's alerts fire with: the SLO's ids and labels, sloth_severity, the kind's.
SLOTH_IDS = {
    "sloth_id": "checkout-requests-availability",
    "sloth_service": "checkout",
    "sloth_slo": "requests-availability",
}
SLOTH_LABELS = {
    kind: {**SLOTH_IDS, **SLOTH_ALERT["slo_labels"], "sloth_severity": kind, **SLOTH_ALERT[kind]}
    for kind in ("page", "ticket")
}


@pytest.mark.parametrize("period", [30, 28])
def test_imported_alerts_fire_the_same_severities_as_sloths_at_1_1x_and_none_at_0_9x(
    promtool: str, tmp_path: Path, period: int
) -> None:
    imported = _import(tmp_path, SOURCES[0], "--period", f"{period}d")
    assert imported.returncode == 0, imported.stderr
    generated = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    slogen_rules = tmp_path / "slogen-rules.yaml"
    slogen_labels = _without_annotations(
        tmp_path / "out" / "prometheus" / "rules" / "checkout.requests-availability.yaml", slogen_rules
    )
    sloth_rules = _sloth_rules(tmp_path, period)
    budget = 0.001
    scenarios = sloth_shape.scenarios(period, AT, budget)
    # Each tier's burn at 1.1x fires its own kind of alert, and at 0.9x nothing.
    assert [sorted(s.fires(period, budget)) for s in scenarios] == [
        [],
        ["page"],
        [],
        ["page"],
        [],
        ["ticket"],
        [],
        ["ticket"],
    ]
    paths = []
    for name, rules, labels in (
        ("sloth", sloth_rules, SLOTH_LABELS),
        ("slogen", slogen_rules, slogen_labels),
    ):
        path = tmp_path / f"{name}.test.yaml"
        path.write_text(yaml.safe_dump(_alert_test(str(rules), scenarios, labels, period, budget)))
        paths.append(str(path))
    # Both at once: each is one process, and the machine has more than one core.
    runs = [
        subprocess.Popen([promtool, "test", "rules", p], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for p in paths
    ]
    for path, run in zip(paths, runs, strict=True):
        output = run.communicate()[0]
        assert run.returncode == 0, f"{path}:\n{output[-4000:]}"
