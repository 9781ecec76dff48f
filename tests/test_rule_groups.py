"""What runs every minute and what every 2m30s (issue 12: rule evaluation cost).

Per-rule overhead dominates what an SLO's rules cost Prometheus (bench/rules_cost.py), so
only what pages read runs every minute: the 5m rates and ratio, the page windows and the
pages. The windows only tickets read, the current burn rate, the tickets and the
absent-data alert run in the period group, every 2m30s. The generated promtool tests
prove every alert as before; these tests pin the layout on every golden case."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from slogen import api
from slogen import conventions as c
from slogen import model as m
from slogen.builders.rules import build_slo_groups
from slogen.quantity import parse_duration

from .golden import cases


def _slos(case: Path) -> list[m.SLO]:
    options = api.Options(spec_dir=case / "slo", out_dir=case / "out", templates=None)
    return api.load_model(options).slos()


def _reads(rule: dict[str, Any]) -> set[str]:
    return set(re.findall(r"\b(slo:[a-z_:0-9]+)\{", rule["expr"]))


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_pages_read_only_what_runs_every_minute_and_tickets_run_every_2m30s(case: Path) -> None:
    slos = _slos(case)
    assert slos
    for slo in slos:
        main, coarse, period = build_slo_groups(slo)
        assert "interval" not in main and period["interval"] == c.PERIOD_GROUP_INTERVAL == "2m30s"
        recorded_here = {r["record"] for r in main["rules"] if "record" in r}
        pages = [r for r in main["rules"] if "alert" in r]
        # Every alert of the main group is a page, and reads only what the main group records.
        assert all(r["alert"] == slo.alert_name for r in pages), (slo.id, pages)
        page_label = slo.shaping.of(c.SEVERITY_CRITICAL).severity
        assert all(r["labels"][c.LABEL_SEVERITY] == page_label for r in pages), slo.id
        for page in pages:
            assert _reads(page) <= recorded_here, (slo.id, _reads(page) - recorded_here)
        # ... and it records nothing else but the 5m level the other windows are made of.
        read_by_pages = set().union(*(_reads(p) for p in pages))
        base = {c.BAD_RATE, c.TOTAL_RATE, c.error_ratio(c.BASE_WINDOW_MS)}
        assert recorded_here <= read_by_pages | base, (slo.id, recorded_here - read_by_pages - base)
        # Every other alert (the tickets, the absent-data alert) runs in the period group.
        alerts = [r for g in (main, coarse, period) for r in g["rules"] if "alert" in r]
        tickets = [r for r in period["rules"] if "alert" in r]
        assert len(pages) + len(tickets) == len(alerts), slo.id
        assert not [r for r in coarse["rules"] if "alert" in r]


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_every_alert_window_and_documented_series_is_still_recorded_once(case: Path) -> None:
    for slo in _slos(case):
        records = [r["record"] for g in build_slo_groups(slo) for r in g["rules"] if "record" in r]
        assert len(records) == len(set(records)), slo.id
        windows = {*slo.windows, slo.period_ms}
        assert {c.error_ratio(w) for w in windows} <= set(records), slo.id
        assert {c.CURRENT_BURN_RATE, c.OBJECTIVE, c.ERROR_BUDGET, c.PERIOD_SLI} <= set(records), slo.id


def test_the_launch_plans_availability_slo_runs_7_rules_a_minute_instead_of_13() -> None:
    """The figure bench/rules_cost.py and the README count: 21 rules, of which 7 every
    minute, 2 every 30 minutes and 12 every 2m30s (before: 13, 2 and 6)."""
    slo = next(s for s in _slos(Path(__file__).parent / "cases/plan") if s.id == "availability")
    groups = build_slo_groups(slo)
    assert [len(g["rules"]) for g in groups] == [7, 2, 12]
    per_minute = sum(len(g["rules"]) * 60_000 / parse_duration(g.get("interval", "1m")) for g in groups)
    assert round(per_minute, 2) == 11.87  # before: 13 + 2/30 + 6/2.5 = 15.47
