"""promtool unit tests that prove every generated alert: it fires with its exact labels
when its condition holds long enough, and stays silent on healthy input, just below its
threshold and before its `for` has passed."""

from __future__ import annotations

import os
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from .. import conventions as c
from .. import model as m
from ..errors import Problem, SpecError
from ..promql import Selector
from ..quantity import fmt, fmt_percent
from . import series as sx
from .rules import with_severity
from .slo_tests import MINUTE, Test, build_absent_tests, build_slo_tests, expect_alerts, ms_text, points_for

ItemT = TypeVar("ItemT", m.SLO, m.ThresholdAlert)
EVAL = "1m"
RAW_EVAL_MARGIN_MS = 30 * MINUTE  # windows hold sum-over-available-data: 30m of steady input shows the ratio
_CMP = {">": Decimal.__gt__, "<": Decimal.__lt__, ">=": Decimal.__ge__, "<=": Decimal.__le__}


def build_test_files(model: m.Model) -> dict[str, dict[str, Any]]:
    """Raises SpecError for items whose input series cannot be synthesised."""
    files: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for service in model.services:
        for slo in service.slos:
            tests = _synthesised(slo, build_slo_tests, problems)
            files[c.tests_file(service.name, slo.id)] = {
                "source": slo.source.spec_path,
                "data": _file([c.rules_file(service.name, slo.id)], _slo_groups(slo), service.name, tests),
            }
        for alert in service.alerts:
            rule_files = [c.rules_file(service.name, alert.id)]
            groups = [c.group_name(service.name, alert.id)]
            if isinstance(alert.kind, m.RatioAlert) and alert.kind.slo is not None:
                rule_files.append(c.rules_file(service.name, alert.kind.slo.id))
                groups = _slo_groups(alert.kind.slo) + groups  # the alert reads the SLO's recordings
            files[c.tests_file(service.name, alert.id)] = {
                "source": alert.source.spec_path,
                "data": _file(rule_files, groups, service.name, _synthesised(alert, build_threshold_tests, problems)),
            }
    if problems:
        raise SpecError(problems)
    return files


def _synthesised(item: ItemT, build: Callable[[ItemT], list[Test]], problems: list[Problem]) -> list[Test]:
    """The item's tests; series that cannot be built from its selectors (a matcher no
    value satisfies, `bad` and `total` that select the same series) are a problem with
    the spec at the item's line, not a crash. Checked here, where the tests are built
    anyway: probing in resolve doubled its time."""
    try:
        return build(item)
    except ValueError as exc:
        where = f"{'slos' if isinstance(item, m.SLO) else 'alerts'}.{item.id}"
        message = f"slogen cannot build test series for this: {exc}"
        problems.append(Problem(item.source.file, item.source.line, where, message))
        return []


def _slo_groups(slo: m.SLO) -> list[str]:
    return c.slo_group_names(slo.service, slo.id)


def _file(rule_files: list[str], groups: list[str], service: str, tests: list[Test]) -> dict[str, Any]:
    """promtool evaluates every loaded group at every step, in Go's random map order unless
    `group_eval_order` names them all: the same test could give different numbers from one
    run to the next. Every group is listed, producers before their readers."""
    here = os.path.dirname(c.tests_file(service, "x"))
    return {
        # both relative to out/: rooted at "/" so relpath need not ask the system for the cwd
        "rule_files": [os.path.relpath(f"/{f}", f"/{here}") for f in rule_files],
        "evaluation_interval": EVAL,
        "group_eval_order": groups,
        "tests": tests,
    }


# --- threshold alerts -----------------------------------------------------------------


def build_threshold_tests(alert: m.ThresholdAlert) -> list[Test]:
    if isinstance(alert.kind, m.RawAlert):
        return _raw_alert_tests(alert, alert.kind)
    longest = max(level.for_ms for level in alert.levels)
    settle = longest + alert.window_ms + 5 * MINUTE
    tests: list[Test] = []
    for level in alert.levels:
        fire_value, quiet_value = _probe_values(alert, level)
        severity = alert.shaping.of(level.severity).severity
        tests.append(
            _level_test(
                alert,
                f"{severity}: {_describe(alert, fire_value)} for {ms_text(settle)} fires it",
                fire_value,
                settle,
            )
        )
        tests.append(
            _level_test(
                alert,
                f"{severity}: {_describe(alert, quiet_value)} (just short of its threshold) does not fire it",
                quiet_value,
                settle,
            )
        )
        if level.for_ms >= 3 * MINUTE:
            early = level.for_ms - MINUTE
            tests.append(
                _level_test(
                    alert,
                    f"{severity}: {_describe(alert, fire_value)} for less than its for: {ms_text(level.for_ms)} does not fire it yet",
                    fire_value,
                    early,
                )
            )
    healthy = _healthy_value(alert)
    tests.append(_level_test(alert, f"healthy: {_describe(alert, healthy)} fires nothing", healthy, settle))
    tests += build_absent_tests(alert, _threshold_series(alert, healthy, points_for(20 * MINUTE)))
    return tests


