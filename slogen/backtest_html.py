"""The backtest's HTML report: one self-contained file, one timeline per alert.

Firings are bars, known incidents bands behind them, and with `after` a second row shows
the changed specs' firings under the current ones, so a team sees at a glance what a
change of thresholds costs (an incident caught later, or not at all) and saves (noise
gone). Inline CSS, inline SVG and a few lines of inline JS (a filter); a Content Security
Policy that allows only those two blocks, by hash, so the file cannot load anything at
view time. Same input, same bytes: no clock, fixed number formats, sorted rows.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from .backtest_incidents import AlertMatch, Incident, delay, match_incidents
from .backtest_runs import DEFAULT_PAGE_SEVERITIES, Run, duration, per_week, rate, runs, weeks, when

Entries = Iterable[Mapping[str, Any]]
WIDTH, LEFT, RIGHT = 1000, 64, 8  # the SVG's coordinates: a label column, then time
ROW_H, AXIS_H = 22, 18
_TICKS = (3600, 6 * 3600, 86_400, 7 * 86_400, 28 * 86_400)  # the first that gives <= 14 ticks

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2433;background:#fff}
h1{font-size:20px;margin:0 0 4px}
.window{color:#5b6475;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 16px}
.card{border:1px solid #d8dde6;border-radius:6px;padding:8px 14px;min-width:150px}
.card b{display:block;font-size:22px}
.card span{color:#5b6475}.card b span{color:inherit}.card .better{color:#137333}.card .worse{color:#b3261e}
input{font:inherit;padding:4px 8px;width:320px;margin:0 0 12px}
.alert{border-top:1px solid #e3e7ee;padding:10px 0}
.alert h2{font-size:15px;margin:0;font-family:ui-monospace,monospace;word-break:break-all}
.meta{color:#5b6475;margin:2px 0 6px}
.tag{display:inline-block;border-radius:4px;padding:0 6px;margin-right:6px;font-size:12px;color:#fff}
.page{background:#b3261e}.ticket{background:#8a6d00}
svg{display:block;width:100%;height:auto}
.bg{fill:#f4f6f9}.incident{fill:#f6c343;fill-opacity:.35}
.before{fill:#3461c1}.after{fill:#17866b}.ongoing{fill-opacity:.55}
.axis{font:11px system-ui,sans-serif;fill:#5b6475}.grid{stroke:#d8dde6}
.label{font:12px system-ui,sans-serif;fill:#1d2433}
.legend span{display:inline-block;width:12px;height:10px;margin:0 4px 0 12px}
.legend .before{background:#3461c1}.legend .after{background:#17866b}.legend .incident{background:#f6c34399}
.hidden{display:none}
"""

# The filter: hide the alerts whose name and labels do not contain what is typed. The
# address's #fragment fills it, so a link (report.html#QueueDepth) shows one alert.
_JS = """
const box = document.getElementById("filter");
const alerts = Array.from(document.querySelectorAll(".alert"));
function filter() {
  const needle = box.value.toLowerCase();
  for (const alert of alerts) {
    alert.classList.toggle("hidden", !alert.dataset.name.toLowerCase().includes(needle));
  }
}
box.addEventListener("input", filter);
if (location.hash.length > 1) {
  box.value = decodeURIComponent(location.hash.slice(1));
  filter();
}
document.documentElement.dataset.ready = "yes";
"""


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def html_report(
    entries: Entries,
    start: float,
    end: float,
    *,
    after: Entries | None = None,
    incidents: Iterable[Incident] | None = None,
    title: str = "",
    page_severities: frozenset[str] = DEFAULT_PAGE_SEVERITIES,
) -> str:
    """The whole report as one HTML document."""
    if end <= start:
        raise ValueError(f"the window must end after it starts, got {start} to {end}")
    known, entries = list(incidents or []), list(entries)
    after = None if after is None else list(after)
    before = {r.key: r for r in runs(entries, start, end)}
    changed = None if after is None else {r.key: r for r in runs(after, start, end)}
    matches = {m.run.key: m for m in match_incidents(entries, known, start=start, end=end).alerts}
    after_matches = {m.run.key: m for m in match_incidents(after or [], known, start=start, end=end).alerts}
    cards = _cards(
        list(before.values()), None if changed is None else list(changed.values()), start, end, page_severities
    )
    if known:
        cards.append(
            _caught_card(known, list(matches.values()), None if after is None else list(after_matches.values()))
        )
    title = title or "slogen backtest"
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="window">{escape(when(start))} to {escape(when(end))} ({rate(weeks(start, end))} weeks)</p>',
        '<div class="cards">' + "".join(cards) + "</div>",
        _legend(changed is not None, bool(known)),
        '<input id="filter" type="search" placeholder="filter alerts by name or label" aria-label="filter alerts">',
    ]
    keys = sorted(
        set(before) | set(changed or {}), key=lambda k: (_sort_severity(before, changed, k, page_severities), k)
    )
    for key in keys:
        runs_here = (before.get(key), None if changed is None else changed.get(key))
        found = (matches.get(key), after_matches.get(key))
        body.append(_alert(runs_here, changed is not None, found, known, start, end, page_severities))
    return _document(title, "\n".join(body))


