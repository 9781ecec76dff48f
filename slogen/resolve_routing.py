"""slo/alerting.yaml and the services' `routing:` -> the routing model, with cross-checks
against the alerts that the services generate (labels that exist, receivers in use)."""

from __future__ import annotations

from typing import Any

from . import conventions as c
from . import model as m
from . import spec as s
from .errors import Problem
from .load import Document, Path_
from .quantity import format_duration, parse_duration
from .resolve_checks import did_you_mean


def is_settings_file(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and "service" not in data
        and "receivers" not in data
        and any(
            key in data
            for key in (
                "grafana", "compatibility", "targets", "mimir", "cortex", "thanos",
                "prometheus_operator", "argo_rollouts", "flagger",
            )
        )
    )


def is_routing_file(data: Any) -> bool:
    return isinstance(data, dict) and "service" not in data and ("receivers" in data or "routes" in data)


def resolve_routing(
    doc: Document,
    spec: s.RoutingFile,
    labels: dict[str, set[str]] | None,
    service_specs: list[tuple[Document, s.ServiceFile]],
    problems: list[Problem],
    warnings: list[str],
    services: tuple[m.Service, ...] = (),
) -> m.Routing:
    """`labels`: those of the generated alerts (alert_labels), or None when some alert
    failed to resolve (a route matching its labels is not reported as well).
    `services`: the resolved services, whose severity values (alerting.page/ticket) the
    routes and inhibitions take: a service's `routing: {critical: [...]}` takes its pages
    whatever value alerting.page.severity gives them."""
    severities = severity_values(services)
    names = set(spec.receivers)
    used: set[str] = set()
    intervals = set(spec.time_intervals)

    routes = []
    for i, route in enumerate(spec.routes):
        path: Path_ = ("routes", i)
        for j, name in enumerate(route.receivers):
            _known(doc, (*path, "receivers", j), name, names, problems)
            used.add(name)
        for j, severity in enumerate(route.severity):
            if labels is not None and severity not in labels[c.LABEL_SEVERITY]:
                known = _list(labels[c.LABEL_SEVERITY])
                message = f"no alert has severity {severity!r}, so this route could never take it (severities: {known})"
                if severity in ("page", "ticket"):
                    message += f"; pages have severity {c.SEVERITY_CRITICAL} and tickets {c.SEVERITY_WARNING} unless alerting.{severity}.severity says otherwise"
                problems.append(doc.problem((*path, "severity", j), message))
        for field in ("mute_time_intervals", "active_time_intervals"):
            for j, name in enumerate(getattr(route, field)):
                if name not in intervals:
                    hint = did_you_mean(name, intervals)
                    message = f"unknown time interval {name!r}{hint} (known: {_list(intervals)})"
                    problems.append(doc.problem((*path, field, j), message))
        for key, value in route.match.items():
            if labels is None:
                continue
            if key not in labels:
                problems.append(
                    doc.problem(
                        (*path, "match", key),
                        f"no generated alert carries the label {key!r}, so this route could never match (labels: {_list(labels)})",
                    )
                )
            elif labels[key] and value not in labels[key]:  # a `by` label's values are only known at run time
                message = f"no generated alert has {key}={value!r} yet (values: {_list(labels[key])})"
                warnings.append(str(doc.problem((*path, "match", key), message)))
        routes.append(
            m.Route(
                severities=tuple(route.severity),
                match=tuple(sorted(route.match.items())),
                receivers=tuple(route.receivers),
                timing=_timing(route),
                mute_time_intervals=tuple(route.mute_time_intervals),
                active_time_intervals=tuple(route.active_time_intervals),
            )
        )

    summary = None
    if spec.summary is not None:
        _known(doc, ("summary", "receiver"), spec.summary.receiver, names, problems)
        used.add(spec.summary.receiver)
        summary = (spec.summary.receiver, _timing(spec.summary))

    service_routes = []
    for sdoc, sspec in service_specs:
        if sspec.routing is None:
            continue
        pairs = []
        for severity in c.SEVERITIES:
            chosen = getattr(sspec.routing, severity)
            for j, name in enumerate(chosen):
                _known(sdoc, ("routing", severity, j), name, names, problems, where=f" in {doc.file}")
                used.add(name)
            values = severities.get(sspec.service, {}).get(severity) or (severity,)
            pairs += [(value, tuple(chosen)) for value in values]
        service_routes.append(m.ServiceRoute(sspec.service, tuple(pairs)))

    if labels is not None:
        routed = {sev for route in spec.routes for sev in route.severity}
        routed |= {sev for r in service_routes for sev, chosen in r.receivers if chosen}
        for severity in sorted(labels[c.LABEL_SEVERITY] - routed - set(c.SEVERITIES)):
            message = f"alerts of severity {severity!r} match no route: add it to a route's severity list"
            warnings.append(str(doc.problem(("routes",), message)))

    receivers = []
    for name, receiver in sorted(spec.receivers.items()):
        rpath: Path_ = ("receivers", name)
        if name not in used:
            problems.append(doc.problem(rpath, "no route, summary or service sends alerts to this receiver"))
        kind = next(k for k in ("pagerduty", "slack", "email", "webhook") if getattr(receiver, k) is not None)
        config = getattr(receiver, kind)
        if kind == "email":
            if config.smarthost is None and spec.smtp is None:
                problems.append(
                    doc.problem(
                        (*rpath, "email"),
                        "no smarthost: set email.smarthost here or smtp.smarthost at the top of the file",
                    )
                )
            if config.from_ is None and spec.smtp is None:
                problems.append(
                    doc.problem((*rpath, "email"), "no sender: set email.from here or smtp.from at the top of the file")
                )
        receivers.append(m.Receiver(name, kind, config))

    for name, ranges in spec.time_intervals.items():
        if not ranges:
            problems.append(doc.problem(("time_intervals", name), "a time interval needs at least one range"))

    return m.Routing(
        source=m.Source(doc.file, 1, doc.spec_path),
        receivers=tuple(receivers),
        routes=tuple(routes),
        service_routes=tuple(sorted(service_routes, key=lambda r: r.service)),
        summary=summary,
        defaults=_timing(spec.defaults),
        time_intervals=tuple(
            (name, tuple(r.model_dump(exclude_defaults=True, by_alias=True) for r in ranges))
            for name, ranges in sorted(spec.time_intervals.items())
        ),
        smtp=spec.smtp,
        resolve_timeout=format_duration(parse_duration(spec.resolve_timeout)),
        inhibitions=inhibitions(services),
    )


