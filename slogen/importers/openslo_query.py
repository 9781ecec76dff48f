"""OpenSLO's Prometheus queries read with the PromQL parser: the shapes that are a
selector of counters become one (slogen writes the `sum(rate(...))` itself), anything
else is told back, to be written by hand."""

from __future__ import annotations

import re
from dataclasses import dataclass

import promql_parser

from .. import promql

# Sloth's window placeholder (also seen in OpenSLO files written for Sloth): any range
# stands in for it while parsing, the range is not kept.
_SLOTH_WINDOW = re.compile(r"\{\{\s*\.window\s*\}\}")
_RATES = ("rate", "increase", "irate")


@dataclass(frozen=True)
class Events:
    """A query read as counters: the selector, and the labels it is summed by."""

    selector: str
    by: tuple[str, ...] = ()


class NotCounters(ValueError):
    """The query is not a selector of counters in one of the shapes slogen maps."""


def parse(query: str) -> promql_parser.Expr:
    try:
        return promql_parser.parse(_SLOTH_WINDOW.sub("5m", query))
    except ValueError as exc:
        raise NotCounters(f"not PromQL: {exc}") from None


def events(query: str) -> Events:
    """`S`, `sum(S)`, `sum(rate(S[w]))`, `sum by (l) (rate(S[w]))` (also `increase`)."""
    return _events(parse(query), query)


def _events(expr: promql_parser.Expr, query: str) -> Events:
    by: tuple[str, ...] = ()
    if isinstance(expr, promql_parser.AggregateExpr):
        if str(expr.op) != "sum" or expr.param is not None:
            raise NotCounters(f"{query!r}: only `sum` of a counter is read as a selector")
        if expr.modifier is not None:
            if "without" in str(expr.modifier.type).lower():
                raise NotCounters(f"{query!r}: `sum without` keeps labels slogen cannot name: use `sum by`")
            by = tuple(expr.modifier.labels)
        expr = expr.expr
    if isinstance(expr, promql_parser.Call) and expr.func.name in _RATES:
        arg = expr.args[0]
        if isinstance(arg, promql_parser.MatrixSelector):
            expr = arg.vector_selector
    if not isinstance(expr, promql_parser.VectorSelector):
        raise NotCounters(f"{query!r} is not a selector of counters, `sum(rate(selector[window]))` or `sum(selector)`")
    try:
        selector = promql.parse_selector(str(expr)).render()
    except ValueError as exc:
        raise NotCounters(str(exc)) from None
    return Events(selector, by)


def ratio(query: str) -> tuple[Events, Events]:
    """A raw ratio `A / B` of two counter shapes: (numerator, denominator)."""
    expr = parse(query)
    while isinstance(expr, promql_parser.ParenExpr):
        expr = expr.expr
    if not isinstance(expr, promql_parser.BinaryExpr) or str(expr.op) != "/":
        raise NotCounters(f"{query!r} is not a ratio `sum(rate(a[w])) / sum(rate(b[w]))`")
    return _events(expr.lhs, query), _events(expr.rhs, query)