def _sort_severity(before: dict[Any, Run], changed: dict[Any, Run] | None, key: Any, pages: frozenset[str]) -> bool:
    run = before.get(key) or (changed or {})[key]
    return run.severity not in pages  # pages first


def _document(title: str, body: str) -> str:
    policy = f"default-src 'none'; style-src {_hash(_CSS)}; script-src {_hash(_JS)}"
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"{body}\n<script>{_JS}</script>\n</body>\n</html>\n"
    )


def _cards(before: list[Run], after: list[Run] | None, start: float, end: float, pages: frozenset[str]) -> list[str]:
    """Pages and tickets per week (before -> after), and the time spent firing."""
    cards = []
    for label, is_page in (("pages per week", True), ("tickets per week", False)):
        b = per_week(sum(len(r.firings) for r in before if (r.severity in pages) == is_page), start, end)
        if after is None:
            cards.append(f'<div class="card"><b>{rate(b)}</b><span>{label}</span></div>')
            continue
        a = per_week(sum(len(r.firings) for r in after if (r.severity in pages) == is_page), start, end)
        tone = "better" if a < b else "worse" if a > b else ""
        cards.append(
            f'<div class="card"><b>{rate(b)} &rarr; <span class="{tone}">{rate(a)}</span></b><span>{label}, '
            "before &rarr; after</span></div>"
        )
    count = f"{len(before)}" if after is None else f"{len(before)} &rarr; {len(after)}"
    cards.append(f'<div class="card"><b>{count}</b><span>alerts replayed</span></div>')
    return cards


def _caught_card(incidents: list[Incident], now: list[AlertMatch], changed: list[AlertMatch] | None) -> str:
    """How many known incidents some alert caught (before -> after), and which were missed."""
    counts = []
    for matches in (now, changed):
        if matches is not None:
            caught = {c.incident for m in matches for c in m.caught}
            counts.append((len(caught), [i.name for i in incidents if i.name not in caught]))
    figure = " &rarr; ".join(str(n) for n, _ in counts)
    missed = counts[-1][1]
    note = f"missed: {escape(', '.join(missed))}" if missed else "none missed"
    return f'<div class="card"><b>{figure} of {len(incidents)}</b><span>incidents caught; {note}</span></div>'


def _legend(compared: bool, with_incidents: bool) -> str:
    parts = ['<span class="before"></span>firing' + (" (current specs)" if compared else "")]
    if compared:
        parts.append('<span class="after"></span>firing (changed specs)')
    if with_incidents:
        parts.append('<span class="incident"></span>known incident')
    return '<p class="legend">' + "".join(parts) + "</p>"


def _alert(
    pair: tuple[Run | None, Run | None],
    compared: bool,
    found: tuple[AlertMatch | None, AlertMatch | None],
    incidents: list[Incident],
    start: float,
    end: float,
    pages: frozenset[str],
) -> str:
    run = pair[0] or pair[1]
    assert run is not None  # a key comes from one side at least
    kind = "page" if run.severity in pages else "ticket"
    rows = [("now" if compared else "", pair[0], "before")]
    if compared:
        rows.append(("changed", pair[1], "after"))
    lines = [
        f'<section class="alert" data-name="{escape(run.name)}">',
        f"<h2>{escape(run.name)}</h2>",
        f'<p class="meta"><span class="tag {kind}">{kind}</span>{escape(_facts(run, pair[1] if compared else None))}</p>',
        _timeline(rows, incidents, run, start, end),
    ]
    for label, match in zip(("now", "changed") if compared else ("",), found, strict=False):
        text = _summary(match, start, end, incidents) if match else "no such alert"
        lines.append(f'<p class="meta">{escape(f"{label}: {text}" if label else text)}</p>')
    lines.append("</section>")
    return "\n".join(lines)


