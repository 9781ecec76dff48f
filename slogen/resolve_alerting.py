"""`alerting:` -> the model: the service's defaults merged with an SLO's own, field by
field (label and annotation maps merge, the SLO's over the service's), and custom tiers
checked against the SLO they watch, each problem at the field that causes it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from . import conventions as c
from . import model as m
from . import spec as s
from .errors import Problem
from .load import Document, Path_
from .quantity import fmt, parse_duration
from .spec_alerting import AbsentAlert, Alerting, Tier
from .tiers import CustomTier, never_fires

_KINDS = (("page", c.SEVERITY_CRITICAL), ("ticket", c.SEVERITY_WARNING))
Layer = tuple[Path_, Alerting | None]  # where an `alerting:` is, and what it says


@dataclass(frozen=True)
class ShapedSLO:
    name: str
    shaping: m.Shaping
    tiers: tuple[CustomTier, ...] | None  # None: the workbook's tiers


def shape_slo(
    doc: Document,
    spec: s.ServiceFile,
    slo_id: str,
    slo: s.SLO,
    budget: Decimal,
    period_ms: int,
    threshold_names: set[str],
    problems: list[Problem],
) -> ShapedSLO | None:
    """None (with the problems recorded) when the SLO's alerting cannot be meant."""
    layers: list[Layer] = [(("alerting",), spec.alerting), (("slos", slo_id, "alerting"), slo.alerting)]
    before = len(problems)
    shaping = _shaping(doc, layers, {**spec.labels, **slo.labels}, problems)
    name, name_path = c.ALERT_BURN_RATE, None
    for path, alerting in layers:
        if alerting is not None and alerting.name is not None:
            name, name_path = alerting.name, (*path, "name")
    if name_path is not None:
        problem = _name_problem(name, threshold_names)
        if problem:
            problems.append(doc.problem(name_path, problem))
    tiers = _custom_tiers(doc, layers, slo_id, slo.window, budget, period_ms, problems)
    if len(problems) > before or shaping is None:
        return None
    return ShapedSLO(name, shaping, tiers)


def shape_alert(
    doc: Document, spec: s.ServiceFile, alert_id: str, alert: s.Alert, problems: list[Problem]
) -> m.Shaping | None:
    """A threshold alert takes the service's page shape for its critical level, the
    ticket shape for its warning level, and the service's absent-data setting."""
    before = len(problems)
    shaping = _shaping(doc, [(("alerting",), spec.alerting)], {**spec.labels, **alert.labels}, problems)
    if shaping is not None:
        for i, label in enumerate(alert.by):
            kinds = [
                k for k, shape in (("page", shaping.page), ("ticket", shaping.ticket)) if label in dict(shape.labels)
            ]
            if kinds:
                message = (
                    f"cannot group by {label!r}: the service's alerting.{kinds[0]}.labels set it on this alert, so every "
                    "group would get the same labels and Prometheus would fail the rule; leave it out of one of them"
                )
                problems.append(doc.problem(("alerts", alert_id, "by", i), message))
    return None if len(problems) > before else shaping


def _name_problem(name: str, threshold_names: set[str]) -> str | None:
    if name == c.ALERT_ABSENT:
        return f"{name} is the name of slogen's absent-data alert: choose another"
    if name in threshold_names:
        return f"{name} is the name of a threshold alert of this service (alerts:): choose another"
    return None


def _shaping(
    doc: Document, layers: list[Layer], item_labels: dict[str, str], problems: list[Problem]
) -> m.Shaping | None:
    shapes: dict[str, m.Shape] = {}
    severity_paths: dict[str, Path_] = {}  # kind -> where its severity was last set
    for kind, default in _KINDS:
        severity, labels, annotations = default, dict[str, str](), dict[str, str]()
        for path, alerting in layers:
            shape = getattr(alerting, kind) if alerting is not None else None
            if shape is None:
                continue
            if shape.severity is not None:
                severity = shape.severity
                severity_paths[kind] = (*path, kind, "severity")
            for key in shape.labels:
                if key in item_labels:
                    message = f"label {key!r} is already {item_labels[key]!r} on every series of this item (labels:): set it in one place"
                    problems.append(doc.problem((*path, kind, "labels", key), message))
            labels.update(shape.labels)
            annotations.update(shape.annotations)
        shapes[kind] = m.Shape(severity, tuple(sorted(labels.items())), tuple(sorted(annotations.items())))
    page, ticket = shapes["page"].severity, shapes["ticket"].severity
    if page == ticket or page == c.SEVERITY_WARNING or ticket == c.SEVERITY_CRITICAL:
        message = (
            f"page alerts would have severity {page!r} and ticket alerts {ticket!r}: routing and inhibition tell "
            "them apart by it, so they must differ"
        )
        if page != ticket:
            message += f" ({c.SEVERITY_CRITICAL} is the pages' default, {c.SEVERITY_WARNING} the tickets')"
        problems.append(doc.problem(_clashing(severity_paths, page, ticket), message))
        return None
    return m.Shaping(shapes["page"], shapes["ticket"], _absent_for(layers))


