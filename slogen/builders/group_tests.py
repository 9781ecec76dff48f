"""promtool unit tests for an SLO with `by`: two groups side by side prove that each value
has its own SLI, budget and alerts. One group burns and one is healthy: only the burning
one's alert fires, with its labels; a group whose series appear half an hour late and burn
fires too (a route deployed tomorrow is watched without a change to the rules)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .. import conventions as c
from .. import model as m
from ..promql import Selector, _regex_example
from ..quantity import fmt
from . import probe
from . import queries as q
from . import series as sx
from .rules import BurnRule, burn_rule_labels
from .slo_tests import (
    BURN_EVAL_MS,
    MINUTE,
    Test,
    _burn_scenarios,
    _thresholds,
    build_absent_tests,
    expect_alerts,
    firing_rules,
)
from .slo_tests import ms_text as _ms
from .slo_tests import points_for as _points

LATE_START_MS = 30 * MINUTE  # the second group's series begin this late in the "appears later" test


GroupedSLI = m.RatioSLI | m.LatencySLI | m.ProbeSLI
Level = Decimal | probe.Plan  # what a group's series are written at: an error ratio, or a probe's plan
Scenario = tuple[str, Decimal, Level]  # (test name, steady error ratio, level)


def build_grouped_slo_tests(slo: m.SLO) -> list[Test]:
    sli = slo.sli
    # refused in the spec (resolve_checks.ungroupable): raw SLIs and event expressions
    assert isinstance(sli, GroupedSLI)
    burning, healthy = group_pair(sli, slo.by)
    minutes = _points(_eval_ms(slo))
    tests: list[Test] = []
    period_checked = False
    for name, rho, level in _scenarios(slo, sli):
        firing = _firing(slo, rho)
        checks = [expect_alerts(slo.alert_name, _eval_ms(slo), [_alert_labels(slo, burning, s) for s in firing])]
        if firing and not period_checked:
            checks.append(_period_check(slo, burning, healthy))
            period_checked = True
        tests.append(
            {
                "name": f"{_show(burning)} at an error ratio of {_ratio(sli, rho)}, {_show(healthy)} at 0: {name}",
                "interval": _interval(sli),
                "input_series": _series(sli, level, minutes, burning) + _series(sli, _healthy(sli), minutes, healthy),
                "promql_expr_test": checks,
            }
        )
    tests += _late_group_tests(slo, sli, burning, healthy)
    # Present for the absent-data test: 1m samples whatever the kind (a gauge of 1s is 1s).
    present = [s for group in (burning, healthy) for s in _series_1m(sli, _points(20 * MINUTE), group)]
    return tests + build_absent_tests(slo, present)


def _scenarios(slo: m.SLO, sli: GroupedSLI) -> list[Scenario]:
    """The burn-rate scenarios of the ungrouped tests, each written for one group: a
    probe's at the share of failed samples its plan makes (near 1.1x and 0.9x each
    severity's lowest threshold), the other kinds' at the error ratio itself."""
    if not isinstance(sli, m.ProbeSLI):
        out: list[Scenario] = []
        for name, rho in _burn_scenarios(slo):
            assert rho is not None  # None is a raw SLI's own series: refused with by
            out.append((name, rho, rho))
        return out
    scenarios: list[Scenario] = [("no errors: no burn-rate alert", Decimal(0), probe.HEALTHY)]
    for severity, lowest, above, below in _thresholds(slo):
        scenarios += probe.planned(slo.shaping.of(severity).severity, lowest, above, below)
    return scenarios


def _interval(sli: GroupedSLI) -> str:
    """A probe's share of failed samples needs hundreds of samples a window: one a second."""
    return probe.INTERVAL if isinstance(sli, m.ProbeSLI) else "1m"


def _per_minute(sli: GroupedSLI) -> int:
    return MINUTE // probe.INTERVAL_MS if isinstance(sli, m.ProbeSLI) else 1


def _healthy(sli: GroupedSLI) -> Level:
    return probe.HEALTHY if isinstance(sli, m.ProbeSLI) else Decimal(0)


def _series(sli: GroupedSLI, level: Level, minutes: int, group: sx.Labels) -> list[sx.Series]:
    """A group's series over `minutes` minutes at the SLI's own interval."""
    if isinstance(sli, m.ProbeSLI):
        assert isinstance(level, probe.Plan)
        return probe.probe_series(sli, level, minutes * _per_minute(sli), group)
    assert isinstance(level, Decimal)
    return sx.events_series(sli, level, minutes, group=group)


def _series_1m(sli: GroupedSLI, minutes: int, group: sx.Labels) -> list[sx.Series]:
    if isinstance(sli, m.ProbeSLI):
        return probe.probe_series(sli, probe.HEALTHY, minutes, group)
    return sx.events_series(sli, Decimal(0), minutes, group=group)


