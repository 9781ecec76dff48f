"""The events of a ratio, as written: selectors of counters or, in an SLO, expressions of
events per second with the `$window` placeholder (Sloth's form)."""

from __future__ import annotations

from . import promql

WINDOW_PLACEHOLDER = "$window"


def alert_event(value: str) -> str:
    """A threshold alert's events are selectors: its tests are built from them."""
    if WINDOW_PLACEHOLDER in value and not promql.is_selector(value):
        raise ValueError(
            "a threshold alert's ratio takes selectors, not expressions (slogen builds its tests from "
            "them): use an expr alert with a test: block"
        )
    promql.parse_selector(value)
    return value


def event(value: str) -> str:
    """A selector, as before, or an expression of events per second with `$window`."""
    if promql.is_selector(value):
        return value
    if WINDOW_PLACEHOLDER not in value:
        if promql.is_expression(value):
            raise ValueError(
                f"{value!r} is an expression, not a selector: an expression of events (Sloth's form) must use "
                f"the {WINDOW_PLACEHOLDER} placeholder, such as sum(rate(http_requests_total[{WINDOW_PLACEHOLDER}]))"
            )
        promql.parse_selector(value)  # says what is wrong with the selector, as before
    promql.check_events_expression(value, WINDOW_PLACEHOLDER)
    return value


def two_of_three(bad: str | None, good: str | None, total: str | None) -> list[str]:
    """The names of the two events given; their selectors, if both are, must differ."""
    values = {"bad": bad, "good": good, "total": total}
    given = [n for n, v in values.items() if v is not None]
    if len(given) != 2:
        raise ValueError(f"give exactly two of bad, good and total (got {', '.join(given) or 'none'})")
    first, second = (str(values[n]) for n in given)
    both_selectors = promql.is_selector(first) and promql.is_selector(second)
    if both_selectors and promql.parse_selector(first) == promql.parse_selector(second):
        raise ValueError(f"{given[0]} and {given[1]} are the same selector: they would count the same events")
    return given