def _clashing(paths: dict[str, Path_], page: str, ticket: str) -> Path_:
    """The setting to blame: the value taken from the other kind, or else the most
    specific one (an SLO's over the service's)."""
    if page == c.SEVERITY_WARNING and "page" in paths:
        return paths["page"]
    if ticket == c.SEVERITY_CRITICAL and "ticket" in paths:
        return paths["ticket"]
    return max(paths.values(), key=len)


def _absent_for(layers: list[Layer]) -> int | None:
    absent: bool | AbsentAlert | None = None
    for _, alerting in layers:
        if alerting is not None and alerting.absent is not None:
            absent = alerting.absent
    if absent is False:
        return None
    if absent is None or absent is True:
        return c.ABSENT_FOR_MS
    return parse_duration(absent.for_)


def _custom_tiers(
    doc: Document,
    layers: list[Layer],
    slo_id: str,
    window: str,
    budget: Decimal,
    period_ms: int,
    problems: list[Problem],
) -> tuple[CustomTier, ...] | None:
    """The tiers the spec lists (the SLO's, else the service's), each checked. A tier of
    the service's list that can never fire for this SLO is left out with a warning (the
    list serves SLOs of other budgets too); one the SLO itself lists is an error."""
    path, tiers = next(((p, a.tiers) for p, a in reversed(layers) if a is not None and a.tiers), ((), None))
    if tiers is None:
        return None
    own = path[0] == "slos"
    out: list[CustomTier] = []
    seen: dict[tuple[str, int, int], int] = {}
    for i, tier in enumerate(tiers):
        here: Path_ = (*path, "tiers", i)
        found = _tier_problems(tier, window, period_ms, budget, own, slo_id)
        resolved = _tier(tier, period_ms)
        key = (resolved.severity, resolved.long_ms, resolved.short_ms)
        if key in seen:
            found.append(((), f"tiers[{seen[key]}] is a {tier.severity} tier over the same windows: keep one"))
        seen.setdefault(key, i)
        problems += [doc.problem((*here, *where), message) for where, message in found]
        out.append(CustomTier(resolved, "" if own else f"alerting.tiers[{i}] at {doc.file}:{doc.line_of(here)}"))
    return tuple(out)


def _tier_problems(
    tier: Tier, window: str, period_ms: int, budget: Decimal, own: bool, slo_id: str
) -> list[tuple[Path_, str]]:
    long_ms, short_ms = parse_duration(tier.long), parse_duration(tier.short)
    found: list[tuple[Path_, str]] = []
    if short_ms < c.BASE_WINDOW_MS:
        found.append(
            (("short",), f"the short window must be at least 5m (every SLI is recorded as 5m rates), got {tier.short}")
        )
    if long_ms <= short_ms:
        found.append((("long",), f"the long window must be longer than the short one ({tier.short}), got {tier.long}"))
    if long_ms > period_ms:
        whose = "the SLO's window" if own else f"the window of SLO {slo_id!r}"
        found.append((("long",), f"the long window must be within {whose} ({window}), got {tier.long}"))
    factor = Decimal(str(tier.factor))
    if own and factor * budget >= 1:
        found.append((("factor",), f"{never_fires(factor, budget)}: give a factor under {fmt(1 / budget)}"))
    return found


def _tier(tier: Tier, period_ms: int) -> m.BurnRateTier:
    long_ms = parse_duration(tier.long)
    factor = Decimal(str(tier.factor)).normalize()
    # The share of the period's budget a burn at exactly `factor` spends in the long window.
    share = (factor * long_ms / period_ms).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return m.BurnRateTier(
        severity=c.SEVERITY_CRITICAL if tier.severity == "page" else c.SEVERITY_WARNING,
        long_ms=long_ms,
        short_ms=parse_duration(tier.short),
        factor=factor,
        budget_share=share,
        for_ms=parse_duration(tier.for_) if tier.for_ else 0,
    )
