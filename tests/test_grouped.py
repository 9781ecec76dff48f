"""SLOs with `by:` (tests/cases/grouped): every recording keeps the group labels but the
objective and budget, the overview's queries give one row per value, and the generated
tests would catch rules that lost the grouping. Evaluated by promtool, not read."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from .conftest import REPO, slogen

CASE = REPO / "tests" / "cases" / "grouped"
EVAL = "12m"
# Two routes of the storefront: /cart fails 10% of its requests, /home none (its 5xx
# series never existed: the zero stands in).
INPUT = [
    {"series": 'storefront_http_requests_total{job="storefront", code="500", route="/cart"}', "values": "0+60x20"},
    {"series": 'storefront_http_requests_total{job="storefront", code="200", route="/cart"}', "values": "0+540x20"},
    {"series": 'storefront_http_requests_total{job="storefront", code="200", route="/home"}', "values": "0+600x20"},
]
LABELS = 'owner="web", service="storefront", slo="requests"'


def _promtool(tmp_path: Path, tests: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    """Run promql_expr_tests against the grouped case's `requests` rules."""
    rules = CASE / "out" / "prometheus" / "rules" / "storefront.requests.yaml"
    groups = ["slogen:storefront:requests", "slogen:storefront:requests:30m", "slogen:storefront:requests:period"]
    data = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "group_eval_order": groups,
        "tests": [{"interval": "1m", "input_series": INPUT, "promql_expr_test": tests}],
    }
    path = tmp_path / "grouped.test.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return subprocess.run(["promtool", "test", "rules", str(path)], capture_output=True, text=True, check=False)


def _recorded_names() -> list[str]:
    data = yaml.safe_load((CASE / "out" / "prometheus" / "rules" / "storefront.requests.yaml").read_text())
    return sorted({r["record"] for g in data["groups"] for r in g["rules"] if "record" in r})


