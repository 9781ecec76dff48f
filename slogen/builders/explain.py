"""`slogen explain SERVICE/SLO`: what each alert watches and when it fires, as text."""

from __future__ import annotations

from decimal import Decimal

from .. import conventions as c
from .. import model as m
from ..quantity import fmt, fmt_percent, format_duration, parse_duration
from ..targets import explain_targets
from .canary import explain_canary
from .queries import absent_selectors
from .rules import counted, describe_measure, format_threshold

_CMP_WORDS = {">": "above", "<": "below", ">=": "at or above", "<=": "at or below"}


def explain(model: m.Model, target: str) -> str:
    service_name, _, item_id = target.partition("/")
    service = next((s for s in model.services if s.name == service_name), None)
    if service is None:
        raise KeyError(f"no service {service_name!r} (known: {', '.join(s.name for s in model.services)})")
    items: list[m.SLO | m.ThresholdAlert] = [*service.slos, *service.alerts]
    if target.endswith("/"):
        raise KeyError(f"name an SLO or alert after {service_name}/ (known: {', '.join(i.id for i in items)})")
    chosen = [i for i in items if i.id == item_id] if item_id else items
    if not chosen:
        raise KeyError(f"no SLO or alert {item_id!r} in {service_name} (known: {', '.join(i.id for i in items)})")
    return "\n\n".join(
        (explain_slo(i) if isinstance(i, m.SLO) else explain_alert(i))
        + explain_routing(model, i)
        + explain_targets(model.settings, service.name)
        + explain_canary(model, service, i)
        for i in chosen
    )


def explain_routing(model: m.Model, item: m.SLO | m.ThresholdAlert) -> str:
    """Per alert and severity: the receivers, the route that sends it there, inhibition."""
    from .alertmanager import alert_label_sets, inhibit_by, route_receivers

    if model.routing is None:
        return "\n\n  routing: no routing file (slo/alerting.yaml): no Alertmanager config is generated"
    lines = ["", "", f"  routing ({model.routing.source.file}):"]
    labels_of_item = [
        labels
        for labels in alert_label_sets(model)
        if labels[c.LABEL_SERVICE] == item.service and labels[c.LABEL_SLO] == item.id
    ]
    for labels in labels_of_item:
        group = ", ".join(f"{k}={labels[k]}" for k in item.by if k in labels)  # a group a route matches on
        # a tier with its own `for` is a rule of its own: its windows tell it apart
        windows = f" {labels[c.LABEL_LONG]}/{labels[c.LABEL_SHORT]}" if c.LABEL_LONG in labels else ""
        head = f"    {labels['alertname']} {labels[c.LABEL_SEVERITY]}{windows}"
        lines.append(head + (f" ({group}):" if group else ":"))
        for receiver, why in route_receivers(model.routing, labels):
            lines.append(f"      -> {receiver:<18} via {why}")
        if labels[c.LABEL_SEVERITY] == item.shaping.ticket.severity:
            page = item.shaping.page.severity
            same = [x for x in inhibit_by(model) if x in item.by]
            per = f" for the same {', '.join(same)}" if same else ""
            if same and labels["alertname"] == c.ALERT_ABSENT:
                # the inhibit rule's `equal` needs the label on both: the absent-data alert has none
                lines.append(
                    f"      never inhibited: it has no {', '.join(same)} label, which a page of each value has"
                )
            else:
                lines.append(f"      inhibited while a {page} alert of {item.service}/{item.id}{per} fires")
    return "\n".join(lines)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(out)


def time_to_fire(tier: m.BurnRateTier, budget: Decimal) -> int:
    """Milliseconds from the start of a total outage (every event failing, after a
    healthy history) until both windows exceed factor x budget: the long window's
    error ratio is t / long, so t = factor * budget * long; then its `for` holds it."""
    return int(tier.factor * budget * tier.long_ms) + tier.for_ms


def budget_spent(tier: m.BurnRateTier, slo: m.SLO) -> Decimal:
    """The share of the period's budget a total outage has spent when the tier fires (its
    `for` included: a long hold can let it spend the whole budget, or more, first)."""
    return Decimal(time_to_fire(tier, slo.budget)) / (slo.budget * slo.period_ms)


