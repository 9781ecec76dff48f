"""Specs that parse but cannot be meant: refused with what to write instead.

Each check returns the message, or None when the spec is fine; `resolve` places it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from decimal import Decimal

from . import conventions as c
from . import model as m
from .promql import Selector, grouping_labels
from .quantity import fmt, fmt_percent

# Labels slogen itself puts on every alert: grouping by one of them gives every group
# the same label set once the alert's labels are applied.
SET_BY_SLOGEN = (c.LABEL_SERVICE, c.LABEL_SLO, c.LABEL_OWNER, c.LABEL_SEVERITY, "alertname")


def colliding_by(label: str, spec_labels: Iterable[str], quantile: bool, slo: bool = False) -> str | None:
    """`by: [service]`: Prometheus would fail the rule at evaluation time with
    "vector contains metrics with the same labelset after applying alert labels"."""
    if quantile and label == "le":
        return "cannot group by 'le': it is the bucket label, which the quantile is computed over; leave it out of by"
    if slo and label == "le":
        # A latency SLI sums the buckets at and under its threshold; a ratio SLI's events
        # are no histogram buckets: either way, one group per bucket cannot be meant.
        return "cannot group an SLO by 'le': it is a histogram's bucket label, which the SLI counts over; leave it out of by"
    if slo and label == "datasource":
        # Each `by` label becomes a dashboard variable of its name, and this one is taken.
        return "cannot group an SLO by 'datasource': the dashboards' data source variable has that name; leave it out of by"
    if label in SET_BY_SLOGEN:
        source = "slogen sets it on every alert"
    elif label in spec_labels:
        source = "the spec's labels set it on this alert"
    else:
        return None
    return (
        f"cannot group by {label!r}: {source}, so every group would get the same labels and Prometheus "
        "would fail the rule (vector contains metrics with the same labelset after applying alert labels); "
        "leave it out of by"
    )


RAW_BY = (
    "by does not apply to a raw SLI: its expression decides the labels of its error ratio; group inside it "
    "(sum by (route) (...) / sum by (route) (...)) and each value gets its own alerts"
)


# An expression decides which labels its events keep (a `sum by (job)` inside drops
# `route`: every group would be silently empty), and its tests are the spec's own series,
# in which slogen cannot make one group burn and another stay healthy: the proof that a
# grouped SLO alerts per value cannot be written, so it is refused with the two ways that
# can.
EXPRESSION_BY = (
    "by does not apply when events are expressions: the expression decides which labels its events keep, and "
    "the spec's own test series cannot prove that each value alerts alone; give bad, good and total as "
    "selectors (slogen writes the sum by (...) and the tests per value itself), or write a raw SLI that groups "
    "inside its expression (sum by (route) (...) / sum by (route) (...))"
)


def ungroupable(sli: m.SLI) -> str | None:
    """Why an SLO of this SLI cannot take `by`, if it cannot."""
    if isinstance(sli, m.RawSLI):
        return RAW_BY
    if isinstance(sli, m.ExprRatioSLI):
        return EXPRESSION_BY
    return None


def slo_by(by: list[str], spec_labels: Iterable[str], sli: m.SLI) -> list[tuple[tuple[str | int, ...], str]]:
    """An SLO's `by` that cannot be meant: (where under the SLO, message) for each label."""
    refused = ungroupable(sli)
    if by and refused:
        return [(("by",), refused)]
    found = [(("by", i), colliding_by(label, spec_labels, False, slo=True)) for i, label in enumerate(by)]
    return [(where, problem) for where, problem in found if problem]


def alert_by(by: list[str], kind: m.AlertKind) -> tuple[str, ...]:
    """The SLI of a grouped SLO is one ratio per value: a `ratio_of` alert without its own
    `by` watches each value too (reading the SLO's recorded 5m ratio, as for any SLO)."""
    if not by and isinstance(kind, m.RatioAlert) and kind.slo is not None:
        return kind.slo.by
    return tuple(by)