def test_every_recording_of_a_grouped_slo_is_per_value_but_the_objective_and_budget(
    promtool: str, tmp_path: Path
) -> None:
    names = _recorded_names()
    meta = {"slo:objective:ratio", "slo:error_budget:ratio"}
    per_value = [n for n in names if n not in meta]
    assert len(per_value) == 16 and meta <= set(names)
    expected = [{"labels": f'{{__name__="{n}"}}', "value": 2} for n in per_value]
    check = {
        "expr": 'count by (__name__) ({__name__=~"slo:.*", slo="requests", route=~"/cart|/home"})',
        "eval_time": EVAL,
        "exp_samples": expected,
    }
    meta_check = {
        "expr": 'count by (__name__) ({__name__=~"slo:objective:ratio|slo:error_budget:ratio", slo="requests"})',
        "eval_time": EVAL,
        "exp_samples": [{"labels": f'{{__name__="{n}"}}', "value": 1} for n in sorted(meta)],
    }
    result = _promtool(tmp_path, [check, meta_check])
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_burning_route_alerts_and_spends_its_budget(promtool: str, tmp_path: Path) -> None:
    firing = [
        {"labels": f'ALERTS{{alertname="SLOErrorBudgetBurn", alertstate="firing", {LABELS}, route="/cart", severity="{s}"}}', "value": 1}
        for s in ("critical", "warning")
    ]
    budget = {
        "expr": 'round(slo:period_error_budget_remaining:ratio{slo="requests"}, 0.01)',
        "eval_time": EVAL,
        # 10% errors against a 0.5% budget: 20 budgets spent; /home spent none.
        "exp_samples": [
            {"labels": f'{{{LABELS}, route="/cart"}}', "value": -19},
            {"labels": f'{{{LABELS}, route="/home"}}', "value": 1},
        ],
    }
    alerts = {"expr": 'ALERTS{alertname="SLOErrorBudgetBurn"}', "eval_time": EVAL, "exp_samples": firing}
    result = _promtool(tmp_path, [alerts, budget])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_overview_lists_one_row_per_value_with_the_objective_joined(promtool: str, tmp_path: Path) -> None:
    board = json.loads((CASE / "out" / "grafana" / "overview.json").read_text())
    table = next(p for p in board["panels"] if p["type"] == "table")
    exprs = [t["expr"] for t in table["targets"]]
    row = 'service="storefront", slo="requests", route="{}"'
    expected = [
        [0.995, 0.995],  # objective, joined onto each value's row
        [0.9, 1],  # SLI over the period
        [-19, 1],  # budget left
        [None, None],  # burn rate now: float noise, checked for its rows only below
        [2, 0],  # alerts firing
    ]
    tests = []
    for expr, values in zip(exprs, expected, strict=True):
        if values[0] is None:
            expr = f"0 * ({expr})"
            values = [0, 0]
        samples = [
            {"labels": "{" + row.format(route) + "}", "value": value}
            for route, value in zip(("/cart", "/home"), values, strict=True)
        ]
        tests.append({"expr": f"round({expr}, 0.001)", "eval_time": EVAL, "exp_samples": samples})
    result = _promtool(tmp_path, tests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_rule_that_lost_its_grouping_fails_the_generated_tests(promtool: str, tmp_path: Path) -> None:
    result = slogen("generate", "--spec", str(CASE / "slo"), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    rules = tmp_path / "out" / "prometheus" / "rules" / "storefront.requests.yaml"
    rules.write_text(rules.read_text().replace("sum by (route) ", "sum "))
    tests = tmp_path / "out" / "prometheus" / "tests" / "storefront.requests.test.yaml"
    run = subprocess.run(["promtool", "test", "rules", str(tests)], capture_output=True, text=True, check=False)
    assert run.returncode == 1 and 'route="slogen-test"' in run.stdout + run.stderr


def test_explain_names_the_groups_and_counts_the_series_a_value_costs() -> None:
    result = slogen("explain", "--spec", str(CASE / "slo"), "storefront/requests")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "per value of route: its own SLI, error budget and burn-rate alerts (labelled with route)" in text
    # Counted from the rules built: 16 recordings keep route, the objective and budget do not.
    assert f"Cost: {len(_recorded_names()) - 2} recorded series per value, 2 more once per SLO (100 values: 1602 series)" in text
    plain = slogen("explain", "--spec", str(CASE / "slo"), "storefront/search")
    assert "per value" not in plain.stdout


def test_explain_says_a_grouped_slos_absent_alert_is_never_inhibited() -> None:
    """The inhibit rule's `equal` has the by labels, which the absent-data alert lacks:
    Alertmanager never matches it, and explain must not claim it does."""
    text = slogen("explain", "--spec", str(CASE / "slo"), "storefront/requests").stdout
    absent = text[text.index("SLOMetricAbsent warning:") :]
    assert absent.splitlines()[2].strip() == "never inhibited: it has no route label, which a page of each value has"
    warning = text[text.index("SLOErrorBudgetBurn warning:") :]
    assert "inhibited while a critical alert of storefront/requests for the same route fires" in warning.split("\n    SLO")[0]


def test_the_dashboard_has_a_variable_per_by_label_and_filters_only_grouped_slos() -> None:
    board = json.loads((CASE / "out" / "grafana" / "storefront.json").read_text())
    variables = [v["name"] for v in board["templating"]["list"]]
    assert variables == ["datasource", "region", "device", "route"]  # in the order of the SLOs (by id)
    search = [p for p in board["panels"] if p.get("title", "").startswith("Traffic")]
    exprs = [t["expr"] for p in search for t in p["targets"]]
    assert any('slo="search"' in e and "$" not in e for e in exprs)  # the ungrouped SLO's panels are unfiltered
    assert any('slo="requests"' in e and 'route=~"$route"' in e for e in exprs)


def test_a_burning_value_inhibits_its_own_warning_and_not_another_values(tmp_path: Path) -> None:
    from .harness import alertmanager, wait_until

    shutil.copytree(CASE / "out" / "alertmanager", tmp_path / "am")
    with alertmanager(tmp_path / "am" / "alertmanager.yml", tmp_path) as am:
        base = {"alertname": "SLOErrorBudgetBurn", "service": "storefront", "slo": "requests", "owner": "web"}
        sent = [("/cart", "critical"), ("/cart", "warning"), ("/home", "warning")]
        am.post("/api/v2/alerts", [{"labels": {**base, "route": r, "severity": s}} for r, s in sent])

        def states() -> dict[tuple[str, str], list[str]] | None:
            alerts = am.get("/api/v2/alerts")
            got = {(a["labels"]["route"], a["labels"]["severity"]): a["status"]["inhibitedBy"] for a in alerts}
            return got if len(got) == 3 and got[("/cart", "warning")] else None

        got = wait_until(states, 20, "the /cart warning to be inhibited", am)
        assert got[("/cart", "critical")] == []
        assert len(got[("/cart", "warning")]) == 1  # inhibited by its own route's critical alert
        assert got[("/home", "warning")] == []  # another route of the same SLO: not inhibited


def test_a_route_matching_a_by_value_is_proven_by_amtool_and_raises_no_warning(tmp_path: Path) -> None:
    tests = yaml.safe_load((CASE / "out" / "alertmanager" / "tests" / "routes.yaml").read_text())
    checkout = [t for t in tests if t["labels"].get("route") == "/checkout"]
    # The grouped SLO's two severities and its ratio_of alert, which watches each route too.
    assert sorted((t["labels"]["slo"], t["labels"]["severity"]) for t in checkout) == [
        ("requests", "critical"),
        ("requests", "warning"),
        ("route-errors", "critical"),
    ]
    assert all("checkout-slack" in t["receivers"] for t in checkout)
    result = slogen("generate", "--spec", str(CASE / "slo"), "--out", str(tmp_path / "out"))
    assert result.returncode == 0 and "match.route" not in result.stderr, result.stderr
