"""Alertmanager 0.25 configuration, notification templates and route tests from the
routing model. Secrets are only ever referenced by file."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from .. import conventions as c
from .. import model as m
from ..promql import quote

BLACKHOLE = c.BLACKHOLE_RECEIVER
DEFAULT_TIMING = m.Timing(
    group_by=("alertname", c.LABEL_SERVICE, c.LABEL_SLO), group_wait="30s", group_interval="5m", repeat_interval="4h"
)
SUMMARY_TIMING = m.Timing(group_by=(c.LABEL_OWNER,), group_wait="5m", group_interval="1d", repeat_interval="1d")
TEMPLATE_NAME = "slogen.tmpl"


def template_text(override: Path | None = None) -> bytes:
    """The notification templates: the user's override if there is one, else ours."""
    if override is not None and (override / "alertmanager" / TEMPLATE_NAME).is_file():
        return (override / "alertmanager" / TEMPLATE_NAME).read_bytes()
    return (files("slogen.templates") / "alertmanager" / TEMPLATE_NAME).read_bytes()


def matcher(name: str, values: tuple[str, ...] | list[str], negate: bool = False) -> str:
    """`severity="critical"` or `severity=~"critical|warning"` (values are ids, no regex)."""
    if len(values) == 1:
        return f"{name}{'!=' if negate else '='}{quote(values[0])}"
    return f"{name}{'!~' if negate else '=~'}{quote('|'.join(values))}"


