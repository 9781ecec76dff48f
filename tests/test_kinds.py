"""Probe SLIs and event expressions: recorded in the ratio kinds' cheap shape, their alerts
proven by the generated tests (which fail when the rules are wrong), and every spec written
with selectors only generating what it did before."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from slogen.builders import probe
from slogen.builders import queries as q
from slogen.promql import presence_selectors

from .conftest import slogen

PROBE_SPEC = """\
version: 1
service: web
slos:
  up:
    objective: 99.9%
    probe:
      metric: probe_success{job="blackbox", instance="https://web.example.com"}
"""

EXPR_SPEC = """\
version: 1
service: web
slos:
  requests:
    objective: 99%
    ratio:
      bad: sum(rate(http_requests_total{job="web", code=~"5.."}[$window]))
      total: http_requests_total{job="web"}
      test:
        erroring:
          - {series: 'http_requests_total{job="web", code="500"}', values: '0+50x30'}
          - {series: 'http_requests_total{job="web", code="200"}', values: '0+50x30'}
        healthy:
          - {series: 'http_requests_total{job="web", code="200"}', values: '0+100x30'}
"""


def _generate(tmp_path: Path, spec: str) -> Path:
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo" / "web.yaml").write_text(spec)
    result = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / "out" / "prometheus"


def _promtool_test(promtool: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False)


def _rewrite_rule(rules_path: Path, record: str, expr: str) -> None:
    rules = yaml.safe_load(rules_path.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("record") == record:
                rule["expr"] = expr
    rules_path.write_text(yaml.safe_dump(rules))


# --- probes ---------------------------------------------------------------------------


def test_a_probe_records_the_share_of_its_samples_that_are_0_with_other_values_clamped(
    promtool: str, tmp_path: Path
) -> None:
    """Samples every 15s, a 5m window holds 21 of each series. `a` fails one sample a
    minute (never on a window's edge): 5 of 21; `b` never; `c` is stuck at 2 (read as
    success, not as -21 failures); `d` at -1 (read as failure, not as 42): 26 of 84."""
    out = _generate(tmp_path, PROBE_SPEC)
    sel = 'probe_success{job="blackbox", instance="https://web.example.com"'
    test = {
        "rule_files": ["rules/web.up.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "15s",
                "input_series": [
                    {"series": sel + ', i="a"}', "values": "1 0 1 1" * 1 + " 1 0 1 1" * 200},
                    {"series": sel + ', i="b"}', "values": "1x800"},
                    {"series": sel + ', i="c"}', "values": "2x800"},
                    {"series": sel + ', i="d"}', "values": "-1x800"},
                ],
                "promql_expr_test": [
                    {
                        "expr": f"round({ratio}, 0.00001)",
                        "eval_time": "2h",
                        "exp_samples": [
                            {"labels": '{service="web", slo="up"}', "value": 0.30952}  # 26 / 84
                        ],
                    }
                    for ratio in (
                        'slo:sli_error:ratio_rate5m{slo="up"}',
                        'slo:sli_error:ratio_rate1h{slo="up"}',
                    )
                ],
            }
        ],
    }
    path = out / "clamp.test.yaml"
    path.write_text(yaml.safe_dump(test))
    result = _promtool_test(promtool, path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_generated_probe_tests_pass_and_fail_when_failed_samples_are_not_counted(
    promtool: str, tmp_path: Path
) -> None:
    out = _generate(tmp_path, PROBE_SPEC)
    tests = out / "tests" / "web.up.test.yaml"
    names = [t["name"] for t in yaml.safe_load(tests.read_text())["tests"]]
    assert any(n.startswith("critical:") and n.endswith("fires it") for n in names)
    assert any(n.startswith("warning:") and n.endswith("does not fire it") for n in names)
    assert _promtool_test(promtool, tests).returncode == 0
    _rewrite_rule(out / "rules" / "web.up.yaml", "slo:sli_bad_events:rate5m", "0 * slo:sli_total_events:rate5m")
    failed = _promtool_test(promtool, tests)
    assert failed.returncode != 0 and "got: nil" in failed.stdout + failed.stderr


# Tiers that are generated: factor x budget under 100%.
_THRESHOLDS = [
    factor * (1 - Decimal(objective) / 100)
    for objective in ("50", "90", "99", "99.5", "99.9", "99.95", "99.99")
    for factor in (Decimal(1), Decimal(3), Decimal(6), Decimal("14.4"))
    if factor * (1 - Decimal(objective) / 100) < 1
]


def test_the_generated_probe_tests_pass_for_objectives_and_windows_at_the_edges(promtool: str, tmp_path: Path) -> None:
    """A 0 every 5 minutes (99.99%) once made the first, partial windows fail a test: the
    series' phase keeps them at their share; promtool runs every generated test here."""
    slos = "".join(
        f"  p{i}:\n    objective: {objective}\n    window: {window}\n"
        f'    probe: {{metric: \'up{{job="node", instance=~"10\\\\.0\\\\..+"}}\'}}\n'
        for i, (objective, window) in enumerate(
            (o, w) for o in ("50%", "99%", "99.99%", "99.999%") for w in ("1h", "7d", "90d")
        )
    )
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo" / "probes.yaml").write_text(f"version: 1\nservice: probes\nslos:\n{slos}")
    result = slogen("validate", "--spec", "slo", cwd=tmp_path)
    assert "promtool test rules: passed (12 files)" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("threshold", _THRESHOLDS, ids=str)
