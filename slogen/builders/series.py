"""Synthetic input series for promtool unit tests, derived from the spec's selectors.

For a ratio SLI with a bad ratio rho, we need series that the bad selector sees at
rho * T and the total selector at T, whatever the matchers: labels are picked that
satisfy each selector and, where one selector would see the other's series, violate it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from .. import model as m
from ..promql import Selector, quote, satisfying_value, violating_value
from ..quantity import fmt, fmt_le
from . import queries as q

Labels = dict[str, str]
Series = dict[str, str]

TOTAL_PER_MINUTE = Decimal(6000)  # 100 events per second
GROUP_VALUE = "slogen-test"  # the value of `by` labels in synthetic series


def example_labels(selector: Selector, avoid: Selector | None = None, extra: Labels | None = None) -> Labels:
    """Labels the selector matches; if `avoid` would match them too, change one label so
    that it does not (raises ValueError when that is impossible)."""
    labels: Labels = dict(extra or {})
    for matcher in selector.matchers:
        if matcher.name in labels and matcher.matches(labels[matcher.name]):
            continue  # a value chosen for every selector (a `by` label) stays
        value = satisfying_value(matcher)
        if value:
            labels[matcher.name] = value
    if not selector.matches(selector.metric, labels):
        raise ValueError(f"cannot find labels that {selector.render()} matches: do its matchers contradict each other?")
    if avoid is None or not avoid.matches(selector.metric, labels):
        return labels
    own = {mt.name: mt for mt in selector.matchers}
    for matcher in avoid.matchers:
        other = violating_value(matcher)
        if other is None:
            continue
        if matcher.name in own and not own[matcher.name].matches(other):
            continue
        changed = {**labels, matcher.name: other} if other else {k: v for k, v in labels.items() if k != matcher.name}
        if not avoid.matches(selector.metric, changed):
            return changed
    raise ValueError(f"cannot build a series that {selector.render()} matches and {avoid.render()} does not")


def group_labels(selectors: Sequence[Selector | None], by: tuple[str, ...]) -> Labels:
    """The value synthetic series carry for each `by` label: one that every selector
    accepts, so that bad, good and total series meet in one group (a matcher may fix
    it: `cache=~"a|b"` on good events and none on bad ones gives both cache="a")."""
    given = [s for s in selectors if s is not None]
    out: Labels = {}
    for label in by:
        matchers = [mt for s in given for mt in s.matchers if mt.name == label]
        suggested = [v for v in (satisfying_value(mt) for mt in matchers) if v]
        value = next((v for v in [*suggested, GROUP_VALUE] if all(mt.matches(v) for mt in matchers)), None)
        if value is None:
            raise ValueError(f"no value of {label} is matched by every selector: their `by` groups never meet")
        out[label] = value
    return out


def series_text(metric: str, labels: Labels) -> str:
    inner = ", ".join(f"{k}={quote(v)}" for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}" if inner else metric


def counter(metric: str, labels: Labels, per_minute: Decimal, points: int) -> Series:
    return {"series": series_text(metric, labels), "values": f"0+{fmt(per_minute)}x{points}"}


def gauge(metric: str, labels: Labels, value: Decimal, points: int) -> Series:
    return {"series": series_text(metric, labels), "values": f"{fmt(value)}x{points}"}


def ratio_series(
    sli: m.RatioSLI, rho: Decimal, points: int, by: tuple[str, ...] = (), group: Labels | None = None
) -> list[Series]:
    """Counters such that bad / total = rho, T = TOTAL_PER_MINUTE, in the group of `by`
    values `group` (by default, one that every selector accepts)."""
    extra = group if group is not None else group_labels([sli.bad, sli.good, sli.total], by)
    total_rate = TOTAL_PER_MINUTE
    bad_rate = total_rate * rho
    good_rate = total_rate - bad_rate
    if sli.bad is not None and sli.total is not None:
        bad = example_labels(sli.bad, extra=extra)
        if sli.total.matches(sli.bad.metric, bad):
            rest = example_labels(sli.total, avoid=sli.bad, extra=extra)
            return [counter(sli.bad.metric, bad, bad_rate, points), counter(sli.total.metric, rest, good_rate, points)]
        return [
            counter(sli.bad.metric, bad, bad_rate, points),
            counter(sli.total.metric, example_labels(sli.total, extra=extra), total_rate, points),
        ]
    if sli.good is not None and sli.total is not None:
        good = example_labels(sli.good, extra=extra)
        if sli.total.matches(sli.good.metric, good):
            rest = example_labels(sli.total, avoid=sli.good, extra=extra)
            return [
                counter(sli.good.metric, good, good_rate, points),
                counter(sli.total.metric, rest, bad_rate, points),
            ]
        return [
            counter(sli.good.metric, good, good_rate, points),
            counter(sli.total.metric, example_labels(sli.total, extra=extra), total_rate, points),
        ]
    assert sli.good is not None and sli.bad is not None
    return [
        counter(sli.good.metric, example_labels(sli.good, extra=extra), good_rate, points),
        counter(sli.bad.metric, example_labels(sli.bad, avoid=sli.good, extra=extra), bad_rate, points),
    ]


def histogram_series(
    histogram: Selector,
    buckets: tuple[Decimal, ...],
    counts: dict[Decimal, Decimal],
    points: int,
    by: tuple[str, ...] = (),
    group: Labels | None = None,
) -> list[Series]:
    """Cumulative bucket counters from per-bucket observation rates {upper bound: per minute}."""
    labels = example_labels(histogram, extra=group if group is not None else group_labels([histogram], by))
    metric = q.bucket(histogram).metric
    out = []
    running = Decimal(0)
    for bound in buckets:
        running += counts.get(bound, Decimal(0))
        out.append(counter(metric, {**labels, "le": fmt_le(bound)}, running, points))
    running += counts.get(Decimal("Infinity"), Decimal(0))
    out.append(counter(metric, {**labels, "le": "+Inf"}, running, points))
    return out


def latency_series(
    sli: m.LatencySLI, rho: Decimal, points: int, by: tuple[str, ...] = (), group: Labels | None = None
) -> list[Series]:
    """Good observations in the threshold's bucket, bad ones in the bucket above it."""
    above = next((b for b in sli.buckets if b > sli.threshold), Decimal("Infinity"))
    counts = {sli.threshold: TOTAL_PER_MINUTE * (1 - rho)}
    counts[above] = counts.get(above, Decimal(0)) + TOTAL_PER_MINUTE * rho
    return histogram_series(sli.histogram, sli.buckets, counts, points, by, group)


