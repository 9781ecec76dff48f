"""PromQL expressions for SLIs and alerts, built from parsed selectors (never pasted)."""

from __future__ import annotations

import functools
from decimal import Decimal

from .. import conventions as c
from .. import model as m
from ..promql import Matcher, Selector, expression_selectors, presence_selectors, total_selectors
from ..quantity import fmt, fmt_le, format_duration


def le_matcher(bound: Decimal) -> Matcher:
    """Match a bucket boundary as Prometheus 2 (`1`) and 3 (`1.0`) both write it."""
    text = fmt_le(bound)
    if "." in text:
        return Matcher("le", "=", text)
    return Matcher("le", "=~", f"{text}|{text}\\.0")


INF = Matcher("le", "=", "+Inf")
WINDOW = "$window"  # the placeholder of raw SLIs and event expressions


def bucket(histogram: Selector) -> Selector:
    return histogram.with_metric(histogram.metric + "_bucket")


def _sum(expr: str, by: tuple[str, ...]) -> str:
    return f"sum by ({', '.join(by)}) ({expr})" if by else f"sum({expr})"


def rate(selector: Selector, window_ms: int, extra: tuple[Matcher, ...] = (), by: tuple[str, ...] = ()) -> str:
    return rate_over(selector, format_duration(window_ms), extra, by)


def rate_over(selector: Selector, window: str, extra: tuple[Matcher, ...] = (), by: tuple[str, ...] = ()) -> str:
    """`sum(rate(sel[window]))` with the window as text (a duration or a Grafana variable)."""
    return _sum(f"rate({selector.render(extra)}[{window}])", by)


def events(sli: m.EventsSLI, window_ms: int, by: tuple[str, ...] = ()) -> tuple[str, str]:
    """(bad events per second, all events per second) over one window, from raw series:
    the one place that reads an SLI's raw series for its recordings."""

    # Series of bad (or good) events often exist only after the first one: count them as
    # 0 until then, so that the error ratio is 0 (or 1) and not missing. Without `by`, a
    # label-less 0 stands in; with `by`, a 0 for each group the other series has (a cache
    # that only misses must still alert on its hit rate).
    def zero(expr: str, other: str) -> str:
        return f"({expr} or 0 * {other})" if by else f"({expr} or vector(0))"

    if isinstance(sli, m.LatencySLI):
        hist = bucket(sli.histogram)
        all_events = rate(hist, window_ms, (INF,), by)
        under = rate(hist, window_ms, (le_matcher(sli.threshold),), by)
        return f"{all_events} - {zero(under, all_events)}", all_events
    if isinstance(sli, m.ProbeSLI):
        return probe_events(sli, window_ms, by)
    bad, good, total = _event_rates(sli, window_ms, by)
    if bad is not None and total is not None:
        return zero(bad, total), total
    if good is not None and total is not None:
        return f"{total} - {zero(good, total)}", total
    assert good is not None and bad is not None
    bad_or_zero = zero(bad, good)
    return bad_or_zero, f"{zero(good, bad)} + {bad_or_zero}"


def _event_rates(
    sli: m.RatioSLI | m.ExprRatioSLI, window_ms: int, by: tuple[str, ...]
) -> tuple[str | None, str | None, str | None]:
    """Bad, good and total events per second, summed (None where not given). An
    expression gets the window for its placeholder and a sum around it, so that it
    carries no labels of its own, as a selector's rate does."""
    if isinstance(sli, m.RatioSLI):
        return tuple(  # type: ignore[return-value]
            rate(x, window_ms, by=by) if x is not None else None for x in (sli.bad, sli.good, sli.total)
        )
    w = format_duration(window_ms)
    return tuple(  # type: ignore[return-value]
        _sum(x.replace(WINDOW, w), by) if x is not None else None for x in (sli.bad, sli.good, sli.total)
    )


def probe_events(sli: m.ProbeSLI, window_ms: int, by: tuple[str, ...] = ()) -> tuple[str, str]:
    """(failed samples per second, samples per second) of a 0/1 gauge over the window.

    Each sample is a check: the failed ones are counted per series as the samples times
    the share that was not 1, that share clamped to [0, 1], so that a gauge with other
    values (a 2, a -1) cannot make failures negative or more than the samples. Range
    functions only: no subquery, which would re-evaluate the selector at every step."""
    sel = f"{sli.metric.render()}[{format_duration(window_ms)}]"
    seconds = window_ms // 1000
    total = _sum(f"count_over_time({sel})", by)
    bad = _sum(f"count_over_time({sel}) * (1 - clamp(avg_over_time({sel}), 0, 1))", by)
    return f"{bad} / {seconds}", f"{total} / {seconds}"


def recorded(name: str, slo: m.SLO) -> str:
    return _recorded(name, slo.service, slo.id)


@functools.lru_cache(maxsize=1 << 14)
def _recorded(name: str, service: str, slo: str) -> str:
    """`name{service="api", slo="availability"}`: rendered once per series and SLO."""
    return Selector(name).render((Matcher(c.LABEL_SERVICE, "=", service), Matcher(c.LABEL_SLO, "=", slo)))


