"""The backtest's entries as typed values, and the figures every tuning view shares.

`slogen backtest` replays each generated alert over stored history and gives one entry
per alert series: `{"alert", "labels", "severity", "firings": [{"start", "end"}]}` (unix
seconds, `end` None while still firing at the window's end), optionally with "kind",
"for", "interval", "threshold", "service" and "slo". The views (`--compare`,
`--incidents`, the HTML report) read them through `runs()`, so a firing is clipped to the
window and counted the same way in every view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import conventions as c
from . import model as m
from .quantity import format_duration

WEEK_S = 7 * 86_400
# Pages are what wakes a person: the alerts of the "page" kind. Their severity value is
# shaped per SLO (alerting.page), so the set comes from the model (page_severities);
# without a model, slogen's default.
DEFAULT_PAGE_SEVERITIES = frozenset({c.SEVERITY_CRITICAL})


@dataclass(frozen=True)
class Firing:
    start: float  # unix seconds
    end: float | None  # None: still firing when the window ended

    def until(self, window_end: float) -> float:
        return window_end if self.end is None else self.end


@dataclass(frozen=True)
class Run:
    """One alert series (alert name and labels) and its firings over the window."""

    alert: str
    labels: tuple[tuple[str, str], ...]  # sorted
    severity: str
    firings: tuple[Firing, ...]  # sorted by start
    kind: str = ""  # burn | threshold | absent, when the backtest says
    for_s: float | None = None
    interval_s: float | None = None
    threshold: float | None = None
    service: str = ""
    slo: str = ""

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """What identifies the same alert before and after a change of thresholds."""
        return (self.alert, self.labels)

    @property
    def name(self) -> str:
        """`SLOErrorBudgetBurn{service="api", severity="critical", slo="availability"}`."""
        inner = ", ".join(f'{k}="{_escaped(v)}"' for k, v in self.labels)
        return f"{self.alert}{{{inner}}}" if inner else self.alert

    def short_name(self, shared: tuple[tuple[str, str], ...]) -> str:
        """The name without the labels every alert of a table shares (said once above it)."""
        return Run(self.alert, tuple(kv for kv in self.labels if kv not in shared), self.severity, ()).name

    def firing_seconds(self, end: float) -> float:
        return sum(f.until(end) - f.start for f in self.firings)


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def runs(entries: Iterable[Mapping[str, Any]], start: float, end: float) -> list[Run]:
    """Entries as Runs, sorted by name, firings clipped to [start, end] (a firing that
    began before the window counts from its start; one wholly outside is dropped)."""
    out = []
    for entry in entries:
        labels = {str(k): str(v) for k, v in (entry.get("labels") or {}).items()}
        firings = []
        for firing in entry.get("firings") or []:
            f_start, f_end = float(firing["start"]), firing.get("end")
            f_end = None if f_end is None or float(f_end) >= end else float(f_end)
            if f_start >= end or (f_end is not None and f_end < start):
                continue
            firings.append(Firing(max(f_start, start), f_end))
        out.append(
            Run(
                alert=str(entry["alert"]),
                labels=tuple(sorted(labels.items())),
                severity=str(entry.get("severity") or labels.get(c.LABEL_SEVERITY, "")),
                firings=tuple(sorted(firings, key=lambda f: (f.start, f.until(end)))),
                kind=str(entry.get("kind") or ""),
                for_s=_number(entry.get("for")),
                interval_s=_number(entry.get("interval")),
                threshold=_number(entry.get("threshold")),
                service=str(entry.get("service") or labels.get(c.LABEL_SERVICE, "")),
                slo=str(entry.get("slo") or labels.get(c.LABEL_SLO, "")),
            )
        )
    return sorted(out, key=lambda r: (r.alert, r.labels))


def shared_labels(labels: Iterable[tuple[tuple[str, str], ...]]) -> tuple[tuple[str, str], ...]:
    """The labels (name and value) of all alerts alike, when there are two alerts or more:
    a team's backtest repeats its owner on every row."""
    sets = [set(one) for one in labels]
    return tuple(sorted(set.intersection(*sets))) if len(sets) > 1 else ()


def shared_note(shared: tuple[tuple[str, str], ...]) -> str:
    return "; every alert has " + Run("", shared, "", ()).name[1:-1] if shared else ""


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def page_severities(model: m.Model) -> frozenset[str]:
    """The severity values of every page in the specs (alerting.page shapes them per SLO
    and alert); the tuning views count an alert of any other severity as a ticket."""
    found = {c.SEVERITY_CRITICAL} if not model.services else set()
    for service in model.services:
        items: list[m.SLO | m.ThresholdAlert] = [*service.slos, *service.alerts]
        found.update(item.shaping.page.severity for item in items)
    return frozenset(found) or DEFAULT_PAGE_SEVERITIES


def weeks(start: float, end: float) -> float:
    return (end - start) / WEEK_S


def per_week(count: int, start: float, end: float) -> float:
    return count / weeks(start, end) if end > start else 0.0


def when(ts: float) -> str:
    """A moment as people read it in a report: `2026-11-20 14:05 UTC`."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(seconds: float) -> str:
    """`1h30m`, `45s`; `0s` for nothing."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    return format_duration(seconds * 1000) or "0s"


def rate(value: float) -> str:
    """Per-week figures with one decimal: small numbers are what tuning is about."""
    return f"{value:.1f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A plain text table, columns padded to their widest cell, numbers right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    # a column of numbers (and "-" where there is none) is right-aligned
    right = [all(_numeric(row[i]) for row in rows if row[i] not in ("", "-")) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.rjust(widths[i]) if right[i] and row is not header else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _numeric(cell: str) -> bool:
    return cell.lstrip("+-").replace(".", "", 1).isdigit()