def events_series(
    sli: m.RatioSLI | m.LatencySLI, rho: Decimal, points: int, by: tuple[str, ...] = (), group: Labels | None = None
) -> list[Series]:
    if isinstance(sli, m.LatencySLI):
        return latency_series(sli, rho, points, by, group)
    return ratio_series(sli, rho, points, by, group)


def quantile_buckets(kind: m.QuantileAlert) -> list[tuple[Decimal, Decimal]]:
    """(upper bound, what histogram_quantile reads) when every observation is in that
    bucket: lower + (upper - lower) x q, interpolated as Prometheus does (the first bucket
    starts at 0; in the +Inf bucket it reads the highest finite bound)."""
    out = []
    lower = Decimal(0)
    for upper in kind.buckets:
        out.append((upper, lower + (upper - lower) * kind.quantile))
        lower = upper
    out.append((Decimal("Infinity"), lower))
    return out


def quantile_series(kind: m.QuantileAlert, upper: Decimal, points: int, by: tuple[str, ...]) -> list[Series]:
    """Every observation in the bucket that ends at `upper`."""
    return histogram_series(kind.histogram, kind.buckets, {upper: TOTAL_PER_MINUTE}, points, by)


def unify(series: list[Series]) -> list[Series]:
    """Drop repeated series (two SLIs reading the same counter), keeping the first."""
    seen: set[str] = set()
    out = []
    for item in series:
        if item["series"] not in seen:
            seen.add(item["series"])
            out.append(item)
    return out
