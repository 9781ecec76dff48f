"""Prometheus recording and alerting rules, one file per SLO and per threshold alert."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .. import conventions as c
from .. import model as m
from ..quantity import fmt, fmt_percent, format_duration
from ..text import render
from . import queries as q

Rule = dict[str, Any]


@dataclass(frozen=True)
class TextContext:
    """What alert texts need beyond the model: template overrides and Grafana's address."""

    templates: str | None = None
    grafana_url: str = ""


def build_rule_files(model: m.Model, templates: str | None = None) -> dict[str, dict[str, Any]]:
    """{relative path: {"source": spec file, "groups": [...]}} for every SLO and alert."""
    text = TextContext(templates, model.settings.grafana_url)
    files: dict[str, dict[str, Any]] = {}
    for service in model.services:
        for slo in service.slos:
            files[c.rules_file(service.name, slo.id)] = {
                "source": slo.source.spec_path,
                "groups": build_slo_groups(slo, text),
            }
        for alert in service.alerts:
            files[c.rules_file(service.name, alert.id)] = {
                "source": alert.source.spec_path,
                "groups": [build_threshold_group(alert, text)],
            }
    return files


def build_slo_groups(slo: m.SLO, text: TextContext = TextContext()) -> list[dict[str, Any]]:
    """Three groups. Every minute what pages read: the 5m rates, the page windows, the
    pages. Every 2m30s (the period group) what only tickets and dashboards read: the
    other windows, the current burn rate, the period, the tickets (the absent-data alert
    is one too). Per-rule overhead dominates what rules cost Prometheus, and a ticket
    over a day or three, or after 10 minutes without data, gains nothing from being
    looked at every minute (bench/rules_cost.py)."""
    recordings = build_sli_recordings(slo)
    fast = page_windows(slo)
    every_minute = [r for r in recordings if r["record"] in fast]
    slower = [r for r in recordings if r["record"] not in fast]
    pages = build_burn_rate_alerts(slo, text, c.SEVERITY_CRITICAL)
    tickets = build_burn_rate_alerts(slo, text, c.SEVERITY_WARNING)
    five, coarse, period = c.slo_group_names(slo.service, slo.id)
    return [
        {"name": five, "rules": every_minute + pages},
        {"name": coarse, "interval": c.COARSE_GROUP_INTERVAL, "rules": build_coarse_recordings(slo)},
        {
            "name": period,
            "interval": c.PERIOD_GROUP_INTERVAL,
            "rules": slower + build_period_recordings(slo) + tickets + build_absent_alerts(slo, text),
        },
    ]


def page_windows(slo: m.SLO) -> set[str]:
    """The recordings evaluated every minute: the 5m rates and ratio (a raw SLI's 5m
    ratio), and every window a page reads."""
    windows = {c.BASE_WINDOW_MS} | {
        w for t in slo.tiers if t.severity == c.SEVERITY_CRITICAL for w in (t.long_ms, t.short_ms)
    }
    return {c.BAD_RATE, c.TOTAL_RATE} | {c.error_ratio(w) for w in windows}


def build_coarse_recordings(slo: m.SLO) -> list[Rule]:
    """The 5m rates of bad and all events summed over 30 minutes, every 30 minutes (for
    a raw SLI, its 5m ratio summed and its samples counted)."""
    labels = slo.label_dict()
    if isinstance(slo.sli, m.RawSLI):
        ratio = q.recorded(c.error_ratio(c.BASE_WINDOW_MS), slo)
        return [
            _record(c.RAW_RATIO_SUM, f"sum_over_time({ratio}[{c.COARSE_WINDOW}])", labels),
            _record(c.RAW_RATIO_COUNT, f"count_over_time({ratio}[{c.COARSE_WINDOW}])", labels),
        ]
    return [
        _record(summed, f"sum_over_time({q.recorded(rate, slo)}[{c.COARSE_WINDOW}])", labels)
        for summed, rate in ((c.BAD_SUM, c.BAD_RATE), (c.TOTAL_SUM, c.TOTAL_RATE))
    ]


