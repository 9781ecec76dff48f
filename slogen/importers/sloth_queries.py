"""Sloth's SLI queries as slogen events.

Sloth writes an SLI as PromQL with a `{{.window}}` placeholder: `events` (an error query
and a total query, events per second) or `raw` (an error ratio). slogen records events as
selectors and writes the `sum(rate(...))` and the tests that prove the alerts itself, so
the shapes that say "the rate of these counters" become selectors:

- events: `sum(rate(E[w]))` and `sum(rate(T[w]))` -> `bad: E, total: T`; an error query
  `sum(rate(T[w])) - sum(rate(G[w]))` (all minus the good ones: Sloth's latency idiom,
  `_count` minus `_bucket{le="0.4"}`) -> `good: G, total: T`;
- raw: `sum(rate(E[w])) / sum(rate(T[w]))` -> `bad: E, total: T`, and
  `1 - sum(rate(G[w])) / sum(rate(T[w]))` -> `good: G, total: T`.

`sum by (l) (...)` on both sides becomes `by: [l]` (Sloth divides the grouped vectors, so
each value has its own ratio and alerts, as `by:` gives). Any other expression would
need test series that slogen cannot derive from it: it is refused by the caller, with
the expression in slogen's `$window` form to write by hand with a `test:` block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import promql_parser

from .. import promql
from ..events import WINDOW_PLACEHOLDER

# Sloth's template placeholder, as Go's text/template reads it (`{{ .window }}` too).
SLOTH_WINDOW = re.compile(r"\{\{-?\s*\.window\s*-?\}\}")
# Parsed in place of the placeholder: a range no query writes by hand, so a literal
# `[5m]` in a query is not taken for the SLO's window.
_SENTINEL = timedelta(seconds=987_654)


@dataclass(frozen=True)
class Term:
    """`sum [by (labels)] (rate(selector[window]))`."""

    selector: str  # rendered as slogen renders selectors
    by: tuple[str, ...]


@dataclass(frozen=True)
class Events:
    """A ratio of selectors: two of bad, good, total, and the labels of its `by`."""

    fields: dict[str, str]
    by: tuple[str, ...]


def with_placeholder(query: str) -> str:
    """The query with slogen's `$window` in place of Sloth's `{{.window}}`."""
    return SLOTH_WINDOW.sub(WINDOW_PLACEHOLDER, query)


def has_window(query: str) -> bool:
    return SLOTH_WINDOW.search(query) is not None


def _parse(query: str) -> promql_parser.Expr | None:
    text = SLOTH_WINDOW.sub(f"{int(_SENTINEL.total_seconds())}s", query)
    try:
        return promql_parser.parse(text)
    except ValueError:
        return None


def _unwrap(node: promql_parser.Expr) -> promql_parser.Expr:
    while isinstance(node, promql_parser.ParenExpr):
        node = node.expr
    return node


def _term(node: promql_parser.Expr) -> Term | None:
    node = _unwrap(node)
    if not isinstance(node, promql_parser.AggregateExpr) or str(node.op) != "sum" or node.param is not None:
        return None
    modifier = node.modifier
    if modifier is not None and str(modifier.type) != "AggModifierType.By":
        return None  # `without` keeps labels slogen cannot name
    call = _unwrap(node.expr)
    if not isinstance(call, promql_parser.Call) or call.func.name != "rate" or len(call.args) != 1:
        return None
    matrix = call.args[0]
    if not isinstance(matrix, promql_parser.MatrixSelector) or matrix.range != _SENTINEL:
        return None
    vector = matrix.vector_selector
    if vector.offset is not None or vector.at is not None:
        return None
    try:
        selector = promql.parse_selector(str(vector))
    except ValueError:
        return None
    return Term(selector.render(), tuple(sorted(modifier.labels)) if modifier else ())


def _binary(node: promql_parser.Expr, op: str) -> tuple[promql_parser.Expr, promql_parser.Expr] | None:
    node = _unwrap(node)
    if isinstance(node, promql_parser.BinaryExpr) and str(node.op) == op and node.modifier is None:
        return node.lhs, node.rhs
    return None


def _events(fields: dict[str, Term]) -> Events | None:
    groupings = {t.by for t in fields.values()}
    if len(groupings) != 1:
        return None  # Sloth would match the vectors on different labels: not a ratio per value
    return Events({name: t.selector for name, t in fields.items()}, groupings.pop())


def events_of(error_query: str, total_query: str) -> Events | None:
    """A Sloth events SLI as selectors, or None when its shape is another expression."""
    error, total = _parse(error_query), _parse(total_query)
    total_term = _term(total) if total is not None else None
    if error is None or total_term is None:
        return None
    bad = _term(error)
    if bad is not None:
        return _events({"bad": bad, "total": total_term})
    difference = _binary(error, "-")
    if difference is not None and _term(difference[0]) == total_term:
        good = _term(difference[1])
        if good is not None:
            return _events({"good": good, "total": total_term})
    return None


def raw_events_of(error_ratio_query: str) -> Events | None:
    """A Sloth raw SLI that is a ratio of counters' rates, as selectors, or None."""
    node = _parse(error_ratio_query)
    if node is None:
        return None
    name = "bad"
    complement = _binary(node, "-")
    if complement is not None:
        one = _unwrap(complement[0])
        if not isinstance(one, promql_parser.NumberLiteral) or one.val != 1:
            return None
        node, name = complement[1], "good"
    ratio = _binary(node, "/")
    if ratio is None:
        return None
    part, total = _term(ratio[0]), _term(ratio[1])
    if part is None or total is None:
        return None
    return _events({name: part, "total": total})
