"""`slogen digest`: one email of what fired over the last day, from Prometheus' ALERTS.

Alertmanager has no digest: a 24h group interval only repeats what fires at that moment.
This reads the `ALERTS{alertstate="firing"}` history instead, cuts it into incidents
(runs of samples without a gap), and renders them per service and severity.
"""

from __future__ import annotations

import hashlib
import smtplib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from . import conventions as c
from . import model as m
from .prometheus import query
from .quantity import format_duration
from .text import render

SEVERITY_ORDER = {c.SEVERITY_CRITICAL: 0, c.SEVERITY_WARNING: 1}


@dataclass(frozen=True)
class Incident:
    labels: tuple[tuple[str, str], ...]
    start: float  # unix seconds
    end: float
    ongoing: bool
    runbook_url: str = ""
    dashboard_url: str = ""

    @property
    def label(self) -> dict[str, str]:
        return dict(self.labels)

    @property
    def duration_s(self) -> float:
        return self.end - self.start


@dataclass
class Digest:
    start: float
    end: float
    incidents: list[Incident] = field(default_factory=list)

    def groups(self) -> list[tuple[str, str, list[Incident]]]:
        """(service, severity, incidents) sorted by service, then critical first."""
        keyed: dict[tuple[str, str], list[Incident]] = {}
        for incident in self.incidents:
            lab = incident.label
            keyed.setdefault((lab.get(c.LABEL_SERVICE, "-"), lab.get(c.LABEL_SEVERITY, "-")), []).append(incident)
        order = sorted(keyed, key=lambda k: (k[0], SEVERITY_ORDER.get(k[1], 9), k[1]))
        return [(svc, sev, sorted(keyed[(svc, sev)], key=lambda i: (i.start, i.labels))) for svc, sev in order]


def incidents_from_series(series: list[dict[str, Any]], end: float) -> list[Incident]:
    """Cut each ALERTS series into runs: a gap of more than twice its evaluation interval
    (the smallest spacing of its samples) ends an incident. One sample stands for one
    evaluation interval."""
    out = []
    for item in series:
        labels = {k: v for k, v in item.get("metric", {}).items() if k not in ("__name__", "alertstate")}
        times = sorted(float(t) for t, _ in item.get("values", []))
        if not times:
            continue
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        step = min(gaps) if gaps else 60.0
        run_start = prev = times[0]
        for t in times[1:]:
            if t - prev > 2 * step:
                out.append(Incident(tuple(sorted(labels.items())), run_start, prev + step, False))
                run_start = t
            prev = t
        ongoing = end - prev <= 2 * step
        out.append(Incident(tuple(sorted(labels.items())), run_start, min(end, prev + step), ongoing))
    return out


def collect(prometheus_url: str, end: float, hours: int, model: m.Model | None = None) -> Digest:
    window = f"{hours}h"
    series = query(prometheus_url, f'ALERTS{{alertstate="firing"}}[{window}]', end)
    digest = Digest(start=end - hours * 3600, end=end)
    runbooks = _runbooks(model) if model else {}
    services = {s.name for s in model.services} if model else set()
    for incident in incidents_from_series(series, end):
        service = incident.label.get(c.LABEL_SERVICE, "")
        runbook = runbooks.get((service, incident.label.get(c.LABEL_SLO, "")), "")
        dashboard = c.dashboard_url(model.settings.grafana_url, service) if model and service in services else ""
        digest.incidents.append(
            Incident(incident.labels, incident.start, incident.end, incident.ongoing, runbook, dashboard)
        )
    return digest


def _runbooks(model: m.Model) -> dict[tuple[str, str], str]:
    out = {}
    for service in model.services:
        items: list[m.SLO | m.ThresholdAlert] = [*service.slos, *service.alerts]
        for item in items:
            out[(service.name, item.id)] = item.runbook_url
    return out


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def render_context(digest: Digest) -> dict[str, Any]:
    groups = []
    for service, severity, incidents in digest.groups():
        rows = []
        for i in incidents:
            lab = i.label
            rows.append(
                {
                    "alertname": lab.get("alertname", ""),
                    "slo": lab.get(c.LABEL_SLO, ""),
                    "extra": ", ".join(
                        f"{k}={v}" for k, v in i.labels if k not in ("alertname", "service", "slo", "severity", "owner")
                    ),
                    "started": _when(i.start),
                    "ended": "still firing" if i.ongoing else _when(i.end),
                    "duration": format_duration(int(round(i.duration_s / 60)) * 60_000) or "<1m",
                    "runbook_url": i.runbook_url,
                    "dashboard_url": i.dashboard_url,
                }
            )
        groups.append({"service": service, "severity": severity, "incidents": rows})
    critical = sum(1 for i in digest.incidents if i.label.get(c.LABEL_SEVERITY) == c.SEVERITY_CRITICAL)
    return {
        "start": _when(digest.start),
        "end": _when(digest.end),
        "hours": round((digest.end - digest.start) / 3600),
        "total": len(digest.incidents),
        "critical": critical,
        "groups": groups,
    }


def build_email(digest: Digest, sender: str, recipient: str, templates: str | None = None) -> EmailMessage:
    context = render_context(digest)
    message = EmailMessage()
    message["Subject"] = render("digest/subject.j2", templates, **context)
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(datetime.fromtimestamp(digest.end, UTC))
    digest_id = hashlib.sha256(f"{recipient}|{digest.start}|{digest.end}".encode()).hexdigest()[:16]
    message["Message-ID"] = f"<slogen-digest-{int(digest.end)}-{digest_id}@slogen.invalid>"
    message.set_content(render("digest/email.txt.j2", templates, **context) + "\n")
    message.add_alternative(render("digest/email.html.j2", templates, **context) + "\n", subtype="html")
    message.set_boundary(f"slogen-digest-{int(digest.end)}")  # not random: same input, same bytes
    return message


def send(
    message: EmailMessage, hostport: str, starttls: bool = False, user: str | None = None, password: str | None = None
) -> None:
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--smtp wants HOST:PORT, got {hostport!r}")
    with smtplib.SMTP(host, int(port), timeout=30) as smtp:
        if starttls:
            smtp.starttls()
        if user and password:
            smtp.login(user, password)
        smtp.send_message(message)
