"""out/docs/alerts.md: the alert catalog for the on-call, one entry per generated alert rule.

Each entry is read from the alert rule the rule builders emit (its name, labels, `for`,
expression, annotations) and paired with the model item it comes from (an SLO's tiers, a
threshold alert's levels): a change to how alerts are built reaches the catalog without
an edit here. Receivers come from alertmanager.route_receivers (what the generated route
tests make amtool check); inhibition from the generated config's inhibit_rules, applied
to the catalog's own alerts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .. import conventions as c
from .. import markdown as md
from .. import model as m
from ..quantity import fmt, fmt_percent, format_duration, parse_duration
from .alertmanager import route_receivers
from .explain import budget_spent, time_to_fire
from .inhibition import inhibited_by
from .rules import _COMPARISON, burn_rule_labels, burn_rules, counted, describe_measure, format_threshold

TITLE = "Alert catalog"


@dataclass(frozen=True)
class Entry:
    """One alert rule as the rules file holds it, with the SLO or alert it comes from."""

    item: m.SLO | m.ThresholdAlert
    rule: dict[str, Any]
    rules_file: str
    position: int  # among the alert rules of its file that are not absent-data alerts

    @property
    def labels(self) -> dict[str, str]:
        return {"alertname": self.rule["alert"], **self.rule["labels"]}

    @property
    def severity(self) -> str:
        return str(self.rule["labels"].get(c.LABEL_SEVERITY, ""))

    @property
    def is_absent(self) -> bool:
        return str(self.rule["expr"]).startswith("absent(")

    @property
    def heading(self) -> str:
        labels = self.rule["labels"]
        # a tier with its own `for` is a rule of its own, told apart by its windows
        windows = f" ({labels[c.LABEL_LONG]}/{labels[c.LABEL_SHORT]})" if c.LABEL_LONG in labels else ""
        return f"{self.item.service}/{self.item.id}: {self.rule['alert']} {self.severity}{windows}".rstrip()


def alert_entries(model: m.Model, rule_files: dict[str, dict[str, Any]]) -> list[Entry]:
    """Every alert rule of the rules files, ordered by service, then SLO or alert id, then
    severity (critical, warning, then any other value, each in the file's order)."""
    entries: list[Entry] = []
    for service in sorted(model.services, key=lambda s: s.name):
        items: list[m.SLO | m.ThresholdAlert] = sorted([*service.slos, *service.alerts], key=lambda i: i.id)
        for item in items:
            rel = c.rules_file(service.name, item.id)
            rules = [r for group in rule_files[rel]["groups"] for r in group["rules"] if "alert" in r]
            # The absent alert last, wherever its group puts it (tickets run in a slower group).
            rules.sort(key=lambda r: r["alert"] == c.ALERT_ABSENT)
            found: list[tuple[int, int, Entry]] = []
            position = 0
            for index, rule in enumerate(rules):
                entry = Entry(item, rule, rel, position)
                position += 0 if entry.is_absent else 1
                found.append((_severity_rank(entry.severity), index, entry))
            entries += [entry for _, _, entry in sorted(found, key=lambda f: f[:2])]
    return entries


def _severity_rank(severity: str) -> int:
    return c.SEVERITIES.index(severity) if severity in c.SEVERITIES else len(c.SEVERITIES)


@dataclass(frozen=True)
class Context:
    model: m.Model
    spec_dir: str  # as the outputs name it: slo
    anchors: dict[int, str]  # id(entry) -> its heading's anchor
    inhibitors: dict[int, list[Entry]]  # id(entry) -> the alerts that inhibit it
    inhibits: dict[int, list[Entry]]


def build_catalog(model: m.Model, rule_files: dict[str, dict[str, Any]]) -> str:
    """The catalog as Markdown: deterministic, with a table of contents whose anchors are
    the ones GitHub gives the headings."""
    return "".join(catalog_parts(model, rule_files))


def catalog_parts(model: m.Model, rule_files: dict[str, dict[str, Any]]) -> Iterator[str]:
    """build_catalog's text in parts, an entry at a time: at 10,000 SLOs the catalog is
    60 MB, and its lines held at once took 200 MB of `generate` (issue 12)."""
    entries = alert_entries(model, rule_files)
    spec_dir = _spec_dir(model)
    anchors = md.Anchors()
    anchors.add(TITLE)
    anchors.add("Contents")
    services: dict[str, str] = {}
    by_entry: dict[int, str] = {}
    for entry in entries:  # document order: a service's heading, then its entries
        if entry.item.service not in services:
            services[entry.item.service] = anchors.add(f"Service {entry.item.service}")
        by_entry[id(entry)] = anchors.add(entry.heading)
    inhibitors, inhibits = _inhibition(model.routing, entries)
    ctx = Context(model, spec_dir, by_entry, inhibitors, inhibits)
    yield f"<!-- generated from {spec_dir}/ by slogen; do not edit -->\n"
    yield "\n".join(_head(model, entries, spec_dir) + _contents(entries, services, ctx))
    for entry in entries:
        lines = []
        if services.get(entry.item.service):
            lines += ["", f"## Service {md.text(entry.item.service)}"]
            services[entry.item.service] = ""  # written
        yield "\n" + "\n".join([*lines, "", *_entry(entry, ctx)])
    yield "\n"


def _inhibition(
    routing: m.Routing | None, entries: list[Entry]
) -> tuple[dict[int, list[Entry]], dict[int, list[Entry]]]:
    """id(entry) -> the entries that inhibit it, and -> those it inhibits."""
    inhibitors: dict[int, list[Entry]] = defaultdict(list)
    inhibits: dict[int, list[Entry]] = defaultdict(list)
    if routing is None:
        return inhibitors, inhibits
    for target, sources in inhibited_by(routing, [e.labels for e in entries]).items():
        for source in sources:
            inhibitors[id(entries[target])].append(entries[source])
            inhibits[id(entries[source])].append(entries[target])
    return inhibitors, inhibits


def _spec_dir(model: m.Model) -> str:
    sources = [s.source for s in model.services] + ([model.routing.source] if model.routing else [])
    return sources[0].spec_path.split("/")[0] if sources else "slo"


def _head(model: m.Model, entries: list[Entry], spec_dir: str) -> list[str]:
    slos = sum(len(s.slos) for s in model.services)
    alerts = sum(len(s.alerts) for s in model.services)
    if model.routing is None:
        routing = (
            f"There is no routing file ({md.code(spec_dir + '/alerting.yaml')}), so no Alertmanager config "
            "is generated: **no one receives these alerts** until one is written."
        )
    else:
        routing = f"Receivers and inhibition as {md.code(model.routing.source.spec_path)} routes them."
    return [
        f"# {TITLE}",
        "",
        f"Every alert the rules in {md.code('out/prometheus/rules/')} can fire, one entry per alert rule: what it "
        "means, when it fires, how soon on a total outage, who receives it and what to read. Ordered by service, "
        "then SLO or alert, then severity.",
        "",
        f"{len(entries)} alerts from {slos} SLOs and {alerts} threshold alerts. {routing} Relative runbook links "
        f"are relative to the folder that holds {md.code(spec_dir + '/')} and {md.code('out/')}.",
    ]


def _contents(entries: list[Entry], services: dict[str, str], ctx: Context) -> list[str]:
    lines = ["", "## Contents", ""]
    if not entries:
        return lines + ["No alert is generated."]
    seen: set[str] = set()
    for entry in entries:
        service = entry.item.service
        if service not in seen:
            seen.add(service)
            lines.append(f"- [Service {md.text(service)}](#{services[service]})")
        lines.append(f"  - [{md.text(entry.heading)}](#{ctx.anchors[id(entry)]})")
    return lines


def _entry(entry: Entry, ctx: Context) -> list[str]:
    item = entry.item
    if entry.is_absent:
        body = _absent(entry)
    elif isinstance(item, m.SLO):
        body = _burn_rate(entry, item)
    else:
        body = _threshold(entry, item)
    return [f"### {md.text(entry.heading)}", "", *body, "", *_facts(entry, ctx), "", *_expression(entry)]


def _for_ms(entry: Entry) -> int:
    return parse_duration(entry.rule["for"]) if entry.rule.get("for") else 0


def _approx(ms: int) -> str:
    return "about " + format_duration(max(1000, round(ms, -3)))


_BURN_RATE_COLUMNS = [
    "long window",
    "short window",
    "burn rate",
    "error ratio above",
    "fires after (total outage)",
    "budget spent by then",
]


def _tiers_of(entry: Entry, slo: m.SLO) -> list[m.BurnRateTier]:
    """The tiers this burn-rate rule joins: the rules builder's own grouping (a severity's
    tiers, or one tier with its own `for`), found by the labels the rule carries."""
    labels = entry.rule["labels"]
    for burn in burn_rules(slo):
        if all(labels.get(k) == v for k, v in burn_rule_labels(slo, burn).items()):
            return list(burn.tiers)
    return []


def _burn_rate(entry: Entry, slo: m.SLO) -> list[str]:
    matching = _tiers_of(entry, slo)
    period = format_duration(slo.period_ms)
    spends = ", or ".join(f"{fmt_percent(t.budget_share)} of it within {format_duration(t.long_ms)}" for t in matching)
    about = f" ({md.text(slo.description.rstrip('.'))})" if slo.description else ""
    rows = [
        [
            format_duration(t.long_ms),
            format_duration(t.short_ms),
            f"{fmt(t.factor)}x",
            fmt_percent(t.factor * slo.budget),
            _approx(time_to_fire(t, slo.budget)),
            fmt_percent(budget_spent(t, slo).quantize(Decimal("0.0001"))),
        ]
        for t in matching
    ]
    hold = _for_ms(entry)
    soonest = min((time_to_fire(t, slo.budget) for t in matching), default=0)  # the `for` included
    then = f", {format_duration(hold)} of which is the rule's `for`" if hold else ""
    per = (
        f" Grouped by {md.text(', '.join(slo.by))}: each value has its own budget and fires on its own."
        if slo.by
        else ""
    )
    return [
        f"**What it means:** {md.text(slo.service)}/{md.text(slo.id)}{about} is spending its error budget "
        f"({fmt_percent(slo.budget)} of {counted(slo.sli)} over {period}, for an objective of {fmt_percent(slo.objective)}) "
        f"fast enough to use up {spends}.{per}",
        "",
        "**Fires when** the error ratio over both windows of a row is above the row's burn rate times the budget:",
        "",
        *_table(_BURN_RATE_COLUMNS, rows),
        "",
        f"**On a total outage** (every event failing after a healthy history): fires after {_approx(soonest)}{then}.",
    ]


def _threshold(entry: Entry, alert: m.ThresholdAlert) -> list[str]:
    matching = [lv for lv in alert.levels if lv.severity == entry.severity]
    level = matching[0] if matching else alert.levels[min(entry.position, len(alert.levels) - 1)]
    raw = isinstance(alert.kind, m.RawAlert)
    what = "the expression" if raw else describe_measure(alert)
    # a gauge is compared as it is now, a raw expression over the windows it writes itself
    windowless = raw or isinstance(alert.kind, m.GaugeAlert)
    window = (
        ("the expression's own" if raw else "its current value") if windowless else format_duration(alert.window_ms)
    )
    per = f" per {md.text(', '.join(alert.by))}" if alert.by else ""
    threshold = format_threshold(alert, level.value)
    hold = _for_ms(entry)
    held = f" for {format_duration(hold)}" if hold else ""
    about = f"{md.text(alert.description.rstrip('.'))}. " if alert.description else ""
    over = "" if windowless else f" over {window}"
    shown = md.code(alert.kind.expr) if isinstance(alert.kind, m.RawAlert) else md.text(what)
    return [
        f"**What it means:** {about}For {md.text(alert.service)}{per}, {shown}{over} "
        f"has been {_COMPARISON[level.op]} {md.text(threshold)}{held}.",
        "",
        *_table(
            ["condition", "measured over", "for", "fires after (total outage)"],
            [
                [
                    f"{what} {_COMPARISON[level.op]} {threshold}",
                    window,
                    format_duration(hold) if hold else "none",
                    _outage(alert, level, hold),
                ]
            ],
        ),
    ]


def _outage(alert: m.ThresholdAlert, level: m.Level, hold: int) -> str:
    """How soon a total outage (every event failing, after a healthy history) makes a
    ratio alert fire: the ratio over the window grows by window/t, then `for` runs."""
    kind = alert.kind
    if not isinstance(kind, m.RatioAlert):
        return f"{format_duration(hold) if hold else 'at once'} after the condition holds (depends on the metric)"
    rising = kind.measure == "bad" and level.op in (">", ">=")
    falling = kind.measure == "good" and level.op in ("<", "<=")
    if not (rising or falling):
        return "never: an outage moves the ratio away from this threshold"
    share = level.value if rising else 1 - level.value
    return _approx(int(share * alert.window_ms) + hold)


_ABSENT_ARG = re.compile(r"^absent\((.*)\)$", re.M)


def _absent(entry: Entry) -> list[str]:
    series = " or ".join(md.code(s) for s in _ABSENT_ARG.findall(entry.rule["expr"]))
    hold = format_duration(_for_ms(entry)) if _for_ms(entry) else "at once"
    who = f"{md.text(entry.item.service)}/{md.text(entry.item.id)}"
    return [
        f"**What it means:** no series matches {series}: {who} is not watched until they come back, and its "
        "other alerts cannot fire. Check the scrape target, the exporter and the metric's name.",
        "",
        f"**On a total outage:** fires {hold} after the series stop being scraped (a target down or gone); "
        "an outage in which they are still scraped (every event or probe failing) does not fire it.",
    ]


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return out + ["| " + " | ".join(md.text(cell) for cell in row) + " |" for row in rows]


def _facts(entry: Entry, ctx: Context) -> list[str]:
    """Labels, receivers, inhibition, runbook, dashboard and where the rule comes from."""
    labels = ", ".join(md.code(f"{k}={_quote(v)}") for k, v in sorted(entry.labels.items()))
    annotations = entry.rule.get("annotations", {})
    source = entry.item.source
    spec_link = md.link(
        md.text(f"{source.spec_path}:{source.line}"), f"{c.CATALOG_TO_ROOT}{source.spec_path}#L{source.line}"
    )
    rule_link = md.link(md.code(f"out/{entry.rules_file}"), f"../{entry.rules_file}")
    return [
        f"- **Labels:** {labels}",
        *_receivers(entry, ctx),
        f"- **Inhibited by:** {_alert_list(ctx.inhibitors.get(id(entry), []), ctx, 'nothing')}",
        *_inhibits(entry, ctx),
        f"- **Runbook:** {_runbook(annotations.get('runbook_url', ''))}",
        f"- **Dashboard:** {_dashboard(annotations.get('dashboard_url', ''), ctx.spec_dir)}",
        f"- **Rule:** {rule_link}, from {spec_link}",
    ]


def _inhibits(entry: Entry, ctx: Context) -> list[str]:
    targets = ctx.inhibits.get(id(entry), [])
    return [f"- **Inhibits, while it fires:** {_alert_list(targets, ctx, '')}"] if targets else []


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _receivers(entry: Entry, ctx: Context) -> list[str]:
    routing = ctx.model.routing
    if routing is None:
        return [
            f"- **Receivers:** no one: there is no routing file ({md.code(ctx.spec_dir + '/alerting.yaml')}), "
            "so no Alertmanager config is generated"
        ]
    pairs = route_receivers(routing, entry.labels)
    return ["- **Receivers:**"] + [f"  - {md.code(name)} via {md.text(why)}" for name, why in pairs]


def _alert_list(entries: list[Entry], ctx: Context, none: str) -> str:
    return ", ".join(f"[{md.text(e.heading)}](#{ctx.anchors[id(e)]})" for e in entries) or none


def _runbook(url: str) -> str:
    if not url:
        return "none: give the SLO, the alert or the service a `runbook:`"
    if md.is_absolute(url):
        return md.link(md.code(url), url)
    if url.startswith("#"):
        return f"{md.code(url)} (an anchor of no document: give the service a `runbook:` file or URL)"
    return md.link(md.code(url), c.CATALOG_TO_ROOT + url)


def _dashboard(url: str, spec_dir: str) -> str:
    if not url:
        return "none"
    if url.startswith("/"):
        return f"{md.code(url)} on your Grafana (set `grafana.url` in {md.code(spec_dir + '/slogen.yaml')} for a link)"
    return md.link(md.code(url), url)


def _expression(entry: Entry) -> list[str]:
    return ["<details><summary>Expression</summary>", "", md.block(str(entry.rule["expr"]), "promql"), "", "</details>"]