def windowed_error_ratio(slo: m.SLO, window_ms: int) -> str:
    """A window's error ratio from the recorded 5m rates (or, past a day, their 30m sums),
    bad and total summed separately: traffic-weighted, so a quiet night's errors count as
    little as its traffic. A raw SLI has no events: its recorded 5m ratio is averaged over
    time instead (past a day, from its 30m sums and sample counts)."""
    w = format_duration(window_ms)
    coarse = window_ms > c.COARSE_FROM_MS
    if isinstance(slo.sli, m.RawSLI):
        if not coarse:
            return f"avg_over_time({recorded(c.error_ratio(c.BASE_WINDOW_MS), slo)}[{w}])"
        bad, total = c.RAW_RATIO_SUM, c.RAW_RATIO_COUNT
    else:
        bad, total = (c.BAD_SUM, c.TOTAL_SUM) if coarse else (c.BAD_RATE, c.TOTAL_RATE)
    return f"sum_over_time({recorded(bad, slo)}[{w}])\n/\nsum_over_time({recorded(total, slo)}[{w}])"


def raw_error_ratio(sli: m.RawSLI) -> str:
    """The raw SLI's expression over 5m, the only window it is evaluated at (a subquery
    over 30 days would load far too many samples). `>= 0` drops the NaN of 0/0 when
    nothing happened, which would otherwise poison every average it enters."""
    return f"({sli.error_ratio.replace('$window', format_duration(c.BASE_WINDOW_MS))}) >= 0"


def burn_rate_condition(slo: m.SLO, tiers: list[m.BurnRateTier]) -> str:
    """`(long > f and short > f) or (...)`, each side as a burn rate (multiple of budget)."""
    budget = fmt(slo.budget)
    arms = []
    for tier in tiers:
        long_ratio = recorded(c.error_ratio(tier.long_ms), slo)
        short_ratio = recorded(c.error_ratio(tier.short_ms), slo)
        arms.append(
            f"(\n  {long_ratio} / {budget} > {fmt(tier.factor)}\nand\n  {short_ratio} / {budget} > {fmt(tier.factor)}\n)"
        )
    return "\nor\n".join(arms)


def threshold_value(alert: m.ThresholdAlert) -> str:
    """The expression a threshold alert compares, before the comparison."""
    kind = alert.kind
    if isinstance(kind, m.RatioAlert):
        sli = kind.sli
        if kind.slo is not None and alert.by == kind.slo.by and alert.window_ms == c.BASE_WINDOW_MS:
            ratio = recorded(c.error_ratio(c.BASE_WINDOW_MS), kind.slo)  # already recorded: reuse
        else:
            bad, total = events(sli, alert.window_ms, alert.by)
            ratio = f"({bad})\n/\n({total})"
        return f"1 - ({ratio})" if kind.measure == "good" else ratio
    if isinstance(kind, m.QuantileAlert):
        inner = rate(bucket(kind.histogram), alert.window_ms, by=("le", *alert.by))
        return f"histogram_quantile({fmt(kind.quantile)}, {inner})"
    if isinstance(kind, m.GaugeAlert):
        gauge = _sum(kind.gauge.render(), alert.by) if alert.by else kind.gauge.render()
        if kind.capacity is None:
            return gauge
        # A capacity of 0 means "unlimited" for many exporters (redis maxmemory): skip it.
        capacity = kind.capacity.render()
        capacity = _sum(f"{capacity} > 0", alert.by) if alert.by else f"({capacity} > 0)"
        # Without `by`, gauge and capacity match one to one on their labels: one alert
        # per pool or instance, so that one exhausted instance is not averaged away.
        return f"{gauge}\n/\n{capacity}"
    return f"({kind.expr})"


def _sli_presence(sli: m.SLI) -> list[Selector]:
    if isinstance(sli, m.LatencySLI):
        return [bucket(sli.histogram)]
    if isinstance(sli, m.ProbeSLI):
        return [sli.metric]
    if isinstance(sli, m.ExprRatioSLI):
        # The series of all events (else of the good ones): bad events may never have happened.
        watched = sli.total or sli.good
        assert watched is not None
        return presence_selectors(watched.replace(WINDOW, format_duration(c.BASE_WINDOW_MS)))
    if isinstance(sli, m.RatioSLI):
        return [s for s in (sli.total or sli.good,) if s is not None]
    # A raw SLI: the series of its denominator (the total), or, if it is no division,
    # every series it reads.
    expr = sli.error_ratio.replace("$window", format_duration(c.BASE_WINDOW_MS))
    total = total_selectors(expr)
    return total if total else expression_selectors(expr)


def absent_selectors(item: m.SLO | m.ThresholdAlert) -> list[Selector]:
    """The series whose absence would silence this SLO's or alert's rules.

    Bad-event series are left out: a healthy service may never have had a failure.
    """
    if isinstance(item, m.SLO):
        return _sli_presence(item.sli)
    kind = item.kind
    if isinstance(kind, m.RatioAlert) and kind.slo is None:
        return _sli_presence(kind.sli)
    if isinstance(kind, m.QuantileAlert):
        return [bucket(kind.histogram)]
    if isinstance(kind, m.GaugeAlert):
        return [s for s in (kind.gauge, kind.capacity) if s is not None]
    return []
