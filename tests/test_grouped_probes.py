"""Probe SLIs with `by:` (tests/cases/grouped-probes): each region's share of failed
samples has its own alerts, the generated tests prove it at 1s samples and would catch
rules that lost the grouping, and the series of a group tell its probes apart by a label
that is not a `by` label. Evaluated by promtool, not read."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from slogen import model as m
from slogen.builders import group_tests, probe
from slogen.promql import parse_selector

from .conftest import REPO, slogen

CASE = REPO / "tests" / "cases" / "grouped-probes"
RULES = CASE / "out" / "prometheus" / "rules" / "edge.pop-reachable.yaml"
TESTS = CASE / "out" / "prometheus" / "tests" / "edge.pop-reachable.test.yaml"
METRIC = 'probe_success{job="blackbox-edge", module="http_2xx", region="%s", instance="%s"}'
LABELS = 'owner="netops", service="edge", slo="pop-reachable"'


def _promtool(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", "test", "rules", str(path)], capture_output=True, text=True, check=False)


def _write(tmp_path: Path, interval: str, series: list[dict[str, str]], checks: list[dict[str, Any]]) -> Path:
    groups = yaml.safe_load(TESTS.read_text())["group_eval_order"]
    data = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "group_eval_order": groups,
        "tests": [{"interval": interval, "input_series": series, "promql_expr_test": checks}],
    }
    path = tmp_path / "probe.test.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_region_whose_probes_all_fail_pages_alone_with_its_labels(promtool: str, tmp_path: Path) -> None:
    """Written by hand, not by slogen: eu-west's two probes fail every check for 15
    minutes, us-east's succeed; only eu-west's alert fires, with the page's labels."""
    series = [
        {"series": METRIC % ("eu-west", "ams-1"), "values": "0x15"},
        {"series": METRIC % ("eu-west", "fra-1"), "values": "0x15"},
        {"series": METRIC % ("us-east", "iad-1"), "values": "1x15"},
    ]
    alert = f'alertname="EdgePopUnreachable", alertstate="firing", {LABELS}, region="eu-west"'
    checks = [
        {
            "expr": 'ALERTS{alertname="EdgePopUnreachable", alertstate="firing"}',
            "eval_time": "15m",
            "exp_samples": [
                {"labels": f'ALERTS{{{alert}, routing_key="edge-oncall", severity="critical"}}', "value": 1},
                {"labels": f'ALERTS{{{alert}, severity="warning"}}', "value": 1},
            ],
        },
        {
            # every sample failed in eu-west, none in us-east: one ratio per region
            "expr": 'slo:sli_error:ratio_rate5m{slo="pop-reachable"}',
            "eval_time": "15m",
            "exp_samples": [
                {"labels": f'slo:sli_error:ratio_rate5m{{{LABELS}, region="eu-west"}}', "value": 1},
                {"labels": f'slo:sli_error:ratio_rate5m{{{LABELS}, region="us-east"}}', "value": 0},
            ],
        },
    ]
    result = _promtool(_write(tmp_path, "1m", series, checks))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_generated_tests_pass_and_fail_once_the_rules_lose_the_grouping(promtool: str, tmp_path: Path) -> None:
    result = slogen("generate", "--spec", str(CASE / "slo"), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    tests = tmp_path / "out" / "prometheus" / "tests" / "edge.pop-reachable.test.yaml"
    assert _promtool(tests).returncode == 0
    rules = tmp_path / "out" / "prometheus" / "rules" / "edge.pop-reachable.yaml"
    assert "sum by (region) (" in rules.read_text()
    rules.write_text(rules.read_text().replace("sum by (region) (", "sum ("))
    run = _promtool(tests)
    # the burning group's alert is expected with its region; the ungrouped rule gives none
    assert run.returncode == 1 and 'region="eu-0"' in run.stdout + run.stderr


def test_the_generated_tests_sample_every_second_and_the_late_group_starts_30_minutes_in() -> None:
    tests = yaml.safe_load(TESTS.read_text())["tests"]
    burns = [t for t in tests if "SLOMetricAbsent" not in t["name"]]
    assert burns and all(t["interval"] == probe.INTERVAL for t in burns)
    late = next(t for t in burns if "appears after 30m" in t["name"])
    early = [s for s in late["input_series"] if 'region="eu-0"' in s["series"]]
    later = [s for s in late["input_series"] if 'region="eu-01"' in s["series"]]
    assert early and later
    # Every series spans the same seconds (the sparse one stops after its last 0); the
    # late ones are empty for the first 1,800.
    steady = [s for s in early + later if "slogen-sparse" not in s["series"]]
    lengths = {_samples(s["values"]) for s in steady}
    assert len(lengths) == 1, lengths
    assert all(_samples(s["values"]) <= min(lengths) for s in later if "slogen-sparse" in s["series"])
    assert all(s["values"].startswith("_x1800 ") for s in later)
    assert not any(s["values"].startswith("_x1800 ") for s in early)


def _samples(values: str) -> int:
    """How many samples (or gaps) a series' notation expands to."""
    count = 0
    for item in values.split():
        if "x" in item:
            start, times = item.split("x")
            count += int(times) + (0 if start == "_" else 1)
        else:
            count += 1
    return count


@pytest.mark.parametrize(
    ("selector", "by", "label"),
    [
        ('up{job="dns"}', {"region": "eu"}, "instance"),
        ('up{job="dns"}', {"instance": "a"}, "slogen_probe"),
        ('up{job="dns", instance="10.0.0.1:9100"}', {"slogen_probe": "a"}, "slogen_probe_"),
    ],
)
def test_a_groups_probes_are_told_apart_by_a_label_neither_pinned_nor_in_by(
    selector: str, by: dict[str, str], label: str
) -> None:
    sli = m.ProbeSLI(parse_selector(selector))
    series = probe.probe_series(sli, probe.Plan(good=2, bad=1, sparse=0), 60, by)
    texts = [s["series"] for s in series]
    assert len(set(texts)) == 3
    assert all(f'{label}="slogen-' in t for t in texts), texts
    assert all(f'{k}="{v}"' in t for t in texts for k, v in by.items())


def test_two_groups_of_a_probe_differ_in_each_by_label_its_selector_allows() -> None:
    sli = m.ProbeSLI(parse_selector('probe_success{job="blackbox", region=~"eu-.+"}'))
    first, second = group_tests.group_pair(sli, ("region", "instance"))
    assert first["region"] != second["region"] and first["instance"] != second["instance"]
    assert all(v.startswith("eu-") for v in (first["region"], second["region"]))


def test_a_probe_grouped_by_a_label_its_selector_pins_cannot_be_tested() -> None:
    sli = m.ProbeSLI(parse_selector('probe_success{job="blackbox", region="eu-west"}'))
    with pytest.raises(ValueError, match="only one value of region"):
        group_tests.group_pair(sli, ("region",))


def test_explain_counts_what_a_region_costs_and_says_samples() -> None:
    text = " ".join(slogen("explain", "--spec", "slo", "edge/pop-reachable", cwd=CASE).stdout.split())
    assert "per value of region: its own SLI, error budget and burn-rate alerts" in text
    assert "from its first sample on" in text
    assert "Cost: 16 recorded series per value, 2 more once per SLO" in text


def test_the_dashboard_and_catalog_know_the_groups() -> None:
    board = yaml.safe_load((CASE / "out" / "grafana" / "edge.json").read_text())
    names = [v["name"] for v in board["templating"]["list"]]
    assert "region" in names and "instance" in names
    catalog = (CASE / "out" / "docs" / "alerts.md").read_text()
    assert "Grouped by region: each value has its own budget and fires on its own." in catalog
