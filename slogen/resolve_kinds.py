"""Resolving the SLI kinds that read expressions or gauges: event expressions and probes."""

from __future__ import annotations

from . import model as m
from . import spec as s
from .promql import Selector, is_selector, parse_selector


def _sel(text: str | None) -> Selector | None:
    return parse_selector(text) if text is not None else None


def ratio_sli(r: s.EventsSLI) -> m.RatioSLI | m.ExprRatioSLI:
    """Selectors stay a RatioSLI (its tests are synthesised); with any expression, every
    event becomes an expression (a selector as its rate) and the user's series test it."""
    if r.test is None:
        return m.RatioSLI(bad=_sel(r.bad), good=_sel(r.good), total=_sel(r.total))

    def expression(text: str | None) -> str | None:
        if text is None or not is_selector(text):
            return text
        return f"rate({parse_selector(text).render()}[{s.WINDOW_PLACEHOLDER}])"

    return m.ExprRatioSLI(
        bad=expression(r.bad),
        good=expression(r.good),
        total=expression(r.total),
        erroring=tuple(m.TestSeries(x.series, x.values) for x in r.test.erroring),
        healthy=tuple(m.TestSeries(x.series, x.values) for x in r.test.healthy),
    )


def unfit_for_ratio_of(sli: m.SLI) -> str | None:
    """Why a threshold alert cannot take this SLI's ratio: its tests need series at a
    chosen error ratio, which slogen can only build from selectors of counters."""
    if isinstance(sli, m.RawSLI):
        return "has a raw SLI: it has no events to take a ratio of; use expr"
    if isinstance(sli, m.ExprRatioSLI):
        return (
            "counts its events with expressions, from which slogen cannot build test series at a chosen ratio; "
            "use an expr alert with a test: block"
        )
    if isinstance(sli, m.ProbeSLI):
        return "is a probe SLI, not events; use an expr alert with a test: block, or its burn-rate alerts"
    return None