def inherited_by(label: str) -> str:
    """A threshold alert on a grouped SLO watches each of its values, so its own labels
    may not set a label the SLO groups by."""
    return (
        f"the SLO this alert reads groups by {label!r}, and so does the alert: setting it here would give every group "
        "the same labels and Prometheus would fail the rule; remove it from labels (or watch the whole SLI with "
        "ratio: and its selectors)"
    )


def raw_grouping(expr: str, spec_labels: Iterable[str]) -> str | None:
    """A raw expression that keeps a label slogen sets (`sum by (slo) (...)`): every group
    gets the same labels once slogen's are applied, and Prometheus fails the rule."""
    kept = [
        label for label in grouping_labels(expr.replace("$window", "5m")) if label in (*SET_BY_SLOGEN, *spec_labels)
    ]
    if not kept:
        return None
    return (
        f"the expression groups by {', '.join(kept)}, which slogen (or the spec's labels) sets on every series "
        "of this rule: two groups would get the same labels and Prometheus would fail the rule (vector "
        "contains metrics with the same labelset after applying rule labels); leave it out of by (...)"
    )


def le_in_histogram(selector: Selector, is_slo: bool) -> str | None:
    """`h{le="0.25"}` as Pyrra users write it: slogen adds its own `le`, and a selector
    with two `le` matchers never matches."""
    le = next((x for x in selector.matchers if x.name == "le"), None)
    if le is None:
        return None
    instead = (
        f"give the bucket as latency.threshold: {le.value}" if is_slo else "the quantile is computed from every bucket"
    )
    return f"a histogram selector may not match le ({le.render()}): slogen selects the buckets itself; remove it ({instead})"


def level_order(levels: list[m.Level], percent: bool) -> str | None:
    """A warning that can only fire once the critical level has been passed (warning
    above 10%, critical above 5%) is a mistake, most often the two levels swapped."""
    by_severity = {level.severity: level for level in levels}
    warning, critical = by_severity.get(c.SEVERITY_WARNING), by_severity.get(c.SEVERITY_CRITICAL)
    if warning is None or critical is None:
        return None
    upward = warning.op in (">", ">=") and critical.op in (">", ">=")
    downward = warning.op in ("<", "<=") and critical.op in ("<", "<=")
    stricter = (upward and warning.value > critical.value) or (downward and warning.value < critical.value)
    if not stricter:
        return None
    return (
        f"the warning level ({warning.op} {_show(warning.value, percent)}) is stricter than the critical one "
        f"({critical.op} {_show(critical.value, percent)}): it could only fire once the alert is already critical; "
        "swap the two levels?"
    )


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`; did you mean 'availability'?` when a known name is close, else nothing."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _show(value: Decimal, percent: bool) -> str:
    return fmt_percent(value) if percent else fmt(value)


def shape_labels_grouped(slo: m.SLO) -> str | None:
    """An `alerting:` label that the SLO's `by` gives each value: every group's alert
    would carry the one fixed value instead of its own."""
    shapes = (slo.shaping.page, slo.shaping.ticket)
    taken = sorted({k for shape in shapes for k, _ in shape.labels} & set(slo.by))
    if not taken:
        return None
    return (
        f"alerting labels set {', '.join(repr(x) for x in taken)}, which this SLO's by gives each value its own of: "
        "leave it out of the alerting labels"
    )


def window_labels_taken(slo: m.SLO) -> str | None:
    """Tiers of one kind with different `for`s are one rule each, labelled `long` and
    `short` (builders.rules.burn_rules): a label of that name set elsewhere would collide."""
    from .builders.rules import burn_rules

    split = {key for burn in burn_rules(slo) for key, _ in burn.extra}
    shapes = (slo.shaping.page, slo.shaping.ticket)
    taken = sorted(split & {*slo.label_dict(), *slo.by, *(k for shape in shapes for k, _ in shape.labels)})
    if not taken:
        return None
    return (
        f"tiers of one kind with different for: values are one alert rule each, labelled {c.LABEL_LONG!r} and "
        f"{c.LABEL_SHORT!r} with their windows, and this SLO already sets {', '.join(repr(x) for x in taken)}: "
        "rename that label, or give the tiers of a kind one for"
    )
