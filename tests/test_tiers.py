"""Burn-rate tiers for every period from 1h to a year, and the warnings about tiers that
are not generated."""

from __future__ import annotations

import re
import shutil
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from slogen import conventions as c
from slogen import spec as s
from slogen.quantity import format_duration, parse_duration
from slogen.tiers import plan_tiers

from .conftest import REPO, slogen

HOUR = 3_600_000
DAY = 24 * HOUR
# Every period from 1h to a year: hours, then days, then weeks.
PERIODS = [h * HOUR for h in range(1, 24)] + [d * DAY for d in range(1, 60)] + [w * 7 * DAY for w in range(9, 53)]
OBJECTIVES = [Decimal(x) for x in ("0.5", "0.8", "0.9", "0.95", "0.99", "0.995", "0.999", "0.9999")]


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_every_generated_tier_has_sane_windows_and_factor_for_every_period(objective: Decimal) -> None:
    """short >= the 5m rate window, long > short, long <= period, factor >= 1, and the
    tier can fire (factor x budget < 100%) before the whole budget is spent."""
    for period in PERIODS:
        plan = plan_tiers(objective, period, s.BurnRateAlerts())
        for t in plan.kept:
            where = f"{format_duration(period)} at {objective}: {t}"
            assert c.BASE_WINDOW_MS <= t.short_ms < t.long_ms <= period, where
            assert t.factor >= 1, where
            assert t.factor * (1 - objective) < 1, where
            assert t.budget_share < 1, where
            assert float(t.factor * t.long_ms / period) == pytest.approx(float(t.budget_share), rel=0.01), where


def test_from_5_days_up_the_factors_are_the_workbooks() -> None:
    for period in (p for p in PERIODS if p >= 5 * DAY):
        factors = [t.factor for t in plan_tiers(Decimal("0.999"), period, s.BurnRateAlerts()).kept]
        assert factors == [Decimal("14.4"), Decimal(6), Decimal(3), Decimal(1)], format_duration(period)


def test_a_budget_spent_within_a_minute_gets_no_tier_and_a_warning_saying_why() -> None:
    plan = plan_tiers(Decimal("0.999"), parse_duration("1h"), s.BurnRateAlerts())
    assert plan.kept == ()
    assert all(d.reason.startswith("fires only after the whole budget is spent") for d in plan.dropped)
    assert plan.warnings == (
        "no burn-rate alert generated: the whole error budget is 3s600ms of total outage in 1h, spent before any "
        "alert can fire (a scrape and a rule evaluation take a minute); lower the objective or lengthen the window",
    )


def test_same_window_tiers_keep_the_lowest_factor() -> None:
    plan = plan_tiers(Decimal("0.99"), parse_duration("12h"), s.BurnRateAlerts())
    pages = [
        (format_duration(t.long_ms), format_duration(t.short_ms), str(t.factor))
        for t in plan.kept
        if t.severity == "critical"
    ]
    assert pages == [("10m", "5m", "1.44")]
    assert [d.reason for d in plan.dropped] == ["redundant: the tier over the same windows at 1.44x fires first"]


# --- point 7: the advice of the "can never fire" warning must not cost a working tier --


def _service(tmp_path: Path, objective: str, extra: str = "") -> Path:
    spec = tmp_path / "slo"
    spec.mkdir()
    (spec / "svc.yaml").write_text(
        textwrap.dedent(
            f"""\
            version: 1
            service: svc
            slos:
              hits:
                objective: {objective}
                ratio:
                  good: hits_total{{job="svc"}}
                  total: lookups_total{{job="svc"}}
            {extra}"""
        )
    )
    return spec


def _tier_warnings(stderr: str) -> list[str]:
    """Warnings but the one about the missing routing file (these fixtures have none)."""
    return [line for line in stderr.splitlines() if line.startswith("warning:") and "no routing file" not in line]


def _rules(tmp_path: Path) -> str:
    return (tmp_path / "out" / "prometheus" / "rules" / "svc.hits.yaml").read_text()


def _alert_rules(tmp_path: Path) -> list[dict[str, object]]:
    groups = yaml.safe_load(_rules(tmp_path))["groups"]
    return [r for g in groups for r in g["rules"] if "alert" in r]


def test_a_dead_page_tier_beside_a_working_one_is_named_with_the_line_that_leaves_out_only_it(tmp_path: Path) -> None:
    """90%: a 10% budget; 14.4x (144%) can never fire, 6x (60%) can. `page: false` would
    lose the 6x tier: the warning names the dead tier and prints the `alerting.tiers` that
    keeps every other one; with that line the alerts are the same and nothing is warned."""
    spec = _service(tmp_path, "90%")
    result = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "page: false" not in result.stderr
    [warning] = _tier_warnings(result.stderr)
    assert "slos.hits: page tier 1h/5m at 14.4x can never fire" in warning
    line = re.search(r"give this SLO (alerting: \{tiers: \[.*\]\})\)$", warning)
    assert line, warning
    assert line.group(1).count("severity:") == 3 and "factor: 14.4" not in line.group(1)
    before = _alert_rules(tmp_path)
    assert 'slo:sli_error:ratio_rate6h{service="svc", slo="hits"} / 0.1 > 6' in _rules(tmp_path)
    explained = slogen("explain", "--spec", "slo", "svc/hits", cwd=tmp_path).stdout
    assert "not generated: critical 1h/5m at 14.4x: can never fire" in explained
    assert "critical  6h    30m    6x" in explained
    shutil.rmtree(tmp_path / "out")
    spec.joinpath("svc.yaml").write_text(spec.joinpath("svc.yaml").read_text() + f"    {line.group(1)}\n")
    result = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0 and not _tier_warnings(result.stderr), result.stderr
    assert _alert_rules(tmp_path) == before


def test_when_every_page_tier_is_dead_the_warning_advises_page_false_and_it_costs_nothing(tmp_path: Path) -> None:
    spec = _service(tmp_path, "80%")
    result = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("set burn_rate_alerts.page: false to say so in the spec") == 2
    assert "no page tier of this SLO can fire" in result.stderr
    before = _rules(tmp_path)
    shutil.rmtree(tmp_path / "out")
    spec.joinpath("svc.yaml").write_text(
        spec.joinpath("svc.yaml").read_text() + "    burn_rate_alerts: {page: false}\n"
    )
    result = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0 and not _tier_warnings(result.stderr), result.stderr
    assert _rules(tmp_path) == before  # the advice changed nothing that was generated
    assert "severity: warning" in before and "severity: critical" not in before


def test_the_readmes_table_of_windows_and_factors_is_what_slogen_generates() -> None:
    readme = (REPO / "README.md").read_text()
    rows = re.findall(r"^\| (\d+[hd]) \| ([^|]+?) \| ([^|]+?) \|$", readme, re.M)  # three cells: not the catalog excerpt
    assert len(rows) == 6
    for period, critical, warning in rows:
        objective = Decimal("0.9" if period == "1h" else "0.99")  # as the table's heading says
        kept = plan_tiers(objective, parse_duration(period), s.BurnRateAlerts()).kept
        for severity, text in ((c.SEVERITY_CRITICAL, critical), (c.SEVERITY_WARNING, warning)):
            tiers = [t for t in kept if t.severity == severity]
            expected = ", ".join(
                f"{format_duration(t.long_ms)}/{format_duration(t.short_ms)} {t.factor}×" for t in tiers
            )
            assert text == (expected or "none (the page over the same windows fires first)"), period
