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
from . import queries as q
from . import series as sx
from .rules import BurnRule, burn_rule_labels
from .slo_tests import BURN_EVAL_MS, MINUTE, Test, _burn_scenarios, build_absent_tests, expect_alerts, firing_rules
from .slo_tests import ms_text as _ms
from .slo_tests import points_for as _points

LATE_START_MS = 30 * MINUTE  # the second group's series begin this late in the "appears later" test


def build_grouped_slo_tests(slo: m.SLO) -> list[Test]:
    sli = slo.sli
    # refused in the spec (resolve_checks.ungroupable): raw SLIs, probes, event expressions
    assert isinstance(sli, m.RatioSLI | m.LatencySLI)
    burning, healthy = group_pair(sli, slo.by)
    points = _points(_eval_ms(slo))
    tests: list[Test] = []
    period_checked = False
    for name, rho in _burn_scenarios(slo):
        assert rho is not None
        firing = _firing(slo, rho)
        checks = [expect_alerts(slo.alert_name, _eval_ms(slo), [_alert_labels(slo, burning, s) for s in firing])]
        if firing and not period_checked:
            checks.append(_period_check(slo, burning, healthy))
            period_checked = True
        tests.append(
            {
                "name": f"{_show(burning)} at an error ratio of {fmt(rho)}, {_show(healthy)} at 0: {name}",
                "interval": "1m",
                "input_series": sx.events_series(sli, rho, points, group=burning)
                + sx.events_series(sli, Decimal(0), points, group=healthy),
                "promql_expr_test": checks,
            }
        )
    tests += _late_group_tests(slo, sli, burning, healthy)
    present = [s for group in (burning, healthy) for s in sx.events_series(sli, Decimal(0), _points(20 * MINUTE), group=group)]
    return tests + build_absent_tests(slo, present)


def _late_group_tests(slo: m.SLO, sli: m.RatioSLI | m.LatencySLI, early: sx.Labels, late: sx.Labels) -> list[Test]:
    """A group first seen 30 minutes in, burning at the strongest scenario's ratio: its
    alert fires as any other's (the rules name no value)."""
    rhos = [rho for _, rho in _burn_scenarios(slo) if rho is not None and _firing(slo, rho)]
    if not rhos:
        return []
    rho = max(rhos)
    eval_ms = LATE_START_MS + _eval_ms(slo)
    points = _points(eval_ms)
    late_points = points - LATE_START_MS // MINUTE
    gap = f"_x{LATE_START_MS // MINUTE} "
    late_series = [
        {"series": s["series"], "values": gap + s["values"]} for s in sx.events_series(sli, rho, late_points, group=late)
    ]
    labels = [_alert_labels(slo, late, s) for s in _firing(slo, rho)]
    return [
        {
            "name": f"{_show(late)} appears after {_ms(LATE_START_MS)} at {fmt(rho)} "
            f"while {_show(early)} stays healthy: the new value's alert fires",
            "interval": "1m",
            "input_series": sx.events_series(sli, Decimal(0), points, group=early) + late_series,
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


def _show(group: sx.Labels) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(group.items()))


def sli_selectors(sli: m.RatioSLI | m.LatencySLI) -> list[Selector | None]:
    if isinstance(sli, m.LatencySLI):
        return [sli.histogram]
    return [sli.bad, sli.good, sli.total]


def group_pair(sli: m.RatioSLI | m.LatencySLI, by: tuple[str, ...]) -> tuple[sx.Labels, sx.Labels]:
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