def _late_group_tests(slo: m.SLO, sli: GroupedSLI, early: sx.Labels, late: sx.Labels) -> list[Test]:
    """A group first seen 30 minutes in, burning at the strongest firing scenario's
    ratio: its alert fires as any other's (the rules name no value)."""
    burns = [(rho, level) for _, rho, level in _scenarios(slo, sli) if _firing(slo, rho)]
    if not burns:
        return []
    rho, level = max(burns, key=lambda burn: burn[0])
    eval_ms = LATE_START_MS + _eval_ms(slo)
    minutes = _points(eval_ms)
    late_minutes = minutes - LATE_START_MS // MINUTE
    gap = f"_x{LATE_START_MS // MINUTE * _per_minute(sli)} "  # in samples of the SLI's interval
    late_series = [
        {"series": s["series"], "values": gap + s["values"]} for s in _series(sli, level, late_minutes, late)
    ]
    labels = [_alert_labels(slo, late, s) for s in _firing(slo, rho)]
    return [
        {
            "name": f"{_show(late)} appears after {_ms(LATE_START_MS)} at {_ratio(sli, rho)} "
            f"while {_show(early)} stays healthy: the new value's alert fires",
            "interval": _interval(sli),
            "input_series": _series(sli, _healthy(sli), minutes, early) + late_series,
            "promql_expr_test": [expect_alerts(slo.alert_name, eval_ms, labels)],
        }
    ]


def _period_check(slo: m.SLO, burning: sx.Labels, healthy: sx.Labels) -> dict[str, Any]:
    """The period's budget is per value: spent in the burning group (sgn 1), whole in the
    healthy one (sgn 0). The sign, not the figure: float noise cannot flip it."""
    remaining = q.recorded(c.PERIOD_BUDGET_REMAINING, slo)
    samples = [
        (sx.series_text("", {**slo.label_dict(), **group}), value) for group, value in ((burning, 1), (healthy, 0))
    ]
    return {
        "expr": f"sgn(1 - {remaining})",
        "eval_time": _ms(_eval_ms(slo)),
        "exp_samples": [{"labels": text, "value": value} for text, value in sorted(samples)],
    }


def _eval_ms(slo: m.SLO) -> int:
    """When a steady burn has fired every tier: a tier's `for` holds it back that much."""
    return BURN_EVAL_MS + max((t.for_ms for t in slo.tiers), default=0)


def _firing(slo: m.SLO, rho: Decimal) -> list[BurnRule]:
    """The burn-rate rules firing once every `for` has passed (at _eval_ms)."""
    return firing_rules(slo, rho, _eval_ms(slo))


def _alert_labels(slo: m.SLO, group: sx.Labels, burn: BurnRule) -> dict[str, str]:
    """The labels the burn-rate alert of a group fires with (alerting: labels and severity
    value included)."""
    return {**burn_rule_labels(slo, burn), **group}


def _ratio(sli: GroupedSLI, rho: Decimal) -> str:
    """A chosen ratio in full (0.0011); a probe's share of failed samples, a fraction
    such as 150/2257, to four figures (the test's name gives the fraction)."""
    return fmt(Decimal(f"{rho:.4g}")) if isinstance(sli, m.ProbeSLI) else fmt(rho)


def _show(group: sx.Labels) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(group.items()))


def sli_selectors(sli: GroupedSLI) -> list[Selector | None]:
    if isinstance(sli, m.ProbeSLI):
        return [sli.metric]
    if isinstance(sli, m.LatencySLI):
        return [sli.histogram]
    return [sli.bad, sli.good, sli.total]


def group_pair(sli: GroupedSLI, by: tuple[str, ...]) -> tuple[sx.Labels, sx.Labels]:
    """Two groups of `by` values that every selector accepts, differing in every label
    that allows a second value (raises ValueError when none does: one group only)."""
    selectors = [s for s in sli_selectors(sli) if s is not None]
    first = sx.group_labels(selectors, by)
    second = dict(first)
    for label in by:
        matchers = [mt for s in selectors for mt in s.matchers if mt.name == label]
        other = next((v for v in _candidates(first[label], matchers) if all(mt.matches(v) for mt in matchers)), None)
        if other is not None:
            second[label] = other
    if second == first:
        shown = ", ".join(f"{k}={v!r}" for k, v in first.items())
        raise ValueError(
            f"slogen finds only one value of {', '.join(by)} that every selector accepts ({shown}), and its tests "
            "need two groups: leave it out of by, or widen the selectors"
        )
    return first, second


def _candidates(first: str, matchers: list[Any]) -> list[str]:
    """Values to try for a second group, other than `first`: close variants of it (a
    regex such as `eu-.+` accepts `eu-01`), each alternative of a regex, then fixed ones."""
    out = [first + "1", first + "-2"]
    for mt in matchers:
        if mt.op == "=~" and "(" not in mt.value:
            out += [_regex_example(alt) for alt in mt.value.split("|")]
    out += [sx.GROUP_VALUE + "-2", "x", "0"]
    return [v for v in out if v and v != first]
