"""promtool unit tests of an SLO's burn-rate alerts and of every absent-data alert: they
fire with their exact labels (name, severity value and `alerting:` labels included) on a
steady burn past each severity's threshold, stay silent just below it and before their
`for` has passed; with custom tiers, every tier is probed around its own factor."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .. import conventions as c
from .. import model as m
from ..promql import Selector
from ..quantity import fmt, format_duration
from . import probe
from . import queries as q
from . import series as sx
from .rules import BurnRule, burn_rule_labels, burn_rules, with_severity

Test = dict[str, Any]
MINUTE = 60_000
# Windows hold the sums over the data they have: after 12 minutes of steady input every
# window shows its ratio (promtool evaluates every group at every step: keep it short).
BURN_EVAL_MS = 12 * MINUTE


def ms_text(ms: int) -> str:
    return format_duration(ms)


def expect_alerts(alertname: str, eval_ms: int, label_sets: list[dict[str, str]]) -> dict[str, Any]:
    """Exactly these alerts fire at eval_ms, with exactly these labels.

    Asserted on the ALERTS series rather than with alert_rule_test, so that the exact
    label sets are compared without also pinning annotation text to a float's printing.
    """
    samples = {
        sx.series_text("ALERTS", {"alertname": alertname, "alertstate": "firing", **labels}): labels
        for labels in label_sets
    }
    return {
        "expr": f'ALERTS{{alertname="{alertname}", alertstate="firing"}}',
        "eval_time": ms_text(eval_ms),
        "exp_samples": [{"labels": text, "value": 1} for text in sorted(samples)],
    }


def points_for(eval_ms: int) -> int:
    return eval_ms // MINUTE + 5


# --- SLOs: burn-rate and absent-data alerts -------------------------------------------


def build_slo_tests(slo: m.SLO) -> list[Test]:
    if slo.by:
        from .group_tests import build_grouped_slo_tests  # it builds on this module's helpers

        return build_grouped_slo_tests(slo)
    tests = []
    # A tier's `for` holds its alert back: look that much later (the condition holds from
    # the second minute, when the 5m rates first exist).
    eval_ms = BURN_EVAL_MS + max((t.for_ms for t in slo.tiers), default=0)
    inputs = [(n, r, eval_ms, interval, s) for n, r, interval, s in _burn_inputs(slo, points_for(eval_ms))]
    inputs += [(n, r, at, "1m", _slo_series(slo, r, points_for(at))) for n, r, at in _for_scenarios(slo)]
    for name, rho, at_ms, interval, series in inputs:
        tests.append({"name": name, "interval": interval, "input_series": series, **_burn_expectation(slo, rho, at_ms)})
    hold = slo.shaping.absent_for_ms or 0
    tests += build_absent_tests(slo, _slo_series(slo, Decimal(0), points_for(max(hold + 10 * MINUTE, 20 * MINUTE))))
    return tests


def _burn_inputs(slo: m.SLO, points: int) -> list[tuple[str, Decimal | None, str, list[dict[str, str]]]]:
    """(test name, steady error ratio, input interval, input series) of each burn-rate test."""
    if isinstance(slo.sli, m.ProbeSLI):
        seconds = points * MINUTE // probe.INTERVAL_MS
        healthy = probe.probe_series(slo.sli, probe.HEALTHY, seconds)
        return [("no errors: no burn-rate alert", Decimal(0), probe.INTERVAL, healthy)] + [
            (name, rho, probe.INTERVAL, series)
            for severity, lowest, above, below in _thresholds(slo)
            for name, rho, series in probe.scenarios(
                slo.sli, slo.shaping.of(severity).severity, lowest, above, below, seconds
            )
        ]
    return [(name, rho, "1m", _slo_series(slo, rho, points)) for name, rho in _burn_scenarios(slo)]


def _thresholds(slo: m.SLO) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """(severity, its lowest threshold, 1.1x and 0.9x that) for each generated severity."""
    out = []
    for severity in c.SEVERITIES:
        tiers = [t for t in slo.tiers if t.severity == severity]
        if tiers:
            lowest = min(t.factor for t in tiers) * slo.budget
            out.append((severity, lowest, min(Decimal(1), lowest * Decimal("1.1")), lowest * Decimal("0.9")))
    return out


def _for_scenarios(slo: m.SLO) -> list[tuple[str, Decimal | None, int]]:
    """Per severity whose tiers have a `for` of 3m or more: a burn that fires it, looked
    at a minute before its `for` has passed, does not fire it yet (for SLIs whose series
    slogen builds at a chosen error ratio)."""
    out: list[tuple[str, Decimal | None, int]] = []
    if isinstance(slo.sli, m.RawSLI | m.ExprRatioSLI | m.ProbeSLI):
        return out
    for severity in c.SEVERITIES:
        tiers = [t for t in slo.tiers if t.severity == severity]
        lowest = min(tiers, key=lambda t: t.factor) if tiers else None  # the tier 1.1x its factor fires
        if lowest is None or lowest.for_ms < 3 * MINUTE:
            continue
        above = min(Decimal(1), lowest.factor * slo.budget * Decimal("1.1"))
        label = slo.shaping.of(severity).severity
        name = f"{label}: a steady error ratio of {fmt(above)} for less than its for: {ms_text(lowest.for_ms)} does not fire it yet"
        out.append((name, above, lowest.for_ms - MINUTE))
    return out


def _burn_scenarios(slo: m.SLO) -> list[tuple[str, Decimal | None]]:
    """(test name, steady error ratio); None is the user's own erroring series."""
    if isinstance(slo.sli, m.RawSLI | m.ExprRatioSLI):
        kind = "raw SLI" if isinstance(slo.sli, m.RawSLI) else "event expressions"
        return [
            (f"{kind}: the erroring series fire every burn-rate alert", None),
            (f"{kind}: the healthy series fire none", Decimal(0)),
        ]
    out: list[tuple[str, Decimal | None]] = [("no errors: no burn-rate alert", Decimal(0))]
    for severity, _, above, below in _thresholds(slo):
        label = slo.shaping.of(severity).severity
        out.append(
            (f"{label}: a steady error ratio of {fmt(above)} (1.1x its lowest burn-rate threshold) fires it", above)
        )
        out.append(
            (f"{label}: a steady error ratio of {fmt(below)} (0.9x its lowest threshold) does not fire it", below)
        )
        if slo.custom_tiers:  # the spec's own tiers: each is probed around its own factor
            tiers = [t for t in slo.tiers if t.severity == severity]
            for t in sorted(tiers, key=lambda t: t.factor)[1:]:
                for scale in (Decimal("1.1"), Decimal("0.9")):
                    rho = min(Decimal(1), t.factor * slo.budget * scale)
                    out.append(
                        (f"{label}: {fmt(scale)}x the {fmt(t.factor)}x tier: a steady error ratio of {fmt(rho)}", rho)
                    )
    return out


