"""Scenarios for a second team's spec: the grouped case (tests/cases/grouped, the shop's
web front end, per route and per region and device), on the same Timeline and exporter
as the plan's (tests/scenarios.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .scenarios import INSTANCE, Scenario, Series

ROUTES = ("/cart", "/checkout")
REGIONS = (("eu-west", "desktop"), ("eu-west", "mobile"), ("us-east", "desktop"))
RENDER_BUCKETS = ("0.1", "0.25", "0.5", "1", "2.5", "+Inf")


@dataclass(frozen=True)
class Front:
    """What the front end does at one moment."""

    rps: float = 20.0  # per route
    failing: tuple[tuple[str, float], ...] = ()  # route -> share of 5xx
    slow_renders: float = 0.0  # share of renders in (0.5s, 1s], everywhere
    searches: float = 5.0
    unanswered: float = 0.0  # share of searches past their deadline


def _labels(**labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({**labels, "job": "storefront", "instance": INSTANCE}.items()))


def front_rates(state: Front) -> Series:
    rates: Series = {}
    failing = dict(state.failing)
    for route in ROUTES:
        share = failing.get(route, 0.0)
        rates[("storefront_http_requests_total", _labels(route=route, code="200"))] = state.rps * (1 - share)
        rates[("storefront_http_requests_total", _labels(route=route, code="503"))] = state.rps * share
    # renders take (0.1s, 0.25s], the slow share (0.5s, 1s]: cumulative buckets
    under = {"0.1": 0.0, "0.25": 1 - state.slow_renders, "0.5": 1 - state.slow_renders}
    for region, device in REGIONS:
        for le in RENDER_BUCKETS:
            key = ("storefront_render_seconds_bucket", _labels(region=region, device=device, le=le))
            rates[key] = 10.0 * under.get(le, 1.0)
    rates[("storefront_search_queries_total", _labels())] = state.searches
    rates[("storefront_search_answered_total", _labels())] = state.searches * (1 - state.unanswered)
    return rates


def no_gauges(state: Front) -> Series:
    return {}


def _alert(alertname: str, slo: str, severity: str, **extra: str) -> dict[str, str]:
    return {"alertname": alertname, "owner": "web", "service": "storefront", "slo": slo, "severity": severity, **extra}


STOREFRONT_SCENARIOS = [
    Scenario("storefront: healthy", 6 * 3600, Front(), counters=front_rates, levels=no_gauges),
    Scenario(
        "storefront: half of /checkout failing for 20 minutes",
        6 * 3600,
        Front(),
        replace(Front(), failing=(("/checkout", 0.5),)),
        20 * 60,
        expected=(
            _alert("SLOErrorBudgetBurn", "requests", "critical", route="/checkout"),
            _alert("SLOErrorBudgetBurn", "requests", "warning", route="/checkout"),
            _alert("RouteErrors", "route-errors", "critical", route="/checkout"),
        ),
        pending_since_s={"RouteErrors": 15 * 60},
        counters=front_rates,
        levels=no_gauges,
    ),
]