def with_severity(item: m.SLO | m.ThresholdAlert, severity: str) -> dict[str, str]:
    """An alert's labels: the item's own, its kind's (alerting.page/ticket) and the kind's
    severity value, sorted. `severity` is the kind: critical pages, warning tickets."""
    shape = item.shaping.of(severity)
    return dict(sorted({**item.label_dict(), **dict(shape.labels), c.LABEL_SEVERITY: shape.severity}.items()))


def _record(name: str, expr: str, labels: dict[str, str]) -> Rule:
    return {"record": name, "expr": expr, "labels": labels}


def build_sli_recordings(slo: m.SLO) -> list[Rule]:
    """The 5m rates of bad and all events from raw series, then every alert window from
    those two recordings. A raw SLI's expression is evaluated at 5m only; its longer
    windows average that recording."""
    labels = slo.label_dict()
    sli = slo.sli
    if isinstance(sli, m.RawSLI):
        rules = [_record(c.error_ratio(c.BASE_WINDOW_MS), q.raw_error_ratio(sli), labels)]
    else:
        bad, total = q.events(sli, c.BASE_WINDOW_MS, slo.by)
        rules = [
            _record(c.BAD_RATE, bad, labels),
            _record(c.TOTAL_RATE, total, labels),
            _record(
                c.error_ratio(c.BASE_WINDOW_MS),
                f"{q.recorded(c.BAD_RATE, slo)}\n/\n{q.recorded(c.TOTAL_RATE, slo)}",
                labels,
            ),
        ]
    rules += [
        _record(c.error_ratio(w), q.windowed_error_ratio(slo, w), labels) for w in slo.windows if w != c.BASE_WINDOW_MS
    ]
    rules.append(
        _record(c.CURRENT_BURN_RATE, f"{q.recorded(c.error_ratio(slo.now_ms), slo)} / {fmt(slo.budget)}", labels)
    )
    return rules


def build_period_recordings(slo: m.SLO) -> list[Rule]:
    labels = slo.label_dict()
    period_ratio = q.windowed_error_ratio(slo, slo.period_ms)
    ratio = q.recorded(c.error_ratio(slo.period_ms), slo)
    budget = fmt(slo.budget)
    return [
        _record(c.error_ratio(slo.period_ms), period_ratio, labels),
        _record(c.OBJECTIVE, f"vector({fmt(slo.objective)})", labels),
        _record(c.ERROR_BUDGET, f"vector({budget})", labels),
        _record(c.PERIOD_SLI, f"1 - {ratio}", labels),
        _record(c.PERIOD_BURN_RATE, f"{ratio} / {budget}", labels),
        _record(c.PERIOD_BUDGET_REMAINING, f"1 - {ratio} / {budget}", labels),
        *(build_sloth_info(slo) if slo.sloth_labels else []),
    ]


def build_sloth_info(slo: m.SLO) -> list[Rule]:
    """Sloth's metadata series (its metadata_rules_v1), which its dashboards list SLOs
    from: compatibility.sloth_labels. The SLO's labels already hold Sloth's own."""
    labels = slo.label_dict()
    days = fmt(Decimal(slo.period_ms) / 86_400_000)
    return [
        _record(c.SLOTH_TIME_PERIOD_DAYS, f"vector({days})", labels),
        _record(
            c.SLOTH_INFO, "vector(1)", dict(sorted({**labels, c.SLOTH_OBJECTIVE: fmt(slo.objective * 100)}.items()))
        ),
    ]


@dataclass(frozen=True)
class BurnRule:
    """One burn-rate alert rule: a severity (the kind: critical pages, warning tickets),
    the tiers its condition joins, and the labels that tell it from its kind's other rules."""

    severity: str
    tiers: tuple[m.BurnRateTier, ...]
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def for_ms(self) -> int:
        return self.tiers[0].for_ms