def whole_seconds(ms: int | Decimal) -> str:
    """A duration to the second (a budget of 20m9.6s reads 20m10s), under a second as is."""
    return format_duration(int(ms) if ms < 1000 else int(round(Decimal(ms), -3)))


def explain_slo(slo: m.SLO) -> str:
    period = format_duration(slo.period_ms)
    head = [
        f"{slo.service}/{slo.id}  ({slo.source.file}:{slo.source.line})",
        f"  {slo.description}",
        f"  objective {fmt_percent(slo.objective)} over {format_duration(slo.period_ms)}; "
        f"error budget {fmt_percent(slo.budget)} of {counted(slo.sli)} "
        f"(= {whole_seconds(slo.budget * slo.period_ms)} of total outage)",
        f"  SLI: {_sli_text(slo.sli)}",
        f"  recorded windows: {', '.join(format_duration(w) for w in slo.windows)} and the period {format_duration(slo.period_ms)}",
        *_groups_text(slo),
        "",
        f"  {slo.alert_name} (multi-window, multi-burn-rate; both windows must exceed the threshold):",
    ]
    if slo.custom_tiers:
        head.append("    the spec's own tiers (alerting.tiers), in place of the SRE workbook's")
    else:
        head += [
            f"    the SRE workbook's 30-day tiers with windows scaled by {period}/30d (short at least 5m, long at least",
            f"    twice short); burn rate = budget spent by then x {period} / long window, at least 1x",
        ]
    rows = []
    for tier in slo.tiers:
        rows.append(
            [
                slo.shaping.of(tier.severity).severity,
                format_duration(tier.long_ms),
                format_duration(tier.short_ms),
                f"{fmt(tier.factor)}x",
                fmt_percent(tier.factor * slo.budget),
                "~" + format_duration(max(1000, round(time_to_fire(tier, slo.budget), -3))),
                fmt_percent(budget_spent(tier, slo).quantize(Decimal("0.0001"))),
                format_duration(tier.for_ms) if tier.for_ms else "-",
            ]
        )
    headers = [
        "severity",
        "long",
        "short",
        "burn rate",
        "error ratio above",
        "fires after (total outage)",
        "budget spent by then",
        "for",
    ]
    if not any(t.for_ms for t in slo.tiers):  # the column only when a tier has a `for`
        headers, rows = headers[:-1], [r[:-1] for r in rows]
    lines = head + _indent(table(headers, rows) if rows else "(none)")
    for dropped in slo.dropped:
        t = dropped.tier
        line = f"  not generated: {slo.shaping.of(t.severity).severity} {format_duration(t.long_ms)}/{format_duration(t.short_ms)} at {fmt(t.factor)}x: {dropped.reason}"
        if line not in lines:  # two tiers on the same floors read alike: say it once
            lines.append(line)
    lines += explain_shaping(slo)
    if slo.sloth_labels:
        ids = ", ".join(f"{k}={v}" for k, v in c.sloth_labels(slo.service, slo.id).items())
        lines.append(
            f"  Sloth's labels on every series and alert ({ids}) and {c.SLOTH_INFO}, {c.SLOTH_TIME_PERIOD_DAYS} "
            "recorded: compatibility.sloth_labels"
        )
    lines.append("  (times add up to a minute or two of scrape and 5m-rate lag)")
    if any(t.severity == c.SEVERITY_WARNING for t in slo.tiers):
        # Tickets run in the period group (rules.build_slo_groups): say what that costs them.
        later = format_duration(parse_duration(c.PERIOD_GROUP_INTERVAL) - 60_000)
        lines.append(
            f"  (tickets and the windows only they read are evaluated every {c.PERIOD_GROUP_INTERVAL}, pages every\n"
            f"  minute: a ticket may fire up to {later} later than that)"
        )
    return "\n".join(lines)


