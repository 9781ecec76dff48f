"""The launch plan's expected behaviours, proven by promtool over hand-written series
against the plan's rules in tests/cases/plan/out (not numbers slogen computed itself)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from .conftest import PLAN, REPO, slogen

API = {"job": "api"}
PAGE = 'ALERTS{alertname="SLOErrorBudgetBurn", alertstate="firing", service="api", slo="availability", severity="critical"}'
TICKET = (
    'ALERTS{alertname="SLOErrorBudgetBurn", alertstate="firing", service="api", slo="availability", severity="warning"}'
)
FIRING_LABELS = '{__name__="ALERTS", alertname="SLOErrorBudgetBurn", alertstate="firing", owner="platform", service="api", severity="%s", slo="availability"}'


def requests(
    healthy_minutes: int, bad_minutes: int, error_ratio: float, after_minutes: int = 0
) -> list[dict[str, str]]:
    """6,000 requests a minute: a healthy stretch, then `error_ratio` of 5xx, then healthy."""
    per_minute = 6000
    bad = per_minute * error_ratio
    ok_values = f"0+{per_minute}x{healthy_minutes}"
    err_values = f"0+0x{healthy_minutes}"
    ok_total = per_minute * healthy_minutes
    err_total = 0.0
    if bad_minutes:
        ok_values += f" {ok_total + per_minute - bad:g}+{per_minute - bad:g}x{bad_minutes - 1}"
        err_values += f" {bad:g}+{bad:g}x{bad_minutes - 1}"
        ok_total += (per_minute - bad) * bad_minutes
        err_total += bad * bad_minutes
    if after_minutes:
        ok_values += f" {ok_total + per_minute:g}+{per_minute}x{after_minutes - 1}"
        err_values += f" {err_total:g}x{after_minutes - 1}"
    return [
        {"series": 'http_requests_total{job="api", route="/projects", status="200"}', "values": ok_values},
        {"series": 'http_requests_total{job="api", route="/projects", status="500"}', "values": err_values},
    ]


def run_promtool(
    promtool: str, tmp_path: Path, rules: list[str], test: dict[str, Any], eval_interval: str = "1m"
) -> str:
    for rel in rules:
        shutil.copy(PLAN / "out" / "prometheus" / "rules" / rel, tmp_path / Path(rel).name)
    doc = {"rule_files": [Path(r).name for r in rules], "evaluation_interval": eval_interval, "tests": [test]}
    (tmp_path / "scenario.test.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    result = subprocess.run(
        [promtool, "test", "rules", "scenario.test.yaml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def firing(expr: str, at: str, severity: str | None) -> dict[str, Any]:
    samples = [{"labels": FIRING_LABELS % severity, "value": 1}] if severity else []
    return {"expr": expr, "eval_time": at, "exp_samples": samples}


def never(expr: str, until: str) -> dict[str, Any]:
    return {"expr": f"count_over_time({expr}[{until}])", "eval_time": until, "exp_samples": []}


def test_a_sustained_10_percent_5xx_rate_pages_within_15_minutes(promtool: str, tmp_path: Path) -> None:
    run_promtool(
        promtool,
        tmp_path,
        ["api.availability.yaml"],
        {
            "interval": "1m",
            "input_series": requests(healthy_minutes=360, bad_minutes=30, error_ratio=0.10),
            "promql_expr_test": [
                firing(PAGE, "360m", None),  # healthy so far
                firing(PAGE, "375m", "critical"),  # 15 minutes into the incident
            ],
        },
    )


def test_a_two_minute_spike_of_errors_pages_no_one(promtool: str, tmp_path: Path) -> None:
    run_promtool(
        promtool,
        tmp_path,
        ["api.availability.yaml"],
        {
            "interval": "1m",
            "input_series": requests(healthy_minutes=360, bad_minutes=2, error_ratio=0.10, after_minutes=120),
            "promql_expr_test": [never(PAGE, "480m"), never(TICKET, "480m")],
        },
    )


def test_a_steady_half_percent_5xx_rate_tickets_within_hours_and_never_pages(promtool: str, tmp_path: Path) -> None:
    healthy = 3 * 24 * 60  # three healthy days, then 0.5% of 5xx (5x the budget) for a day
    run_promtool(
        promtool,
        tmp_path,
        ["api.availability.yaml"],
        {
            "interval": "1m",
            "input_series": requests(healthy_minutes=healthy, bad_minutes=24 * 60, error_ratio=0.005),
            "promql_expr_test": [
                firing(TICKET, f"{healthy + 12 * 60}m", None),  # 12h in: not yet
                firing(TICKET, f"{healthy + 16 * 60}m", "warning"),  # 16h in: ticket
                never(PAGE, f"{healthy + 24 * 60}m"),
            ],
        },
        eval_interval="5m",
    )


def test_error_rate_above_5_percent_for_5_minutes_is_critical(promtool: str, tmp_path: Path) -> None:
    expr = 'ALERTS{alertname="ErrorRate", alertstate="firing"}'
    labels = '{__name__="ALERTS", alertname="ErrorRate", alertstate="firing", owner="platform", service="api", severity="%s", slo="error-rate"}'
    run_promtool(
        promtool,
        tmp_path,
        ["api.error-rate.yaml", "api.availability.yaml"],
        {
            "interval": "1m",
            "input_series": requests(healthy_minutes=30, bad_minutes=30, error_ratio=0.06),
            "promql_expr_test": [
                # At 6% of 5xx from minute 30, the 5m error ratio crosses 5% about 4 minutes
                # in; then it must hold for 5 minutes.
                {"expr": expr, "eval_time": "37m", "exp_samples": []},
                # By 43m the 1% warning (above it since ~31m, for 10m) fires as well.
                {
                    "expr": expr,
                    "eval_time": "43m",
                    "exp_samples": [{"labels": labels % s, "value": 1} for s in ("critical", "warning")],
                },
            ],
        },
    )


def test_a_cache_slo_of_80_percent_cannot_page_and_slogen_says_so(tmp_path: Path) -> None:
    spec = tmp_path / "slo"
    spec.mkdir()
    text = (PLAN / "slo" / "cache.yaml").read_text().replace("burn_rate_alerts: {page: false}", "")
    (spec / "cache.yaml").write_text(text)
    result = slogen("generate", "--spec", str(spec), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "can never fire" in line]
    assert len(warnings) == 4  # two page tiers of each of the two cache SLOs
    assert warnings[0].startswith("warning: ") and "14.4x the 20% error budget is an error ratio of 288%" in "\n".join(
        warnings
    )
    rules = yaml.safe_load((tmp_path / "out/prometheus/rules/cache.project-list-hit-rate.yaml").read_text())
    severities = [
        r["labels"]["severity"] for g in rules["groups"] for r in g["rules"] if r.get("alert") == "SLOErrorBudgetBurn"
    ]
    assert severities == ["warning"]
    explained = slogen("explain", "--spec", str(spec), "cache/project-list-hit-rate").stdout
    assert "not generated: critical 1h/5m at 14.4x: can never fire" in explained


def test_latency_buckets_match_prometheus_3_le_labels(promtool: str, tmp_path: Path) -> None:
    """Prometheus 3 writes le="1.0" where Prometheus 2 wrote le="1": both must count."""
    rules = REPO / "tests/cases/variety/out/prometheus/rules/checkout.render.yaml"
    shutil.copy(rules, tmp_path / "render.yaml")
    for le_one in ("1", "1.0"):
        doc = {
            "rule_files": ["render.yaml"],
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        {"series": f'page_render_seconds_bucket{{job="checkout", le="{le}"}}', "values": f"0+{n}x30"}
                        for le, n in (("0.5", 50), (le_one, 90), ("2", 95), ("5", 100), ("+Inf", 100))
                    ],
                    "promql_expr_test": [
                        {
                            "expr": 'round(slo:sli_error:ratio_rate5m{slo="render"}, 0.0001)',
                            "eval_time": "20m",
                            "exp_samples": [
                                {
                                    "labels": '{owner="payments", service="checkout", slo="render", tier="1"}',
                                    "value": 0.1,
                                }
                            ],
                        }
                    ],
                }
            ],
        }
        (tmp_path / "le.test.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        result = subprocess.run(
            [promtool, "test", "rules", "le.test.yaml"], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"le={le_one}: " + result.stdout + result.stderr


def test_a_cache_that_only_misses_alerts_on_its_hit_rate(promtool: str, tmp_path: Path) -> None:
    """`by: [cache]` over hits and misses: a cache with no hit series at all (every lookup
    a miss) still has a hit rate, 0%, and alerts; the healthy cache beside it does not."""
    api = 'job="api"'
    series = [
        {"series": f'cache_miss_total{{{api}, cache="project_list"}}', "values": "0+100x40"},
        {"series": f'cache_hit_total{{{api}, cache="job_read"}}', "values": "0+90x40"},
        {"series": f'cache_miss_total{{{api}, cache="job_read"}}', "values": "0+10x40"},
    ]
    labels = '{__name__="ALERTS", alertname="HitRate", alertstate="firing", cache="project_list", owner="platform", service="cache", severity="warning", slo="hit-rate"}'
    expr = 'ALERTS{alertname="HitRate", alertstate="firing"}'
    test = {
        "interval": "1m",
        "input_series": series,
        "promql_expr_test": [{"expr": expr, "eval_time": "30m", "exp_samples": [{"labels": labels, "value": 1}]}],
    }
    run_promtool(promtool, tmp_path, ["cache.hit-rate.yaml"], test)
