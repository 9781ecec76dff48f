"""Burn-rate tiers for every period from 1h to a year: windows, factors, and which tiers
are generated.

The reference is the SRE workbook's table for 30 days (`conventions.BURN_RATE_TIERS`):
each tier fires after a set share of the budget is spent (2%, 5%, 10%, 10%). For a period P:

- windows scale by P / 30d, to whole minutes; the short window is at least 5m (the rate
  window every SLI is recorded at) and the long window at least twice the short one;
- the factor keeps the tier's share: factor = share x P / long window, so a total outage
  fires every tier after the same share of the budget, whatever the period. Where a floor
  lengthened the long window (periods under 5 days) the factor drops with it, but never
  under 1x: a burn under 1x would not spend the budget within the period. There the tier
  fires after long / P of the budget instead (at most a sixth: windows stay far under P).

From 5 days up, no floor binds: windows are the 30-day ones scaled and the factors are
14.4, 6, 3 and 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from . import conventions as c
from . import model as m
from . import spec as s
from .quantity import fmt, fmt_percent, format_duration

MINUTE_MS = 60_000
# Short window / long window floor: the long window must see more than the short one.
MIN_LONG_OVER_SHORT = 2
# No alert fires sooner after an outage starts: a scrape and a rule evaluation at least.
# A budget spent faster than this (99.9% over 1h is 3.6s of outage) cannot be defended.
MIN_DETECTION_MS = MINUTE_MS
KIND = {c.SEVERITY_CRITICAL: "page", c.SEVERITY_WARNING: "ticket"}


@dataclass(frozen=True)
class TierPlan:
    kept: tuple[m.BurnRateTier, ...]
    dropped: tuple[m.DroppedTier, ...]
    warnings: tuple[str, ...]  # messages about the SLO as a whole


def scaled_tier(severity: str, long_ms: int, short_ms: int, share: Decimal, period_ms: int) -> m.BurnRateTier:
    """One 30-day tier scaled to the period (see the module's docstring)."""
    scale = Decimal(period_ms) / c.REFERENCE_PERIOD_MS
    short_scaled = max(c.BASE_WINDOW_MS, _to_minutes(short_ms * scale))
    long_scaled = min(period_ms, max(_to_minutes(long_ms * scale), MIN_LONG_OVER_SHORT * short_scaled))
    factor = (share * period_ms / long_scaled).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if factor < 1:
        factor = Decimal(1)
        share = (Decimal(long_scaled) / period_ms).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return m.BurnRateTier(severity, long_scaled, short_scaled, factor.normalize(), share)


def _to_minutes(ms: Decimal) -> int:
    return max(MINUTE_MS, int((ms / MINUTE_MS).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * MINUTE_MS)


COVERED_BY_PAGE = "redundant: the page over the same windows"


@dataclass(frozen=True)
class CustomTier:
    tier: m.BurnRateTier
    where: str  # "alerting.tiers[0] at slo/x.yaml:12" for a tier of the service's list, else ""


def plan_tiers(
    objective: Decimal, period_ms: int, enabled: s.BurnRateAlerts, custom: tuple[CustomTier, ...] | None = None
) -> TierPlan:
    """The tiers to generate, those not generated (and why), and the warnings to print.

    `custom`: the spec's own tiers (alerting.tiers), which replace the workbook's. Each
    tier that can never fire is warned about with the line that leaves out only it.
    """
    budget = 1 - objective
    kept: list[m.BurnRateTier] = []
    dropped: list[m.DroppedTier] = []
    budget_ms = int(budget * period_ms)
    too_fast = budget_ms < MIN_DETECTION_MS
    if custom is None:
        candidates = [scaled_tier(sev, long, short, share, period_ms) for sev, long, short, share in c.BURN_RATE_TIERS]
    else:
        candidates = [x.tier for x in custom]
    for tier in candidates:
        on = enabled.page if tier.severity == c.SEVERITY_CRITICAL else enabled.ticket
        if not on:
            dropped.append(m.DroppedTier(tier, "disabled in the spec (burn_rate_alerts)"))
        elif too_fast:
            reason = (
                f"fires only after the whole budget is spent: {format_duration(max(1, budget_ms))} of total outage "
                f"spends it, and no alert fires within a minute (a scrape and a rule evaluation)"
            )
            dropped.append(m.DroppedTier(tier, reason))
        elif tier.factor * budget >= 1:
            dropped.append(m.DroppedTier(tier, never_fires(tier.factor, budget)))
        else:
            kept.append(tier)
    if custom is None:
        kept, redundant = _without_redundant(kept)
        dropped += redundant
    if too_fast and (enabled.page or enabled.ticket):
        return TierPlan(tuple(kept), tuple(dropped), (_too_fast_warning(budget_ms, period_ms),))
    where = {x.tier: x.where for x in custom or ()}
    return TierPlan(tuple(kept), tuple(dropped), _warnings(kept, dropped, where, custom is not None))


NEVER_FIRES = "can never fire"


def never_fires(factor: Decimal, budget: Decimal) -> str:
    return (
        f"{NEVER_FIRES}: {fmt(factor)}x the {fmt_percent(budget)} error budget is an error ratio of "
        f"{fmt_percent(factor * budget)}, more than every event failing"
    )


def tier_yaml(tier: m.BurnRateTier) -> str:
    """A tier as `alerting.tiers` takes it, in YAML's flow style."""
    out = (
        f"{{severity: {KIND[tier.severity]}, long: {format_duration(tier.long_ms)}, "
        f"short: {format_duration(tier.short_ms)}, factor: {fmt(tier.factor)}"
    )
    return out + (f", for: {format_duration(tier.for_ms)}}}" if tier.for_ms else "}")


def _without_redundant(tiers: list[m.BurnRateTier]) -> tuple[list[m.BurnRateTier], list[m.DroppedTier]]:
    """Under a few days, floors give two tiers of a severity the same windows: the one
    with the lower factor always fires first, so the other is left out."""
    first: dict[tuple[str, int, int], m.BurnRateTier] = {}
    for tier in tiers:
        key = (tier.severity, tier.long_ms, tier.short_ms)
        if key not in first or tier.factor < first[key].factor:
            first[key] = tier
    kept = [t for t in tiers if first[(t.severity, t.long_ms, t.short_ms)] is t]
    dropped = [
        m.DroppedTier(
            t,
            f"redundant: the tier over the same windows at {fmt(first[(t.severity, t.long_ms, t.short_ms)].factor)}x fires first",
        )
        for t in tiers
        if first[(t.severity, t.long_ms, t.short_ms)] is not t
    ]
    # Under 6h, a ticket can land on a page's windows at a factor no lower: it could only
    # fire while that page fires, and the page inhibits it.
    for t in [t for t in kept if t.severity == c.SEVERITY_WARNING]:
        page = first.get((c.SEVERITY_CRITICAL, t.long_ms, t.short_ms))
        if page is not None and page in kept and page.factor <= t.factor:
            kept.remove(t)
            dropped.append(m.DroppedTier(t, f"{COVERED_BY_PAGE} at {fmt(page.factor)}x fires first"))
    return kept, dropped


def _too_fast_warning(budget_ms: int, period_ms: int) -> str:
    return (
        f"no burn-rate alert generated: the whole error budget is {format_duration(max(1, budget_ms))} of total "
        f"outage in {format_duration(period_ms)}, spent before any alert can fire (a scrape and a rule "
        f"evaluation take a minute); lower the objective or lengthen the window"
    )


def _warnings(
    kept: list[m.BurnRateTier], dropped: list[m.DroppedTier], where: dict[m.BurnRateTier, str], custom: bool
) -> tuple[str, ...]:
    """One warning per tier that can never fire, naming it and the `alerting.tiers` that
    leaves out only the tiers that cannot fire (the alerts stay as generated)."""
    out = []
    keep = "[" + ", ".join(tier_yaml(t) for t in kept) + "]"
    for d in dropped:
        if not d.reason.startswith(NEVER_FIRES):
            continue
        t, kind = d.tier, KIND[d.tier.severity]
        if (
            not custom
            and any(x.tier.severity == t.severity and x.reason.startswith(COVERED_BY_PAGE) for x in dropped)
            and not any(k.severity == t.severity for k in kept)
        ):
            continue  # the page watches these windows: nothing is lost, nothing to turn off
        origin = f" ({where[t]})" if where.get(t) else ""
        name = f"{kind} tier {format_duration(t.long_ms)}/{format_duration(t.short_ms)} at {fmt(t.factor)}x{origin}"
        advice = f"give this SLO alerting: {{tiers: {keep}}}" if kept else ""
        if not any(k.severity == t.severity for k in kept):
            lost = f"no {kind} tier of this SLO can fire (set burn_rate_alerts.{kind}: false to say so in the spec"
            lost += f", or {advice})" if advice else ")"
            out.append(f"{name} {d.reason}; not generated, and {lost}")
        else:
            out.append(f"{name} {d.reason}; not generated (to leave out only the tiers that cannot fire, {advice})")
    return tuple(out)