def _facts(run: Run, changed: Run | None) -> str:
    """What the alert is; a threshold the change moved shows as `5000 -> 8000`."""
    facts = [f"severity {run.severity}"]
    if run.kind:
        facts.append(f"{run.kind} alert")
    if run.threshold is not None:
        moved = changed is not None and changed.threshold is not None and changed.threshold != run.threshold
        facts.append(
            f"threshold {run.threshold:g}"
            + (f" \N{RIGHTWARDS ARROW} {changed.threshold:g}" if moved and changed else "")
        )
    if run.for_s is not None:
        facts.append(f"for {duration(run.for_s)}")
    if run.interval_s is not None:
        facts.append(f"evaluated every {duration(run.interval_s)}")
    return " · ".join(facts)


def _summary(match: AlertMatch, start: float, end: float, incidents: list[Incident]) -> str:
    run = match.run
    text = (
        f"{_firings(len(run.firings))} ({rate(per_week(len(run.firings), start, end))} per week), "
        f"{duration(run.firing_seconds(end))} firing"
    )
    if incidents:
        caught = ", ".join(f"{c.incident} {delay(c.delay_s)}" for c in match.caught) or "none"
        text += f"; caught: {caught}; {_firings(len(match.unmatched))} matched no incident"
    return text


def _firings(count: int) -> str:
    return f"{count} firing" if count == 1 else f"{count} firings"


def _x(ts: float, start: float, end: float) -> float:
    return LEFT + (ts - start) / (end - start) * (WIDTH - LEFT - RIGHT)


def _timeline(
    rows: list[tuple[str, Run | None, str]], incidents: list[Incident], run: Run, start: float, end: float
) -> str:
    height = len(rows) * ROW_H + AXIS_H
    parts = [f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(run.name)} firings">']
    parts += _axis(start, end, len(rows) * ROW_H)
    for incident in incidents:
        if incident.service and incident.service != run.service:
            continue
        x0, x1 = _x(max(incident.start, start), start, end), _x(min(incident.end, end), start, end)
        if x1 >= x0:
            tip = f"{incident.name}: {when(incident.start)} to {when(incident.end)}"
            parts.append(
                f'<rect class="incident" x="{x0:.1f}" y="0" width="{max(x1 - x0, 2):.1f}" height="{len(rows) * ROW_H}">'
                f"<title>{escape(tip)}</title></rect>"
            )
    for i, (label, side, css) in enumerate(rows):
        y = i * ROW_H
        parts.append(f'<text class="label" x="0" y="{y + 15}">{escape(label)}</text>')
        for firing in side.firings if side else ():
            x0, x1 = _x(firing.start, start, end), _x(firing.until(end), start, end)
            ongoing = " ongoing" if firing.end is None else ""
            tip = f"{when(firing.start)} to {'the end of the window' if firing.end is None else when(firing.end)}"
            tip += f" ({duration(firing.until(end) - firing.start)})"
            parts.append(
                f'<rect class="{css}{ongoing}" x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 2):.1f}" '
                f'height="{ROW_H - 8}"><title>{escape(tip)}</title></rect>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _axis(start: float, end: float, top: float) -> list[str]:
    """A background, a line per tick and its date: hours for a day, days for weeks."""
    step = next((s for s in _TICKS if (end - start) / s <= 14), _TICKS[-1])
    parts = [f'<rect class="bg" x="{LEFT}" y="0" width="{WIDTH - LEFT - RIGHT}" height="{top}"/>']
    tick = (start // step + 1) * step
    while tick < end:
        x = _x(tick, start, end)
        text = when(tick)[5:16] if step < 86_400 else when(tick)[5:10]
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{top}"/>')
        parts.append(f'<text class="axis" x="{x:.1f}" y="{top + 13}" text-anchor="middle">{escape(text)}</text>')
        tick += step
    return parts