def _describe(alert: m.ThresholdAlert, value: Decimal) -> str:
    kind = alert.kind
    if isinstance(kind, m.QuantileAlert):
        upper = _quantile_upper(kind, value)
        where = f"up to {fmt(upper)}s" if upper.is_finite() else "above the last bound"
        return f"every observation in the bucket {where} (p{fmt(kind.quantile * 100)} reads {fmt(value)}s)"
    if isinstance(kind, m.RatioAlert):
        word = "success" if kind.measure == "good" else "error"
        return f"a steady {word} ratio of {fmt_percent(value)}"
    if isinstance(kind, m.GaugeAlert) and kind.capacity is not None:
        return f"{kind.gauge.metric} steady at {fmt_percent(value)} of {kind.capacity.metric}"
    return f"a steady value of {fmt(value)}"


def _probe_values(alert: m.ThresholdAlert, level: m.Level) -> tuple[Decimal, Decimal]:
    """A value that fires the level and one just past its threshold that does not."""
    if isinstance(alert.kind, m.QuantileAlert):
        return _quantile_probes(alert.kind, level)
    v = level.value
    exact = isinstance(alert.kind, m.GaugeAlert)  # no rate(): exact comparisons hold
    up = v * Decimal("1.05") if v else Decimal("0.01")
    down = v * Decimal("0.95")
    if not exact:  # rates of several series carry float noise: keep a margin
        up, down = v * Decimal("1.1") if v else Decimal("0.01"), v * Decimal("0.9")
    cap = Decimal(1) if isinstance(alert.kind, m.RatioAlert) else None
    if cap is not None:
        up = min(up, cap)
    fire, quiet = {
        ">": (up, v if exact else down),
        ">=": (v if exact else up, down),
        "<": (down, v if exact else up),
        "<=": (v if exact else down, up),
    }[level.op]
    if cap is not None:
        quiet = min(quiet, cap)
    return fire, quiet


def _healthy_value(alert: m.ThresholdAlert) -> Decimal:
    """A value that no level fires on: the far side of every threshold."""
    if isinstance(alert.kind, m.QuantileAlert):
        calm = [
            v for _, v in sx.quantile_buckets(alert.kind) if not any(_CMP[lv.op](v, lv.value) for lv in alert.levels)
        ]
        if not calm:
            raise ValueError("every bucket of the histogram fires one of its levels: no healthy latency to test")
        return calm[0]
    highs = [lv.value for lv in alert.levels if lv.op in (">", ">=")]
    lows = [lv.value for lv in alert.levels if lv.op in ("<", "<=")]
    low_bound = max(lows) if lows else Decimal(0)
    high_bound = min(highs) if highs else (Decimal(1) if isinstance(alert.kind, m.RatioAlert) else low_bound * 2 + 1)
    return (low_bound + high_bound) / 2


def _level_test(alert: m.ThresholdAlert, name: str, value: Decimal, eval_ms: int) -> Test:
    points = points_for(max(eval_ms, 20 * MINUTE))
    firing = [lv for lv in alert.levels if _fires(alert, lv, value, eval_ms)]
    labels = _threshold_labels(alert)
    return {
        "name": name,
        "interval": "1m",
        "input_series": _threshold_series(alert, value, points),
        "promql_expr_test": [
            expect_alerts(alert.name, eval_ms, [{**labels, **with_severity(alert, lv.severity)} for lv in firing])
        ],
    }


def _fires(alert: m.ThresholdAlert, level: m.Level, value: Decimal, eval_ms: int) -> bool:
    """Whether `level` is firing at eval_ms for a value held since the start. The condition
    is first true at about 1m (two samples); it then needs `for` to pass."""
    return _CMP[level.op](value, level.value) and eval_ms >= level.for_ms + 3 * MINUTE


