"""`slogen backtest`'s tuning views: `--compare`, `--incidents` and the HTML report.

A team changes thresholds in a copy of its spec folder, replays both folders over the
same history, and reads what the change costs and saves: pages and tickets per week
before and after (compare), which known incidents each alert caught and how late, and
which of its firings were noise (match_incidents), and one timeline per alert
(html_report). Everything here works on the backtest's entries; nothing queries
Prometheus.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .backtest_html import html_report
from .backtest_incidents import (
    Incident,
    IncidentReport,
    incidents_json,
    incidents_table,
    load_incidents,
    match_incidents,
)
from .backtest_runs import (
    DEFAULT_PAGE_SEVERITIES,
    Run,
    duration,
    page_severities,
    per_week,
    rate,
    runs,
    shared_labels,
    shared_note,
    table,
    weeks,
)

__all__ = [
    "Comparison",
    "Incident",
    "IncidentReport",
    "Row",
    "compare",
    "compare_json",
    "compare_table",
    "html_report",
    "incidents_json",
    "incidents_table",
    "load_incidents",
    "match_incidents",
    "page_severities",
]

Entries = Iterable[Mapping[str, Any]]


@dataclass(frozen=True)
class Side:
    """One alert on one side of a comparison; absent: the alert does not exist there."""

    firings: int
    firing_s: float
    present: bool = True


@dataclass(frozen=True)
class Row:
    alert: str
    labels: tuple[tuple[str, str], ...]
    severity: str
    page: bool
    before: Side
    after: Side

    @property
    def name(self) -> str:
        return Run(self.alert, self.labels, self.severity, ()).name


@dataclass(frozen=True)
class Comparison:
    start: float
    end: float
    rows: tuple[Row, ...]  # sorted: pages first, then by alert name and labels

    def total(self, side: str, page: bool) -> int:
        return sum(getattr(row, side).firings for row in self.rows if row.page == page)

    def per_week(self, side: str, page: bool) -> float:
        return per_week(self.total(side, page), self.start, self.end)


_ABSENT = Side(0, 0.0, present=False)


def compare(
    before: Entries,
    after: Entries,
    start: float,
    end: float,
    *,
    page_severities: frozenset[str] = DEFAULT_PAGE_SEVERITIES,
) -> Comparison:
    """Both replays side by side, matched by alert name and labels: an alert that a change
    removed (or added) shows on one side only. A firing is one page or one ticket."""
    if end <= start:
        raise ValueError(f"the window must end after it starts, got {start} to {end}")
    sides = {
        "before": {r.key: r for r in runs(before, start, end)},
        "after": {r.key: r for r in runs(after, start, end)},
    }
    rows = []
    for key in sorted(set(sides["before"]) | set(sides["after"])):
        present = [sides[s][key] for s in ("before", "after") if key in sides[s]]
        severity = present[-1].severity
        got = {
            s: Side(len(sides[s][key].firings), sides[s][key].firing_seconds(end)) if key in sides[s] else _ABSENT
            for s in ("before", "after")
        }
        rows.append(Row(key[0], key[1], severity, severity in page_severities, got["before"], got["after"]))
    rows.sort(key=lambda r: (not r.page, r.alert, r.labels))
    return Comparison(start, end, tuple(rows))


def compare_table(comparison: Comparison) -> str:
    """Side by side: each alert's pages or tickets per week and time firing, then totals."""
    cmp = comparison
    shared = shared_labels(row.labels for row in cmp.rows)
    header = ["alert", "kind", "before/week", "after/week", "change", "firing before", "firing after"]
    rows = []
    for row in cmp.rows:
        b, a = (per_week(s.firings, cmp.start, cmp.end) for s in (row.before, row.after))
        rows.append(
            [
                Run(row.alert, row.labels, row.severity, ()).short_name(shared),
                "page" if row.page else "ticket",
                rate(b) if row.before.present else "-",
                rate(a) if row.after.present else "-",
                _change(b, a),
                duration(row.before.firing_s) if row.before.present else "-",
                duration(row.after.firing_s) if row.after.present else "-",
            ]
        )
    for page in (True, False):
        b, a = cmp.per_week("before", page), cmp.per_week("after", page)
        rows.append([f"total {'pages' if page else 'tickets'}", "", rate(b), rate(a), _change(b, a), "", ""])
    title = f"{len(cmp.rows)} alerts over {rate(weeks(cmp.start, cmp.end))} weeks{shared_note(shared)}"
    return title + "\n" + table(header, rows)


def _change(before: float, after: float) -> str:
    diff = round(after - before, 1)
    return "0.0" if diff == 0 else f"{diff:+.1f}"


def compare_json(comparison: Comparison) -> dict[str, Any]:
    """`--compare --format json`: the window, each alert's figures on both sides (null
    where the alert does not exist) and the totals."""
    cmp = comparison

    def side(s: Side) -> dict[str, Any] | None:
        if not s.present:
            return None
        return {"firings": s.firings, "per_week": per_week(s.firings, cmp.start, cmp.end), "firing_seconds": s.firing_s}

    return {
        "start": cmp.start,
        "end": cmp.end,
        "weeks": weeks(cmp.start, cmp.end),
        "alerts": [
            {
                "alert": r.alert,
                "labels": dict(r.labels),
                "severity": r.severity,
                "page": r.page,
                "before": side(r.before),
                "after": side(r.after),
            }
            for r in cmp.rows
        ],
        "totals": {
            f"{what}_per_week": {s: cmp.per_week(s, page) for s in ("before", "after")}
            for what, page in (("pages", True), ("tickets", False))
        },
    }