def _timing(timing: m.Timing, base: m.Timing | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("group_by", "group_wait", "group_interval", "repeat_interval"):
        value = getattr(timing, key)
        if value is None and base is not None:
            value = getattr(base, key)
        if value is not None:
            out[key] = list(value) if key == "group_by" else value
    return out


def build_routes(routing: m.Routing) -> list[dict[str, Any]]:
    """Flat child routes, all `continue: true`, so an alert reaches every receiver whose
    route matches: the summary first, then a service's own receivers or the defaults."""
    routes: list[dict[str, Any]] = []
    if routing.summary is not None:
        receiver, timing = routing.summary
        routes.append({"receiver": receiver, **_timing(timing, SUMMARY_TIMING), "continue": True})
    owned: dict[str, list[str]] = {}  # severity -> services that route it themselves
    for service_route in routing.service_routes:
        for severity, receivers in service_route.receivers:
            if not receivers:
                continue
            owned.setdefault(severity, []).append(service_route.service)
            for receiver in receivers:
                routes.append(
                    {
                        "receiver": receiver,
                        "matchers": [
                            matcher(c.LABEL_SERVICE, [service_route.service]),
                            matcher(c.LABEL_SEVERITY, [severity]),
                        ],
                        "continue": True,
                    }
                )
    for route in routing.routes:
        for severity in route.severities:
            for receiver in route.receivers:
                matchers = [matcher(c.LABEL_SEVERITY, [severity])]
                matchers += [matcher(k, [v]) for k, v in route.match]
                if owned.get(severity):
                    matchers.append(matcher(c.LABEL_SERVICE, sorted(owned[severity]), negate=True))
                entry: dict[str, Any] = {"receiver": receiver, "matchers": matchers, **_timing(route.timing)}
                if route.mute_time_intervals:
                    entry["mute_time_intervals"] = list(route.mute_time_intervals)
                if route.active_time_intervals:
                    entry["active_time_intervals"] = list(route.active_time_intervals)
                entry["continue"] = True
                routes.append(entry)
    return routes


def is_page(routing: m.Routing) -> str:
    """A notification template's test that the alerts are pages: their severity is one of
    the page values the specs use (critical unless alerting.page.severity says otherwise)."""
    tests = [f"eq .CommonLabels.severity {quote(v)}" for v in sorted({page for page, _ in routing.inhibitions})]
    return tests[0] if len(tests) == 1 else "or " + " ".join(f"({x})" for x in tests)


def build_receiver(receiver: m.Receiver, routing: m.Routing) -> dict[str, Any]:
    cfg = receiver.config
    if receiver.kind == "pagerduty":
        pd: dict[str, Any] = {
            "routing_key_file": cfg.routing_key_file,
            "send_resolved": cfg.send_resolved,
            "severity": cfg.severity or f"{{{{ if {is_page(routing)} }}}}critical{{{{ else }}}}warning{{{{ end }}}}",
            "description": '{{ template "slogen.pagerduty.description" . }}',
            "details": {
                "summary": '{{ template "slogen.pagerduty.details" . }}',
                "service": "{{ .CommonLabels.service }}",
                "slo": "{{ .CommonLabels.slo }}",
                "severity": "{{ .CommonLabels.severity }}",
            },
        }
        return {"name": receiver.name, "pagerduty_configs": [pd]}
    if receiver.kind == "slack":
        text = '{{ template "slogen.slack.text" . }}'
        if cfg.mention:
            text = f"{{{{ if {is_page(routing)} }}}}{cfg.mention} {{{{ end }}}}" + text
        slack = {
            "api_url_file": cfg.api_url_file,
            "channel": cfg.channel,
            "send_resolved": cfg.send_resolved,
            "title": '{{ template "slogen.slack.title" . }}',
            "text": text,
        }
        return {"name": receiver.name, "slack_configs": [slack]}
    if receiver.kind == "email":
        email: dict[str, Any] = {"to": cfg.to, "send_resolved": cfg.send_resolved}
        for key, value in (
            ("from", cfg.from_),
            ("smarthost", cfg.smarthost),
            ("auth_username", cfg.auth_username),
            ("auth_password_file", cfg.auth_password_file),
            ("require_tls", cfg.require_tls),
        ):
            if value is not None:
                email[key] = value
        email["headers"] = {"Subject": '{{ template "slogen.email.subject" . }}'}
        email["html"] = '{{ template "slogen.email.html" . }}'
        email["text"] = '{{ template "slogen.email.text" . }}'
        return {"name": receiver.name, "email_configs": [email]}
    hook = {"url": cfg.url, "send_resolved": cfg.send_resolved, "max_alerts": cfg.max_alerts}
    return {"name": receiver.name, "webhook_configs": [hook]}


def build_alertmanager_config(routing: m.Routing, by: tuple[str, ...] = ()) -> dict[str, Any]:
    config: dict[str, Any] = {"global": {"resolve_timeout": routing.resolve_timeout}}
    if routing.smtp is not None:
        smtp = routing.smtp
        config["global"]["smtp_smarthost"] = smtp.smarthost
        config["global"]["smtp_from"] = smtp.from_
        if smtp.auth_username:
            config["global"]["smtp_auth_username"] = smtp.auth_username
        if smtp.auth_password_file:
            config["global"]["smtp_auth_password_file"] = smtp.auth_password_file
        config["global"]["smtp_require_tls"] = smtp.require_tls
    config["templates"] = ["templates/*.tmpl"]
    config["route"] = {
        "receiver": BLACKHOLE,
        **_timing(routing.defaults, DEFAULT_TIMING),
        "routes": build_routes(routing),
    }
    # One rule per (page, ticket) pair of severity values: a pair is one SLO's or alert's,
    # so a page only ever silences the ticket of its own SLO (equal service and slo).
    config["inhibit_rules"] = [
        {
            "source_matchers": [matcher(c.LABEL_SEVERITY, [page])],
            "target_matchers": [matcher(c.LABEL_SEVERITY, [ticket])],
            "equal": [c.LABEL_SERVICE, c.LABEL_SLO, *by],
        }
        for page, ticket in routing.inhibitions
    ]
    if routing.time_intervals:
        config["time_intervals"] = [
            {"name": name, "time_intervals": list(ranges)} for name, ranges in routing.time_intervals
        ]
    config["receivers"] = [{"name": BLACKHOLE}] + [build_receiver(r, routing) for r in routing.receivers]
    return config


# --- expected routing, read straight from the spec (checked against the config by amtool)


def route_receivers(routing: m.Routing, labels: dict[str, str]) -> list[tuple[str, str]]:
    """Who gets an alert with these labels, and why, as the spec says it: the summary,
    then the service's own receivers for its severity, or else every matching route's."""
    out: list[tuple[str, str]] = []
    if routing.summary is not None:
        out.append((routing.summary[0], "summary (every alert, at most one email a day per group)"))
    severity = labels.get(c.LABEL_SEVERITY, "")
    service = labels.get(c.LABEL_SERVICE, "")
    own = next((r for r in routing.service_routes if r.service == service), None)
    own_receivers = dict(own.receivers).get(severity, ()) if own else ()
    if own_receivers:
        return out + [(name, f"the routing of service {service} ({severity})") for name in own_receivers]
    for i, route in enumerate(routing.routes):
        if severity in route.severities and all(labels.get(k) == v for k, v in route.match):
            extra = "".join(f", {k}={v}" for k, v in route.match)
            timing = "".join(f", muted in {t}" for t in route.mute_time_intervals)
            timing += "".join(f", only in {t}" for t in route.active_time_intervals)
            why = f"routes[{i}] (severity {'|'.join(route.severities)}{extra}{timing})"
            out += [(name, why) for name in route.receivers]
    return out or [(BLACKHOLE, "no route matches: dropped")]


def expected_receivers(routing: m.Routing, labels: dict[str, str]) -> list[str]:
    return [name for name, _ in route_receivers(routing, labels)]


def alert_label_sets(model: m.Model) -> list[dict[str, str]]:
    """One label set per generated alert rule and severity (the labels routing sees)."""
    from . import queries as q
    from .rules import burn_rule_labels, burn_rules, with_severity

    out: list[dict[str, str]] = []
    for service in model.services:
        for slo in service.slos:
            for burn in burn_rules(slo):
                labels = {"alertname": slo.alert_name, **burn_rule_labels(slo, burn)}
                out += [labels] + [{**labels, **group} for group in _routed_groups(model, slo.by)]
            if slo.shaping.absent_for_ms is not None:
                out.append({"alertname": c.ALERT_ABSENT, **with_severity(slo, c.SEVERITY_WARNING)})
        for alert in service.alerts:
            for level in alert.levels:
                labels = {"alertname": alert.name, **with_severity(alert, level.severity)}
                out += [labels] + [{**labels, **group} for group in _routed_groups(model, alert.by)]
            if alert.shaping.absent_for_ms is not None and q.absent_selectors(alert):
                # a threshold alert's absent-data alert is routed as any ticket: prove it too
                out.append({"alertname": c.ALERT_ABSENT, **with_severity(alert, c.SEVERITY_WARNING)})
    return out


def inhibit_by(model: m.Model) -> tuple[str, ...]:
    """The labels, beyond service and slo, that a critical alert must share with a warning
    to silence it: the `by` labels of grouped SLOs (a burning /cart must not silence
    /home's warning; a label neither alert has is equal, so other alerts are unaffected)."""
    return tuple(sorted({label for slo in model.slos() for label in slo.by}))


def _routed_groups(model: m.Model, by: tuple[str, ...]) -> list[dict[str, str]]:
    """The values of `by` labels that routes match on (`match: {route: /checkout}`): an
    alert of that group is tested too, so that the route's receivers are proven."""
    if model.routing is None or not by:
        return []
    groups = {tuple((k, v) for k, v in route.match if k in by) for route in model.routing.routes}
    return [dict(group) for group in sorted(groups) if group]


def build_route_tests(model: m.Model) -> list[dict[str, Any]]:
    assert model.routing is not None
    return [
        {"labels": labels, "receivers": expected_receivers(model.routing, labels)} for labels in alert_label_sets(model)
    ]


def build_notification_data(model: m.Model) -> dict[str, Any]:
    """Template data for `amtool template render`: one firing alert of the first SLO."""
    from .rules import TextContext, build_slo_groups

    slo = next(iter(model.slos()), None)
    alerts = []
    if slo is not None:
        text = TextContext(None, model.settings.grafana_url)
        # A burn-rate alert, the first (a page, else a ticket), else the absent alert.
        rules = [r for g in build_slo_groups(slo, text) for r in g["rules"] if r.get("alert")]
        rule = min(rules, key=lambda r: r["alert"] != slo.alert_name)
        annotations = {k: v.replace('{{ printf "%.1f" $value }}', "15.2") for k, v in rule["annotations"].items()}
        alerts.append(
            {
                "status": "firing",
                "labels": {"alertname": rule["alert"], **rule["labels"]},
                "annotations": annotations,
                "startsAt": "2026-01-01T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example/graph",
                "fingerprint": "0000000000000001",
            }
        )
    common = alerts[0]["labels"] if alerts else {}
    return {
        "receiver": "example",
        "status": "firing",
        "alerts": alerts,
        "groupLabels": {},
        "commonLabels": common,
        "commonAnnotations": alerts[0]["annotations"] if alerts else {},
        "externalURL": "http://alertmanager.example",
    }