def _quantile_probes(kind: m.QuantileAlert, level: m.Level) -> tuple[Decimal, Decimal]:
    """The latencies histogram_quantile reads, bucket by bucket, nearest to the level's
    threshold on either side: one fires it, one does not. Each level gets its own (the
    first level's probes would fire a stricter second level). Readings within a millionth
    of the threshold are left out: Prometheus computes them in floating point."""
    margin = abs(level.value) * Decimal("1e-6")
    readings = [v for _, v in sx.quantile_buckets(kind) if abs(v - level.value) > margin]
    fire = [v for v in readings if _CMP[level.op](v, level.value)]
    quiet = [v for v in readings if not _CMP[level.op](v, level.value)]
    if not fire or not quiet:
        raise ValueError(f"no bucket of the histogram reads on both sides of {fmt(level.value)}s")
    return min(fire, key=lambda v: abs(v - level.value)), min(quiet, key=lambda v: abs(v - level.value))


def _quantile_upper(kind: m.QuantileAlert, reading: Decimal) -> Decimal:
    return next(upper for upper, value in sx.quantile_buckets(kind) if value == reading)


def _threshold_labels(alert: m.ThresholdAlert) -> dict[str, str]:
    """The labels the alert's expression returns, under the rule's own labels."""
    kind = alert.kind
    base = sx.group_labels(_group_selectors(kind), alert.by)
    if (
        isinstance(kind, m.RatioAlert)
        and kind.slo is not None
        and alert.by == kind.slo.by
        and alert.window_ms == c.BASE_WINDOW_MS
    ):
        base = {**base, **kind.slo.label_dict()}  # the recorded SLO series carry the SLO's labels
    if isinstance(kind, m.GaugeAlert) and not alert.by:
        base = _gauge_labels(kind)
    return {**base, **alert.label_dict()}


def _group_selectors(kind: m.AlertKind) -> list[Selector | None]:
    """The selectors whose synthetic series carry the `by` labels."""
    if isinstance(kind, m.RatioAlert) and isinstance(kind.sli, m.RatioSLI):
        return [kind.sli.bad, kind.sli.good, kind.sli.total]
    return [_main_selector(kind)]


def _main_selector(kind: m.AlertKind) -> Selector:
    """The selector whose example labels carry the `by` labels of synthetic series."""
    if isinstance(kind, m.RatioAlert):
        sli = kind.sli
        if isinstance(sli, m.LatencySLI):
            return sli.histogram
        selector = sli.bad or sli.good
        assert selector is not None
        return selector
    if isinstance(kind, m.QuantileAlert):
        return kind.histogram
    assert isinstance(kind, m.GaugeAlert)
    return kind.gauge


def _gauge_labels(kind: m.GaugeAlert) -> dict[str, str]:
    labels = sx.example_labels(kind.gauge)
    if kind.capacity is not None:
        labels = {**sx.example_labels(kind.capacity), **labels}
    return labels


def _threshold_series(alert: m.ThresholdAlert, value: Decimal, points: int) -> list[dict[str, str]]:
    kind = alert.kind
    if isinstance(kind, m.RatioAlert):
        bad_ratio = 1 - value if kind.measure == "good" else value
        return sx.events_series(kind.sli, bad_ratio, points, alert.by)
    if isinstance(kind, m.QuantileAlert):
        return sx.quantile_series(kind, _quantile_upper(kind, value), points, alert.by)
    assert isinstance(kind, m.GaugeAlert)
    labels = {label: sx.GROUP_VALUE for label in alert.by} | _gauge_labels(kind)
    if kind.capacity is None:
        return [sx.gauge(kind.gauge.metric, labels, value, points)]
    capacity = Decimal(1000)
    return [
        sx.gauge(kind.gauge.metric, labels, value * capacity, points),
        sx.gauge(kind.capacity.metric, labels, capacity, points),
    ]


def _raw_alert_tests(alert: m.ThresholdAlert, kind: m.RawAlert) -> list[Test]:
    # The user's series decide when the condition holds: give them 30 minutes past `for`.
    eval_ms = max(level.for_ms for level in alert.levels) + RAW_EVAL_MARGIN_MS
    query = f'max by (severity) (ALERTS{{alertname="{alert.name}", alertstate="firing"}})'
    cases = [
        (
            "raw alert: the firing series fire every level",
            kind.firing,
            sorted(alert.shaping.of(lv.severity).severity for lv in alert.levels),
        ),
        ("raw alert: the quiet series fire nothing", kind.quiet, []),
    ]
    return [
        {
            "name": name,
            "interval": "1m",
            "input_series": [{"series": s.series, "values": s.values} for s in series],
            "promql_expr_test": [
                {
                    "expr": query,
                    "eval_time": ms_text(eval_ms),
                    "exp_samples": [{"labels": f'{{severity="{s}"}}', "value": 1} for s in severities],
                }
            ],
        }
        for name, series, severities in cases
    ]