def burn_rules(slo: m.SLO) -> list[BurnRule]:
    """One rule per severity, its tiers joined with `or` (SRE workbook, multiwindow). Where
    the tiers of a severity have different `for`s (Pyrra's table holds the 1h tier 2m and
    the 6h tier 15m), one rule per tier, labelled with its windows as Pyrra's alerts are:
    one `for` per rule, and two rules with one label set would write one ALERTS series."""
    out = []
    for severity in c.SEVERITIES:
        tiers = tuple(t for t in slo.tiers if t.severity == severity)
        if len({t.for_ms for t in tiers}) > 1:
            out += [
                BurnRule(
                    severity,
                    (t,),
                    ((c.LABEL_LONG, format_duration(t.long_ms)), (c.LABEL_SHORT, format_duration(t.short_ms))),
                )
                for t in tiers
            ]
        elif tiers:
            out.append(BurnRule(severity, tiers))
    return out


def burn_rule_labels(slo: m.SLO, rule: BurnRule) -> dict[str, str]:
    """The labels a burn-rate rule's alerts carry, sorted (a grouped SLO adds its values)."""
    return dict(sorted({**with_severity(slo, rule.severity), **dict(rule.extra)}.items()))


def build_burn_rate_alerts(slo: m.SLO, text: TextContext = TextContext(), *severities: str) -> list[Rule]:
    """The burn-rate alerts of the given severities (kinds), or of all."""
    rules = []
    for burn in burn_rules(slo):
        if severities and burn.severity not in severities:
            continue
        severity, tiers = burn.severity, burn.tiers
        conditions = " or ".join(
            f"the error ratio over {format_duration(t.long_ms)} and over {format_duration(t.short_ms)} "
            f"is above {fmt(t.factor)}x the budget ({fmt_percent(t.factor * slo.budget)})"
            for t in tiers
        )
        context = {
            "service": slo.service,
            "slo": slo.id,
            "severity": slo.shaping.of(severity).severity,
            "description": slo.description.rstrip("."),
            "objective": fmt_percent(slo.objective),
            "budget": fmt_percent(slo.budget),
            "period": format_duration(slo.period_ms),
            "conditions": conditions,
            # A grouped SLO's alert names its value: `checkout/requests (route /cart)`.
            "group_text": f" ({', '.join(f'{x} {{{{ $labels.{x} }}}}' for x in slo.by)})" if slo.by else "",
        }
        rule: Rule = {"alert": slo.alert_name, "expr": q.burn_rate_condition(slo, list(tiers))}
        if burn.for_ms:
            rule["for"] = format_duration(burn.for_ms)
        rule["labels"] = burn_rule_labels(slo, burn)
        rule["annotations"] = _annotations("burn_rate", context, slo, text, severity)
        rules.append(rule)
    return rules


def build_absent_alerts(item: m.SLO | m.ThresholdAlert, text: TextContext = TextContext()) -> list[Rule]:
    """One alert per SLO or threshold alert, over all the series it reads (joined with
    `or`: two rules with the same labels would write the same ALERTS series)."""
    selectors = q.absent_selectors(item)
    hold_ms = item.shaping.absent_for_ms
    if not selectors or hold_ms is None:  # None: `alerting: {absent: false}`
        return []
    hold = format_duration(hold_ms) if hold_ms else "0s"
    context = {
        "service": item.service,
        "slo": item.id,
        "metrics": " or ".join(s.metric for s in selectors),
        "selectors": " or ".join(s.render() for s in selectors),
        "hold": hold,
    }
    rule: Rule = {"alert": c.ALERT_ABSENT, "expr": "\nor\n".join(f"absent({s.render()})" for s in selectors)}
    if hold_ms:
        rule["for"] = hold
    rule["labels"] = with_severity(item, c.SEVERITY_WARNING)  # a ticket: its shape
    rule["annotations"] = _annotations("absent", context, item, text, c.SEVERITY_WARNING)
    return [rule]