def test_probe_test_series_sit_on_either_side_of_each_threshold(threshold: Decimal) -> None:
    above, below = min(Decimal(1), threshold * Decimal("1.1")), threshold * Decimal("0.9")
    fire, quiet = probe.plan(above, threshold, True), probe.plan(below, threshold, False)
    assert probe.ratio(fire) > threshold * (1 + probe.MARGIN)
    assert probe.ratio(quiet) < threshold * (1 - probe.MARGIN)
    for chosen in (fire, quiet):
        assert chosen.good + chosen.bad + 1 <= probe.MAX_GOOD + probe.MAX_BAD + 1


def test_probe_series_vary_a_label_the_selector_does_not_pin() -> None:
    from slogen import model as m
    from slogen.promql import parse_selector

    sli = m.ProbeSLI(parse_selector('up{job="web", instance="10.0.0.1:9100"}'))
    series = probe.probe_series(sli, probe.Plan(good=2, bad=1, sparse=5), 1020)
    assert [s["series"] for s in series] == [
        'up{instance="10.0.0.1:9100", job="web", slogen_probe="slogen-good-0"}',
        'up{instance="10.0.0.1:9100", job="web", slogen_probe="slogen-good-1"}',
        'up{instance="10.0.0.1:9100", job="web", slogen_probe="slogen-bad-0"}',
        'up{instance="10.0.0.1:9100", job="web", slogen_probe="slogen-sparse"}',
    ]
    assert series[3]["values"].startswith("_x30 0 _x59 0 _x59 ")  # mid-period, off the minute


# --- event expressions ----------------------------------------------------------------


def test_event_expressions_are_recorded_at_5m_inside_a_sum_and_a_selector_beside_them_as_its_rate(
    tmp_path: Path,
) -> None:
    out = _generate(tmp_path, EXPR_SPEC)
    rules = yaml.safe_load((out / "rules" / "web.requests.yaml").read_text())
    exprs = {r["record"]: r["expr"] for r in rules["groups"][0]["rules"] if "record" in r}
    assert exprs["slo:sli_bad_events:rate5m"] == (
        '(sum(sum(rate(http_requests_total{job="web", code=~"5.."}[5m]))) or vector(0))'
    )
    assert exprs["slo:sli_total_events:rate5m"] == 'sum(rate(http_requests_total{job="web"}[5m]))'
    # Longer windows read the 5m recordings, never the raw series.
    assert "http_requests_total" not in exprs["slo:sli_error:ratio_rate1h"]


