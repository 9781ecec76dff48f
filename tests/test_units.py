"""Table-driven unit tests of the pieces: quantities, selectors, burn-rate tiers."""

from __future__ import annotations

from decimal import Decimal

import promql_parser
import pytest

from slogen import conventions as c
from slogen.promql import Matcher, Selector, parse_selector, quote
from slogen.quantity import fmt, format_duration, parse_duration, parse_number, parse_ratio
from slogen.tiers import scaled_tier


@pytest.mark.parametrize(
    ("text", "ms"),
    [("5m", 300_000), ("1h30m", 5_400_000), ("30d", 2_592_000_000), ("250ms", 250), ("1w", 604_800_000)],
)
def test_durations_parse_as_prometheus_writes_them(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize("text", ["30 days", "5", "m", "", "-5m", "1.5h", "0s"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(("ms", "text"), [(5_400_000, "1h30m"), (2_592_000_000, "30d"), (1500, "1s500ms")])
def test_durations_print_back_canonically(ms: int, text: str) -> None:
    assert format_duration(ms) == text


@pytest.mark.parametrize(("given", "ratio"), [("99.9%", "0.999"), (0.999, "0.999"), ("95%", "0.95"), ("0.5", "0.5")])
def test_objectives_read_as_exact_ratios(given: object, ratio: str) -> None:
    assert parse_ratio(given) == Decimal(ratio)


def test_one_minus_the_objective_prints_exactly() -> None:
    assert fmt(1 - parse_ratio("99.9%")) == "0.001"  # not 0.0009999999999999432


@pytest.mark.parametrize(("given", "value"), [("5%", "0.05"), ("250ms", "0.25"), ("1s", "1"), (1000, "1000")])
def test_thresholds_read_percentages_durations_and_numbers(given: object, value: str) -> None:
    assert parse_number(given) == Decimal(value)


def test_selectors_are_rendered_from_their_parts_with_sorted_matchers() -> None:
    s = parse_selector('http_requests_total{status=~"5..", job="api"}')
    assert s.render() == 'http_requests_total{job="api", status=~"5.."}'


@pytest.mark.parametrize(
    "value",
    ['api"} or vector(1) #', "a\\b", "line\nbreak", 'mixed\\"quote'],
)
def test_rendered_values_round_trip_through_a_real_promql_parser(value: str) -> None:
    """Whatever a value holds, our rendering parses back to one selector with that value."""
    text = Selector("m", (Matcher("job", "=", value),)).render()
    parsed = promql_parser.parse(text)
    assert isinstance(parsed, promql_parser.VectorSelector)
    assert [(x.name, x.value) for x in parsed.matchers.matchers] == [("job", value)]


def test_the_parsers_own_printing_would_have_injected() -> None:
    """Why we render ourselves: promql-parser prints the quote back unescaped."""
    parsed = promql_parser.parse('m{job="api\\"} or vector(1) #"}')
    assert "or vector(1)" in str(parsed)
    assert quote('api"} or vector(1) #') == '"api\\"} or vector(1) #"'


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('m{job="api\\"} or vector(1) #"}', "double quote"),
        ('m{job="a}"}', "brace"),
        ('m{job="a\\nb"}', "newline"),
        ('m{job="{{ $labels }}"}', "template braces"),
        ("sum(m)", "plain series selector"),
        ('m{job="api"} offset 5m', "offset"),
        ('{job="api"}', "must name a metric"),
        ('m{job=~"("}', "regex"),
    ],
)
def test_selectors_that_could_change_a_query_are_refused(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_selector(text)


def test_regex_braces_are_allowed() -> None:
    assert parse_selector('m{status=~"5[0-9]{2}"}').render() == 'm{status=~"5[0-9]{2}"}'


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        # period, [(long, short, factor)] for the four tiers
        ("30d", [("1h", "5m", "14.4"), ("6h", "30m", "6"), ("1d", "2h", "3"), ("3d", "6h", "1")]),
        ("28d", [("56m", "5m", "14.4"), ("5h36m", "28m", "6"), ("22h24m", "1h52m", "3"), ("2d19h12m", "5h36m", "1")]),
        ("7d", [("14m", "5m", "14.4"), ("1h24m", "7m", "6"), ("5h36m", "28m", "3"), ("16h48m", "1h24m", "1")]),
        ("90d", [("3h", "15m", "14.4"), ("18h", "1h30m", "6"), ("3d", "6h", "3"), ("9d", "18h", "1")]),
        # Under 5 days the floors bind: short >= 5m, long >= 2x short, factor >= 1.
        ("1d", [("10m", "5m", "2.88"), ("12m", "5m", "6"), ("48m", "5m", "3"), ("2h24m", "12m", "1")]),
        ("1h", [("10m", "5m", "1"), ("10m", "5m", "1"), ("10m", "5m", "1"), ("10m", "5m", "1")]),
    ],
)
def test_burn_rate_windows_scale_with_the_period_and_keep_their_budget_shares(
    period: str, expected: list[tuple[str, str, str]]
) -> None:
    got = [
        scaled_tier(sev, long_ms, short_ms, share, parse_duration(period))
        for sev, long_ms, short_ms, share in c.BURN_RATE_TIERS
    ]
    assert [(format_duration(t.long_ms), format_duration(t.short_ms), fmt(t.factor)) for t in got] == expected