_COMPARISON = {">": "above", "<": "below", ">=": "at or above", "<=": "at or below"}


def build_threshold_group(alert: m.ThresholdAlert, text: TextContext = TextContext()) -> dict[str, Any]:
    value = q.threshold_value(alert)
    rules: list[Rule] = []
    for level in alert.levels:
        context = {
            "service": alert.service,
            "what": describe_measure(alert),
            "description": alert.description.rstrip("."),
            "severity": alert.shaping.of(level.severity).severity,
            "comparison": _COMPARISON[level.op],
            "threshold": format_threshold(alert, level.value),
            "hold": format_duration(level.for_ms) if level.for_ms else "",
            "window": "" if isinstance(alert.kind, m.GaugeAlert) else format_duration(alert.window_ms),
            "value_format": value_format(alert),
            "by_text": "".join(f" {{{{ $labels.{label} }}}}" for label in alert.by),
        }
        rule: Rule = {
            "alert": alert.name,
            "expr": f"{value}\n{level.op} {fmt(level.value)}",
        }
        if level.for_ms:
            rule["for"] = format_duration(level.for_ms)
        rule["labels"] = with_severity(alert, level.severity)
        rule["annotations"] = _annotations("threshold", context, alert, text, level.severity)
        rules.append(rule)
    rules += build_absent_alerts(alert, text)
    return {"name": c.group_name(alert.service, alert.id), "rules": rules}


def counted(sli: m.SLI) -> str:
    """What an SLO's budget is a share of: a probe's samples, a raw SLI's time (its 5m
    ratios are averaged, not weighted by traffic), else events."""
    if isinstance(sli, m.ProbeSLI):
        return "probe samples"
    return "the time" if isinstance(sli, m.RawSLI) else "events"


def describe_measure(alert: m.ThresholdAlert) -> str:
    kind = alert.kind
    if isinstance(kind, m.RatioAlert):
        word = "success ratio" if kind.measure == "good" else "error ratio"
        return f"{kind.slo.id} {word}" if kind.slo else word
    if isinstance(kind, m.QuantileAlert):
        return f"p{fmt(kind.quantile * 100)} of {kind.histogram.metric}"
    if isinstance(kind, m.GaugeAlert):
        return f"{kind.gauge.metric} over {kind.capacity.metric}" if kind.capacity else kind.gauge.metric
    return alert.id


def is_ratio(alert: m.ThresholdAlert) -> bool:
    kind = alert.kind
    return isinstance(kind, m.RatioAlert) or (isinstance(kind, m.GaugeAlert) and kind.capacity is not None)


def format_threshold(alert: m.ThresholdAlert, value: Any) -> str:
    if is_ratio(alert):
        return fmt_percent(value)
    if isinstance(alert.kind, m.QuantileAlert):
        return format_duration(int(value * 1000)) if value * 1000 == int(value * 1000) else f"{fmt(value)}s"
    return fmt(value)


def value_format(alert: m.ThresholdAlert) -> str:
    if is_ratio(alert):
        return "$value | humanizePercentage"
    if isinstance(alert.kind, m.QuantileAlert):
        return "$value | humanizeDuration"
    return "$value | humanize"


def _annotations(
    kind: str, context: dict[str, Any], item: m.SLO | m.ThresholdAlert, text: TextContext, severity: str
) -> dict[str, str]:
    """slogen's own annotations, then the spec's for this kind of alert (alerting.page or
    .ticket annotations; the spec may not take slogen's keys)."""
    out = {
        "summary": render(f"alerts/{kind}.summary.j2", text.templates, **context),
        "description": render(f"alerts/{kind}.description.j2", text.templates, **context),
    }
    if item.runbook_url:
        out["runbook_url"] = item.runbook_url
    out["dashboard_url"] = c.dashboard_url(text.grafana_url, item.service)
    out.update(item.shaping.of(severity).annotations)
    return out