def explain_shaping(item: m.SLO | m.ThresholdAlert) -> list[str]:
    """The absent-data alert, and what alerting.page/ticket add to each kind's alerts."""
    lines = []
    watched = " or ".join(s.render() for s in absent_selectors(item))
    hold = item.shaping.absent_for_ms
    ticket = item.shaping.ticket.severity
    if watched and hold is None:
        lines.append(f"  {c.ALERT_ABSENT}: off (alerting.absent: false); nothing says when {watched} disappears")
    elif watched:
        after = format_duration(hold) if hold else "at once"
        lines.append(f"  {c.ALERT_ABSENT} ({ticket}) after {after} without {watched}")
    for kind, shape in (("page", item.shaping.page), ("ticket", item.shaping.ticket)):
        extra = [f"{k}={v}" for k, v in shape.labels] + [f"annotation {k}={v}" for k, v in shape.annotations]
        if extra:
            lines.append(f"  {kind} alerts (severity={shape.severity}) also carry: {', '.join(extra)}")
    return lines


def explain_alert(alert: m.ThresholdAlert) -> str:
    window = "" if isinstance(alert.kind, m.GaugeAlert) else f" over {format_duration(alert.window_ms)}"
    lines = [
        f"{alert.service}/{alert.id}  ({alert.source.file}:{alert.source.line})",
        f"  {alert.name}: {describe_measure(alert)}{window}" + (f", per {', '.join(alert.by)}" if alert.by else ""),
        "",
    ]
    rows = [
        [
            level.severity,
            f"{_CMP_WORDS[level.op]} {format_threshold(alert, level.value)}",
            format_duration(level.for_ms) if level.for_ms else "-",
            (format_duration(level.for_ms) if level.for_ms else "at once") + " after the condition starts to hold",
        ]
        for level in alert.levels
    ]
    rows = [
        [alert.shaping.of(level.severity).severity, *row[1:]] for level, row in zip(alert.levels, rows, strict=True)
    ]
    return "\n".join(lines + _indent(table(["severity", "condition", "for", "fires"], rows)) + explain_shaping(alert))


def _groups_text(slo: m.SLO) -> list[str]:
    """A grouped SLO: what is per value, and what a value costs, counted from the rules
    built (recordings that keep the group labels; the objective and budget do not)."""
    if not slo.by:
        return []
    from .rules import build_slo_groups  # explain reads what the rules builder makes

    rules = [r for g in build_slo_groups(slo) for r in g["rules"] if "record" in r]
    per_value = [r for r in rules if not r["expr"].startswith("vector(")]
    labels = ", ".join(slo.by)
    first = "sample" if isinstance(slo.sli, m.ProbeSLI) else "event"  # a probe's events are its samples
    return [
        f"  per value of {labels}: its own SLI, error budget and burn-rate alerts (labelled with {labels}), watched",
        f"    from its first {first} on; the absent-data alert stays one for the whole SLO. Cost: {len(per_value)} recorded",
        f"    series per value, {len(rules) - len(per_value)} more once per SLO (100 values: "
        f"{100 * len(per_value) + len(rules) - len(per_value)} series)",
    ]


def _sli_text(sli: m.SLI) -> str:
    if isinstance(sli, m.LatencySLI):
        return f"share of {sli.histogram.render()} slower than {fmt(sli.threshold)}s (bad) over all"
    if isinstance(sli, m.ProbeSLI):
        return (
            f"probe: share of the samples of {sli.metric.render()} that are 0 (bad) over all samples, counted "
            "per 5m and summed over longer windows; a value other than 0 or 1 counts as its share of success, "
            "clamped to [0, 1]"
        )
    if isinstance(sli, m.ExprRatioSLI):
        events = "; ".join(
            f"{name} {expr}" for name, expr in (("bad", sli.bad), ("good", sli.good), ("total", sli.total)) if expr
        )
        return (
            f"event expressions: {events}; each is recorded as sum(...) with $window = 5m, and longer windows "
            "sum those recordings (tested with the spec's own erroring and healthy series)"
        )
    if isinstance(sli, m.RatioSLI):
        parts = [
            f"{name} {sel.render()}"
            for name, sel in (("bad", sli.bad), ("good", sli.good), ("total", sli.total))
            if sel
        ]
        return "; ".join(parts)
    return (
        f"raw error ratio {sli.error_ratio}, evaluated over 5m; longer windows and the period average that 5m ratio "
        "over time (not weighted by traffic)"
    )


def _indent(text: str) -> list[str]:
    return ["    " + line for line in text.splitlines()]