def alert_labels(services: tuple[m.Service, ...]) -> dict[str, set[str]]:
    """Every label key (with its known values) that some generated alert carries."""
    from .builders import queries as q
    from .builders.rules import burn_rules

    out: dict[str, set[str]] = {"alertname": set(), c.LABEL_SEVERITY: set(c.SEVERITIES)}
    for service in services:
        for slo in service.slos:
            _add(out, slo.label_dict())
            _add_shaping(out, slo.shaping)
            out["alertname"] |= {slo.alert_name, c.ALERT_ABSENT}
            for label in slo.by:  # a grouped SLO's burn-rate alerts carry its by labels
                out.setdefault(label, set())
            for burn in burn_rules(slo):  # a tier with its own `for`: long and short
                _add(out, dict(burn.extra))
            for selector in q.absent_selectors(slo):
                _add(out, selector.equality_labels())
        for alert in service.alerts:
            _add(out, alert.label_dict())
            _add_shaping(out, alert.shaping)
            out["alertname"] |= {alert.name, c.ALERT_ABSENT}
            for label in alert.by:
                out.setdefault(label, set())
            for selector in q.absent_selectors(alert):
                _add(out, selector.equality_labels())
    return out


def severity_values(services: tuple[m.Service, ...]) -> dict[str, dict[str, tuple[str, ...]]]:
    """Per service and kind (critical pages, warning tickets), the severity values its
    alerts carry, sorted."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for service in services:
        items: list[m.SLO | m.ThresholdAlert] = [*service.slos, *service.alerts]
        out[service.name] = {
            kind: tuple(sorted({item.shaping.of(kind).severity for item in items})) for kind in c.SEVERITIES
        }
    return out


def inhibitions(services: tuple[m.Service, ...]) -> tuple[tuple[str, str], ...]:
    """Each (page severity, ticket severity) pair some SLO or alert uses, sorted."""
    items: list[m.SLO | m.ThresholdAlert] = [
        *(x for s in services for x in s.slos),
        *(x for s in services for x in s.alerts),
    ]
    pairs = {(item.shaping.page.severity, item.shaping.ticket.severity) for item in items}
    return tuple(sorted(pairs)) or ((c.SEVERITY_CRITICAL, c.SEVERITY_WARNING),)


def _add_shaping(out: dict[str, set[str]], shaping: m.Shaping) -> None:
    for shape in (shaping.page, shaping.ticket):
        _add(out, {**dict(shape.labels), c.LABEL_SEVERITY: shape.severity})


def _add(out: dict[str, set[str]], labels: dict[str, str]) -> None:
    for key, value in labels.items():
        out.setdefault(key, set()).add(value)


def _known(
    doc: Document, path: tuple[str | int, ...], name: str, names: set[str], problems: list[Problem], where: str = ""
) -> None:
    if name not in names:
        hint = did_you_mean(name, names)
        problems.append(doc.problem(path, f"unknown receiver {name!r}{where}{hint} (known: {_list(names)})"))


def _list(items: Any) -> str:
    return ", ".join(sorted(items)) or "none"


def _canonical(duration: str | None) -> str | None:
    return format_duration(parse_duration(duration)) if duration else None


def _timing(spec: s.Timing) -> m.Timing:
    return m.Timing(
        group_by=tuple(spec.group_by) if spec.group_by is not None else None,
        group_wait=_canonical(spec.group_wait),
        group_interval=_canonical(spec.group_interval),
        repeat_interval=_canonical(spec.repeat_interval),
    )