def test_the_generated_tests_of_event_expressions_assert_exact_labels_and_fail_on_swapped_series(
    promtool: str, tmp_path: Path
) -> None:
    out = _generate(tmp_path, EXPR_SPEC)
    path = out / "tests" / "web.requests.test.yaml"
    data = yaml.safe_load(path.read_text())
    erroring = data["tests"][0]
    assert erroring["name"] == "event expressions: the erroring series fire every burn-rate alert"
    labels = [s["labels"] for s in erroring["promql_expr_test"][0]["exp_samples"]]
    assert labels == [
        'ALERTS{alertname="SLOErrorBudgetBurn", alertstate="firing", service="web", severity="critical", slo="requests"}',
        'ALERTS{alertname="SLOErrorBudgetBurn", alertstate="firing", service="web", severity="warning", slo="requests"}',
    ]
    assert _promtool_test(promtool, path).returncode == 0
    data["tests"][0]["input_series"], data["tests"][1]["input_series"] = (
        data["tests"][1]["input_series"],
        data["tests"][0]["input_series"],
    )
    path.write_text(yaml.safe_dump(data))
    assert _promtool_test(promtool, path).returncode != 0


@pytest.mark.parametrize(
    ("expression", "watched"),
    [
        ("sum(rate(a[5m])) - (sum(rate(b[5m])) or vector(0))", ["a"]),
        ('sum by (job) (rate(s{job="x"}[5m]))', ['s{job="x"}']),
        ("sum(rate(a[5m])) / sum(rate(b[5m]))", ["a", "b"]),
        ("sum(rate(a[5m])) + sum(rate(b[5m]))", ["a"]),
        ("sum(rate(a[5m:1m]))", ["a"]),
        ('label_replace(rate(a[5m]), "x", "$1", "y", "(.*)")', ["a"]),
    ],
)
def test_the_absent_alert_watches_the_series_an_expression_cannot_do_without(
    expression: str, watched: list[str]
) -> None:
    assert [s.render() for s in presence_selectors(expression)] == watched


def test_the_absent_alert_of_event_expressions_watches_the_total(tmp_path: Path) -> None:
    spec = EXPR_SPEC.replace(
        'total: http_requests_total{job="web"}',
        'total: sum(rate(http_requests_total{job="web"}[$window])) - (sum(rate(http_requests_total{job="web", code="429"}[$window])) or vector(0))',
    )
    out = _generate(tmp_path, spec)
    rules = yaml.safe_load((out / "rules" / "web.requests.yaml").read_text())
    absent = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "SLOMetricAbsent")
    assert absent["expr"] == 'absent(http_requests_total{job="web"})'


def test_a_selector_ratio_is_still_built_from_selectors() -> None:
    """The all-selector form keeps its model (and its output: the golden trees)."""
    from slogen import model as m
    from slogen import spec as s
    from slogen.resolve_kinds import ratio_sli

    written = s.EventsSLI.model_validate({"bad": 'x_total{code="5"}', "total": "x_total"})
    sli = ratio_sli(written)
    assert isinstance(sli, m.RatioSLI)
    assert q.events(sli, 300_000) == (
        '(sum(rate(x_total{code="5"}[5m])) or vector(0))',
        "sum(rate(x_total[5m]))",
    )


def test_explain_says_how_a_probe_and_event_expressions_are_read(tmp_path: Path) -> None:
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo" / "web.yaml").write_text(PROBE_SPEC)
    (tmp_path / "slo" / "api.yaml").write_text(EXPR_SPEC.replace("service: web", "service: api"))
    probe_text = slogen("explain", "--spec", "slo", "web/up", cwd=tmp_path).stdout
    assert "SLI: probe: share of the samples of" in probe_text
    assert "clamped to [0, 1]" in probe_text
    expr_text = slogen("explain", "--spec", "slo", "api/requests", cwd=tmp_path).stdout
    assert "SLI: event expressions: bad sum(rate(" in expr_text
    assert "recorded as sum(...) with $window = 5m" in expr_text