def _slo_series(slo: m.SLO, rho: Decimal | None, points: int) -> list[dict[str, str]]:
    sli = slo.sli
    if isinstance(sli, m.RawSLI | m.ExprRatioSLI):
        chosen = sli.erroring if rho is None else sli.healthy
        return [{"series": s.series, "values": s.values} for s in chosen]
    if isinstance(sli, m.ProbeSLI):
        return probe.probe_series(sli, probe.HEALTHY, points)
    assert rho is not None
    return sx.events_series(sli, rho, points)


def _burn_expectation(slo: m.SLO, rho: Decimal | None, eval_ms: int = BURN_EVAL_MS) -> dict[str, Any]:
    """Which severities fire at a steady error ratio (every window then shows rho), once
    their `for` has passed (the condition holds from about the second minute)."""
    fired = firing_rules(slo, rho, eval_ms)
    firing = sorted({burn.severity for burn in fired})
    if isinstance(slo.sli, m.RawSLI):
        # The raw expression decides the labels: assert on severities alone.
        return {
            "promql_expr_test": [
                {
                    "expr": f'max by (severity) (ALERTS{{alertname="{slo.alert_name}", alertstate="firing"}})',
                    "eval_time": ms_text(eval_ms),
                    "exp_samples": [
                        {"labels": f'{{severity="{slo.shaping.of(s).severity}"}}', "value": 1} for s in firing
                    ],
                }
            ]
        }
    labels = [burn_rule_labels(slo, burn) for burn in fired]
    return {"promql_expr_test": [expect_alerts(slo.alert_name, eval_ms, labels)]}


def firing_rules(slo: m.SLO, rho: Decimal | None, eval_ms: int) -> list[BurnRule]:
    """The burn-rate rules firing at eval_ms under a steady error ratio (None: the user's
    erroring series, which fire every rule): a tier's condition holds from about the
    second minute, and its rule fires once its `for` has passed."""

    def fires(t: m.BurnRateTier) -> bool:
        ready = not t.for_ms or eval_ms >= t.for_ms + 3 * MINUTE
        return ready and (rho is None or rho > t.factor * slo.budget)

    return [burn for burn in burn_rules(slo) if any(fires(t) for t in burn.tiers)]


def build_absent_tests(item: m.SLO | m.ThresholdAlert, present: list[dict[str, str]]) -> list[Test]:
    selectors = q.absent_selectors(item)
    if not selectors:
        return []
    hold = item.shaping.absent_for_ms
    if hold is None:
        return [_no_absent_alert_test()]
    eval_ms = hold + 5 * MINUTE
    expected = [absent_labels(item, s) for s in selectors]
    tests = [
        {
            "name": f"no series at all: {c.ALERT_ABSENT} fires for {', '.join(s.metric for s in selectors)}",
            "interval": "1m",
            "input_series": [{"series": "slogen_unrelated_series", "values": f"1x{points_for(eval_ms)}"}],
            "promql_expr_test": [expect_alerts(c.ALERT_ABSENT, eval_ms, expected)],
        },
        {
            "name": f"series present: {c.ALERT_ABSENT} stays silent",
            "interval": "1m",
            "input_series": sx.unify(present),
            "promql_expr_test": [expect_alerts(c.ALERT_ABSENT, eval_ms, [])],
        },
    ]
    if hold != c.ABSENT_FOR_MS and hold >= 3 * MINUTE:  # the spec's own `for` holds it back
        early = hold - MINUTE
        tests.append(
            {
                "name": f"no series for less than its for: {ms_text(hold)}: {c.ALERT_ABSENT} does not fire yet",
                "interval": "1m",
                "input_series": [{"series": "slogen_unrelated_series", "values": f"1x{points_for(early)}"}],
                "promql_expr_test": [expect_alerts(c.ALERT_ABSENT, early, [])],
            }
        )
    return tests


def _no_absent_alert_test() -> Test:
    """`alerting: {absent: false}`: no series at all, and still no absent-data alert."""
    return {
        "name": f"absent: false: no series at all, and no {c.ALERT_ABSENT}",
        "interval": "1m",
        "input_series": [{"series": "slogen_unrelated_series", "values": "1x20"}],
        "promql_expr_test": [
            {"expr": f'ALERTS{{alertname="{c.ALERT_ABSENT}"}}', "eval_time": ms_text(15 * MINUTE), "exp_samples": []}
        ],
    }


def absent_labels(item: m.SLO | m.ThresholdAlert, selector: Selector) -> dict[str, str]:
    return {**selector.equality_labels(), **with_severity(item, c.SEVERITY_WARNING)}
