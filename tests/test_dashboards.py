"""Grafana dashboards: one per service and an overview, every panel query checked with
promtool and against the series the rules record, variables declared, grid respected."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from slogen import api
from slogen.errors import CheckFailed

from .conftest import PLAN, REPO, slogen
from .golden import cases

TREES = [c / "out" for c in cases()]
GRAFANA = PLAN / "out/grafana"


def board(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GRAFANA / f"{name}.json").read_text())
    return data


@pytest.mark.parametrize("tree", TREES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_dashboard_passes_the_checks(promtool: str, tree: Path) -> None:
    report = api.check_dashboards(tree)
    assert report[0].startswith("dashboards: passed (")


def test_the_plan_has_a_dashboard_per_service_and_an_overview() -> None:
    assert sorted(p.name for p in GRAFANA.glob("*.json")) == [
        "api.json",
        "cache.json",
        "db.json",
        "overview.json",
        "redis.json",
    ]
    assert [board(s)["uid"] for s in ("api", "cache", "db", "redis", "overview")] == [
        "slo-api",
        "slo-cache",
        "slo-db",
        "slo-redis",
        "slogen-overview",
    ]


def test_a_team_with_threshold_alerts_only_gets_its_dashboard_and_no_overview(promtool: str, tmp_path: Path) -> None:
    """The overview reads the SLO recordings: with no SLO anywhere it would show queries of
    series nothing records (validate failed on them). It is left out, and so is the link."""
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo/queue.yaml").write_text(
        "version: 1\nservice: queue\nalerts:\n  depth:\n    gauge: queue_depth{job=\"q\"}\n"
        "    critical: {above: 1000, for: 5m}\n"
    )
    result = slogen("validate", "--spec", "slo", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dashboards: passed (1 query)" in result.stdout
    assert slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path).returncode == 0
    assert sorted(p.name for p in (tmp_path / "out/grafana").glob("*.json")) == ["queue.json"]
    links = json.loads((tmp_path / "out/grafana/queue.json").read_text()).get("links", [])
    assert not [link for link in links if "slogen-overview" in link.get("url", "")]


def test_each_slo_row_has_its_stats_sli_budget_burn_rate_and_traffic() -> None:
    titles = [p["title"] for p in board("api")["panels"]]
    start = titles.index(next(t for t in titles if t.startswith("availability: 99.9% over 30d")))
    assert titles[start + 1 : start + 11] == [
        "Objective",
        "SLI (30d)",
        "Error budget left",
        "Burn rate now",
        "Burn rate (30d)",
        "Alerts firing",
        "SLI and objective",
        "Error budget remaining (30d)",
        "Burn rate per alert window",
        "Traffic and errors (5m rate)",
    ]
    assert "Latency percentiles" in titles  # the latency SLOs show the histogram instead


def test_burn_rate_panels_draw_the_alert_factors() -> None:
    panel = next(p for p in board("api")["panels"] if p["title"] == "Burn rate per alert window")
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [(s["value"], s["color"]) for s in steps] == [
        (None, "green"),
        (1, "orange"),
        (3, "orange"),
        (6, "red"),
        (14.4, "red"),
    ]
    assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] == "line"
    assert [t["legendFormat"] for t in panel["targets"]] == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]


def test_threshold_panels_draw_warning_and_critical_levels() -> None:
    panels = {p["title"]: p for p in board("api")["panels"]}
    error_rate = panels["error-rate: availability error ratio"]
    steps = error_rate["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [(s["value"], s["color"]) for s in steps] == [(None, "green"), (0.01, "orange"), (0.05, "red")]
    assert error_rate["fieldConfig"]["defaults"]["unit"] == "percentunit"
    hit_rate = next(p for p in board("cache")["panels"] if p["title"].startswith("hit-rate"))
    steps = hit_rate["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [(s["value"], s["color"]) for s in steps] == [(None, "orange"), (0.6, "green")]  # below 60%: warning


def test_raw_series_panels_use_the_rate_interval_variable() -> None:
    panel = next(p for p in board("api")["panels"] if p["title"] == "Latency percentiles")
    assert all("[$__rate_interval]" in t["expr"] for t in panel["targets"])
    assert panel["fieldConfig"]["defaults"]["unit"] == "s"


def test_the_overview_lists_every_slo_sorted_by_budget_left_and_links_rows_to_dashboards() -> None:
    table = next(p for p in board("overview")["panels"] if p["type"] == "table")
    assert table["options"]["sortBy"] == [{"displayName": "budget left", "desc": False}]
    link = table["fieldConfig"]["defaults"]["links"][0]["url"]
    assert link.startswith("https://grafana.example.com/d/slo-${__data.fields.service}")
    assert [t["expr"].split("(")[0] for t in table["targets"]][:4] == ["sum by "] * 4


def test_alerts_link_to_their_service_dashboard() -> None:
    rules = yaml.safe_load((PLAN / "out/prometheus/rules/api.availability.yaml").read_text())
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert {r["annotations"]["dashboard_url"] for r in alerts} == {"https://grafana.example.com/d/slo-api"}


def test_provisioning_loads_the_dashboards_from_files() -> None:
    config = yaml.safe_load((GRAFANA / "provisioning/dashboards.yml").read_text())
    provider = config["providers"][0]
    assert provider["type"] == "file" and provider["folder"] == "SLOs"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards/slogen"


def _mutate(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    shutil.copytree(PLAN / "out", tmp_path / "out")
    path = tmp_path / "out/grafana/api.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return tmp_path / "out"


def _set_expr(data: dict[str, Any], expr: str) -> None:
    data["panels"][2]["targets"][0]["expr"] = expr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: _set_expr(d, "slo:no_such:ratio"), "reads slo:no_such:ratio, which no rule records"),
        (lambda d: _set_expr(d, "sum(rate(x[5m]"), "invalid PromQL"),
        (lambda d: _set_expr(d, 'slo:objective:ratio{service="$service"}'), "undeclared variable $service"),
        (lambda d: _set_expr(d, 'slo:objective:ratio{service="$__range"}'), "replace a variable inside the label"),
        (lambda d: d["panels"][3].update(id=d["panels"][2]["id"]), "panel ids repeat"),
        (lambda d: d["panels"][3]["gridPos"].update(x=2), "overlap"),
        (lambda d: d["panels"][3]["gridPos"].update(x=22), "does not fit the 24-column grid"),
    ],
    ids=[
        "unknown series",
        "bad promql",
        "undeclared variable",
        "variable in a label value",
        "duplicate id",
        "overlap",
        "off the grid",
    ],
)
def test_a_broken_dashboard_is_caught(
    promtool: str, tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    root = _mutate(tmp_path, change)
    with pytest.raises(CheckFailed, match=message.replace("$", r"\$")):
        api.check_dashboards(root)
