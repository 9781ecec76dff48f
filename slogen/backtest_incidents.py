"""`slogen backtest --incidents FILE`: which known incidents each alert caught, how late,
and which of its firings matched no incident (the noise a tuning change should cut).

The file is YAML, read by slogen's own loader (lines kept, aliases and duplicate keys
refused) and checked like a spec, every problem as `file:line: field: message`:

    incidents:
      - name: checkout outage
        start: 2026-11-20T14:05:00Z   # RFC 3339 with a time zone, or unix seconds
        end: 2026-11-20T14:40:00Z
        service: api                  # optional: only this service's alerts can catch it
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, PlainValidator

from .backtest_runs import Firing, Run, duration, runs, shared_labels, shared_note, table, when
from .errors import Problem, SpecError, shown
from .load import read_file
from .messages import validate
from .spec import Strict


def _moment(value: Any) -> float:
    """RFC 3339 with a zone (YAML reads it as a timestamp) or unix seconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{value.isoformat()} has no time zone: end it with Z (UTC) or an offset such as +01:00")
        return value.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValueError(
        f"expected a time such as 2026-11-20T14:05:00Z (RFC 3339, unquoted) or unix seconds, got {shown(value)}"
    )


Moment = Annotated[float, PlainValidator(_moment)]


class IncidentSpec(Strict):
    """A known incident: when users were hurt, as the postmortem says."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    """What the team calls it; shown in the reports."""
    start: Moment
    """When it started: RFC 3339 with a time zone (2026-11-20T14:05:00Z) or unix seconds."""
    end: Moment
    """When it ended, after `start`."""
    service: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=32)] | None = None
    """The service it hurt: only that service's alerts can catch it. Without it, any alert can."""


class IncidentsFile(Strict):
    """The known incidents over a backtest's window."""

    incidents: Annotated[list[IncidentSpec], Field(min_length=1)]
    """Each known incident, with its start and end."""


@dataclass(frozen=True)
class Incident:
    name: str
    start: float
    end: float
    service: str = ""


def load_incidents(path: Path) -> list[Incident]:
    """The incidents of a YAML file, sorted by start; bad input raises SpecError."""
    display = str(path)
    if not path.is_file():
        raise SpecError([Problem(display, 0, "", "incidents file not found")])
    doc = read_file(path, display)
    if not isinstance(doc.data, dict):
        raise SpecError([doc.problem((), "the file must be a mapping: incidents, a list of name, start and end")])
    spec = validate(doc, IncidentsFile)
    problems = []
    seen: dict[str, int] = {}
    for i, item in enumerate(spec.incidents):
        if item.end <= item.start:
            problems.append(doc.problem(("incidents", i, "end"), f"must be after start ({when(item.start)})"))
        if item.name in seen:
            message = f"{item.name!r} is already the name of incidents[{seen[item.name]}]: give each incident its own"
            problems.append(doc.problem(("incidents", i, "name"), message))
        seen.setdefault(item.name, i)
    if problems:
        raise SpecError(problems)
    found = [Incident(i.name, i.start, i.end, i.service or "") for i in spec.incidents]
    return sorted(found, key=lambda i: (i.start, i.name))


@dataclass(frozen=True)
class Catch:
    incident: str
    delay_s: float  # from the incident's start to the firing's; <= 0: already firing


@dataclass(frozen=True)
class AlertMatch:
    run: Run
    caught: tuple[Catch, ...]
    unmatched: tuple[Firing, ...]  # firings that overlap no incident of its service


@dataclass(frozen=True)
class IncidentReport:
    start: float
    end: float
    incidents: tuple[Incident, ...]
    alerts: tuple[AlertMatch, ...]

    def missed(self) -> list[Incident]:
        """Incidents that no alert caught."""
        caught = {c.incident for a in self.alerts for c in a.caught}
        return [i for i in self.incidents if i.name not in caught]


def _overlaps(firing: Firing, incident: Incident, end: float) -> bool:
    return firing.start <= incident.end and firing.until(end) >= incident.start


def _concerns(run: Run, incident: Incident) -> bool:
    return not incident.service or incident.service == run.service


def match_incidents(
    entries: Iterable[Mapping[str, Any]],
    incidents: Iterable[Incident],
    *,
    start: float | None = None,
    end: float | None = None,
) -> IncidentReport:
    """For each alert: each incident (of its service) that one of its firings overlaps,
    with the delay from the incident's start to the first such firing's start. The
    window defaults to the span of the firings and incidents."""
    entries = list(entries)
    known = tuple(sorted(incidents, key=lambda i: (i.start, i.name)))
    if start is None or end is None:
        span = [t for i in known for t in (i.start, i.end)]
        span += [
            float(t)
            for e in entries
            for f in e.get("firings") or []
            for t in (f["start"], f.get("end"))
            if t is not None
        ]
        start = min(span, default=0.0) if start is None else start
        end = max(span, default=start) + 1.0 if end is None else end
    alerts = []
    for run in runs(entries, start, end):
        mine = [i for i in known if _concerns(run, i)]
        caught = []
        for incident in mine:
            first = next((f for f in run.firings if _overlaps(f, incident, end)), None)
            if first is not None:
                caught.append(Catch(incident.name, first.start - incident.start))
        unmatched = tuple(f for f in run.firings if not any(_overlaps(f, i, end) for i in mine))
        alerts.append(AlertMatch(run, tuple(caught), unmatched))
    return IncidentReport(start, end, known, tuple(alerts))


def delay(seconds: float) -> str:
    return "already firing" if seconds <= 0 else f"after {duration(seconds)}"


def incidents_table(report: IncidentReport) -> str:
    """Per alert: the incidents it caught and how late, and how many firings were noise."""
    shared = shared_labels(match.run.labels for match in report.alerts)
    rows = []
    for match in report.alerts:
        caught = ", ".join(f"{c.incident} ({delay(c.delay_s)})" for c in match.caught) or "none"
        rows.append([match.run.short_name(shared), caught, f"{len(match.unmatched)} of {len(match.run.firings)}"])
    text = table(["alert", "incidents caught", "firings matching no incident"], rows)
    missed = report.missed()
    names = ", ".join(f"{i.name} ({when(i.start)})" for i in missed) if missed else "none"
    title = f"{len(report.alerts)} alerts, {len(report.incidents)} known incidents{shared_note(shared)}"
    return f"{title}\n{text}\nincidents no alert caught: {names}"


def incidents_json(report: IncidentReport) -> list[dict[str, Any]]:
    """The backtest's JSON, each entry with `caught` (incident, delay_seconds) and each
    firing with `incident`: the first incident it overlaps, or null (noise)."""
    out = []
    for match in report.alerts:
        run = match.run
        mine = [i for i in report.incidents if _concerns(run, i)]
        firings = [
            {
                "start": f.start,
                "end": f.end,
                "incident": next((i.name for i in mine if _overlaps(f, i, report.end)), None),
            }
            for f in run.firings
        ]
        caught = [{"incident": c.incident, "delay_seconds": c.delay_s} for c in match.caught]
        out.append(
            {
                "alert": run.alert,
                "labels": dict(run.labels),
                "severity": run.severity,
                "firings": firings,
                "caught": caught,
            }
        )
    return out
