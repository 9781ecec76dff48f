"""promtool's notation for the input series of a unit test, checked where the spec gives
it (a raw SLI's or a raw alert's `test:` block), so that a typo is a spec problem at its
line and not a failing `promtool test rules` (the fuzzer wrote `0\t+60x40` and `Inf0`).

A series is `metric{label="value", ...}` with `=` matchers only. Its values are
space-separated items (Prometheus' promql/parser, ParseSeriesDesc): a number (`Inf`,
`NaN` included), `_` (no sample), `stale`, or a run: `a+bxn` / `a-bxn` (n + 1 samples
from a, stepping by b), `axn` (a, n + 1 times), `_xn` (n missing samples).
"""

from __future__ import annotations

import re

import promql_parser

from .promql import check_label_value

# Points one series may expand to: a week at the tests' one-minute step, far more than a
# test needs; promtool holds them all in memory (`0+1x100000000` would exhaust it).
MAX_POINTS = 10_080
_NUMBER = r"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|Inf|inf|NaN|nan)"
_UNSIGNED = r"(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
_ITEM = re.compile(rf"(?:_|stale|{_NUMBER})|(?:_|{_NUMBER})x(\d+)|{_NUMBER}[-+]{_UNSIGNED}x(\d+)")


def series_problem(text: str) -> str | None:
    """Why promtool could not read this input series, or None."""
    try:
        expr = promql_parser.parse(text)
    except ValueError:
        expr = None
    if not isinstance(expr, promql_parser.VectorSelector) or expr.offset is not None or expr.at is not None:
        return f'not a series such as metric{{label="value"}}: {text!r}'
    for matcher in expr.matchers.matchers:
        if int(matcher.op) != int(promql_parser.MatchOp.Equal):  # type: ignore[call-overload]
            return f"an input series names its labels with = only: {text!r}"
        try:
            check_label_value(matcher.value)
        except ValueError as exc:
            return str(exc)
    return None


def values_problem(text: str) -> str | None:
    """Why promtool could not read these values, or None; also bounds their expansion."""
    items = text.split()
    if not items:
        return "give at least one value, such as 0+10x40"
    points = 0
    for item in items:
        match = _ITEM.fullmatch(item)
        if match is None:
            return (
                f"{item!r} is not a value promtool reads: a number, _, stale, or a run such as "
                "0+10x40 (from 0, +10 a step, 40 steps), 5x10 or _x3"
            )
        count = match.group(1) or match.group(2)
        points += int(count) + 1 if count else 1
        if points > MAX_POINTS:
            return f"at most {MAX_POINTS} points per series (a week at the tests' one-minute step)"
    return None
