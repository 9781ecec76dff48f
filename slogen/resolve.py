"""Specs -> model: ids, defaults, label merges, burn-rate tiers and cross-file checks.

Every problem of every file is collected before failing, so one run shows them all.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from . import conventions as c
from . import model as m
from . import spec as s
from .errors import Problem, SpecError
from .load import Document, Path_
from .promql import Selector, parse_selector
from .quantity import fmt, fmt_percent, format_duration, parse_duration, parse_number, parse_ratio
from .resolve_routing import is_routing_file, is_settings_file, resolve_routing

SpecT = TypeVar("SpecT", bound=BaseModel)
_OPS = {"above": ">", "below": "<", "at_least": ">=", "at_most": "<="}
MIN_ALERT_WINDOW_MS = 60_000


def resolve(docs: list[Document]) -> m.Model:
    problems: list[Problem] = []
    parsed: list[tuple[Document, s.ServiceFile]] = []
    routing_docs: list[tuple[Document, s.RoutingFile]] = []
    settings_docs: list[tuple[Document, s.SettingsFile]] = []
    for doc in docs:
        try:
            if is_settings_file(doc.data):
                settings_docs.append((doc, validate(doc, s.SettingsFile)))
            elif is_routing_file(doc.data):
                routing_docs.append((doc, validate(doc, s.RoutingFile)))
            else:
                parsed.append((doc, validate(doc, s.ServiceFile)))
        except SpecError as err:
            problems.extend(err.problems)
    for doc, _ in routing_docs[1:]:
        problems.append(
            doc.problem((), f"a second routing file: receivers and routes already come from {routing_docs[0][0].file}")
        )
    for doc, _ in settings_docs[1:]:
        problems.append(
            doc.problem((), f"a second settings file: settings already come from {settings_docs[0][0].file}")
        )
    if problems:
        raise SpecError(problems)
    resolver = _Resolver()
    services = resolver.services(parsed)
    routing = None
    if routing_docs:
        doc, spec = routing_docs[0]
        routing = resolve_routing(doc, spec, services, parsed, resolver.problems, resolver.warnings)
    else:
        for doc, service in parsed:
            if service.routing is not None:
                resolver.problems.append(
                    doc.problem(
                        ("routing",),
                        "routing: names receivers, but there is no routing file (slo/alerting.yaml) that declares them",
                    )
                )
    if resolver.problems:
        raise SpecError(resolver.problems)
    settings = m.Settings()
    if settings_docs:
        grafana = settings_docs[0][1].grafana
        settings = m.Settings(grafana.url.rstrip("/"), grafana.folder, grafana.dashboards_path)
    return m.Model(services=services, warnings=tuple(sorted(resolver.warnings)), routing=routing, settings=settings)


# --- validation: pydantic errors with file, line and path ---------------------------


def validate(doc: Document, model: type[SpecT]) -> SpecT:
    if not isinstance(doc.data, dict):
        raise SpecError(
            [
                doc.problem(
                    (),
                    "the file must be a mapping: a service (version, service, slos), the routing (version, receivers, routes) or the settings (version, grafana)",
                )
            ]
        )
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise SpecError([_problem(doc, err, model) for err in exc.errors()]) from None


def _problem(doc: Document, err: Any, root: type[BaseModel]) -> Problem:
    path = _data_path(doc.data, err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_fields(root, path[:-1])
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return doc.problem(path, f"unknown field{hint}")
    if kind == "missing":
        return doc.problem(path, "missing required field")
    message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind not in ("value_error", "assertion_error") and "input" in err:
        given = err["input"]
        message += (
            f", got a {'mapping' if isinstance(given, dict) else 'list'}"
            if isinstance(given, dict | list)
            else f", got {given!r}"
        )
    return doc.problem(path, message)


def _data_path(data: Any, loc: Iterable[str | int]) -> Path_:
    """pydantic's loc, less the union and validator tags that are not in the data."""
    path: list[str | int] = []
    node = data
    loc = list(loc)
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        elif i == len(loc) - 1 and isinstance(part, str) and isinstance(node, dict):
            path.append(part)  # a missing or unknown key: name it
    return tuple(path)


def _allowed_fields(root: type[BaseModel], path: Path_) -> list[str]:
    model: Any = root
    for part in path:
        model = _field_type(model, part)
        if model is None:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return sorted(f.alias or name for name, f in model.model_fields.items())
    return []


def _field_type(model: Any, part: str | int) -> Any:
    if isinstance(model, type) and issubclass(model, BaseModel):
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        return _unwrap(field.annotation) if field else None
    origin = typing.get_origin(model)
    if origin is dict:
        return _unwrap(typing.get_args(model)[1])
    if origin is list:
        return _unwrap(typing.get_args(model)[0])
    return None


def _unwrap(annotation: Any) -> Any:
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    return annotation


# --- resolution -----------------------------------------------------------------------


class _Resolver:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def services(self, parsed: list[tuple[Document, s.ServiceFile]]) -> tuple[m.Service, ...]:
        by_name: dict[str, list[tuple[Document, s.ServiceFile]]] = {}
        for doc, spec in parsed:
            by_name.setdefault(spec.service, []).append((doc, spec))
        return tuple(self.service(name, files) for name, files in sorted(by_name.items()))

    def service(self, name: str, files: list[tuple[Document, s.ServiceFile]]) -> m.Service:
        first_doc, first = files[0]
        owner = first.owner
        for doc, spec in files[1:]:
            if spec.owner != owner:
                self.problems.append(
                    doc.problem(
                        ("owner",),
                        f"service {name!r} has owner {owner!r} in {first_doc.file}; files of one service must agree",
                    )
                )
        seen: dict[str, str] = {}
        slos: list[m.SLO] = []
        for doc, spec in files:
            for slo_id, slo in spec.slos.items():
                if self._duplicate(doc, ("slos", slo_id), slo_id, name, seen):
                    continue
                resolved = self.slo(doc, spec, slo_id, slo)
                if resolved:
                    slos.append(resolved)
        slo_index = {slo.id: slo for slo in slos}
        alerts: list[m.ThresholdAlert] = []
        for doc, spec in files:
            for alert_id, alert in spec.alerts.items():
                if self._duplicate(doc, ("alerts", alert_id), alert_id, name, seen):
                    continue
                resolved_alert = self.alert(doc, spec, alert_id, alert, slo_index)
                if resolved_alert:
                    alerts.append(resolved_alert)
        source = m.Source(first_doc.file, first_doc.line_of(("service",)), first_doc.spec_path)
        return m.Service(
            name=name,
            owner=owner,
            source=source,
            slos=tuple(sorted(slos, key=lambda x: x.id)),
            alerts=tuple(sorted(alerts, key=lambda x: x.id)),
        )

    def _duplicate(self, doc: Document, path: Path_, item: str, service: str, seen: dict[str, str]) -> bool:
        where = f"{doc.file}:{doc.line_of(path)}"
        if item in seen:
            self.problems.append(
                doc.problem(
                    path,
                    f"duplicate id {item!r} in service {service!r}: already declared at {seen[item]} (SLOs and alerts of a service share one namespace)",
                )
            )
            return True
        seen[item] = where
        return False

    # -- SLOs

    def slo(self, doc: Document, spec: s.ServiceFile, slo_id: str, slo: s.SLO) -> m.SLO | None:
        path: Path_ = ("slos", slo_id)
        sli = self.sli(doc, path, slo)
        if sli is None:
            return None
        objective = parse_ratio(slo.objective)
        period_ms = parse_duration(slo.window)
        if period_ms < 3_600_000:
            self.problems.append(doc.problem((*path, "window"), f"an SLO window must be at least 1h, got {slo.window}"))
            return None
        labels = _labels(spec, slo_id, slo.labels)
        tiers, dropped = self.tiers(doc, path, objective, period_ms, slo.burn_rate_alerts)
        # Every tier's windows are recorded, dropped tiers' too: dashboards draw them all.
        every_tier = (*tiers, *(d.tier for d in dropped))
        windows = {c.BASE_WINDOW_MS, *(t.long_ms for t in every_tier), *(t.short_ms for t in every_tier)} - {period_ms}
        resolved = m.SLO(
            service=spec.service,
            id=slo_id,
            source=m.Source(doc.file, doc.line_of(path), doc.spec_path),
            objective=objective,
            period_ms=period_ms,
            description=slo.description
            or f"{fmt_percent(objective)} of {spec.service} events are good over {slo.window}",
            runbook_url=_runbook(spec.runbook, slo.runbook),
            labels=labels,
            sli=sli,
            tiers=tiers,
            dropped=dropped,
            windows=tuple(sorted(windows)),
        )
        return resolved

    def sli(self, doc: Document, path: Path_, slo: s.SLO) -> m.SLI | None:
        if slo.ratio is not None:
            r = slo.ratio
            return m.RatioSLI(bad=_sel(r.bad), good=_sel(r.good), total=_sel(r.total))
        if slo.latency is not None:
            lat = slo.latency
            buckets = self.buckets(doc, (*path, "latency", "buckets"), lat.buckets)
            if buckets is None:
                return None
            threshold = parse_number(lat.threshold)
            if threshold not in buckets:
                self.problems.append(
                    doc.problem(
                        (*path, "latency", "threshold"),
                        f"{lat.threshold} is not one of the declared buckets ({', '.join(fmt(b) for b in buckets)}); a classic histogram can only count requests under a bucket boundary",
                    )
                )
                return None
            return m.LatencySLI(histogram=_family(parse_selector(lat.histogram)), buckets=buckets, threshold=threshold)
        assert slo.raw is not None
        raw = slo.raw
        return m.RawSLI(
            error_ratio=raw.error_ratio,
            erroring=tuple(m.TestSeries(x.series, x.values) for x in raw.test.erroring),
            healthy=tuple(m.TestSeries(x.series, x.values) for x in raw.test.healthy),
        )

    def buckets(self, doc: Document, path: Path_, values: list[str | float]) -> tuple[Decimal, ...] | None:
        # A trailing +Inf, as exporters list it, is dropped: slogen always adds that bucket.
        finite = values[:-1] if s.is_plus_inf(values[-1]) else values
        if any(s.is_plus_inf(b) for b in finite):
            self.problems.append(doc.problem(path, "+Inf can only be the last bucket"))
            return None
        buckets = [parse_number(b) for b in finite]
        if not buckets or any(b <= 0 for b in buckets) or buckets != sorted(set(buckets)):
            self.problems.append(doc.problem(path, "buckets must be positive and strictly increasing"))
            return None
        return tuple(buckets)

    def tiers(
        self, doc: Document, path: Path_, objective: Decimal, period_ms: int, enabled: s.BurnRateAlerts
    ) -> tuple[tuple[m.BurnRateTier, ...], tuple[m.DroppedTier, ...]]:
        budget = 1 - objective
        kept: list[m.BurnRateTier] = []
        dropped: list[m.DroppedTier] = []
        for severity, long_ms, short_ms, share in c.BURN_RATE_TIERS:
            on = enabled.page if severity == c.SEVERITY_CRITICAL else enabled.ticket
            tier = scaled_tier(severity, long_ms, short_ms, share, period_ms)
            if not on:
                dropped.append(m.DroppedTier(tier, "disabled in the spec (burn_rate_alerts)"))
            elif tier.factor * budget >= 1:
                reason = (
                    f"can never fire: {fmt(tier.factor)}x the {fmt_percent(budget)} error budget is an error ratio of "
                    f"{fmt_percent(tier.factor * budget)}, more than every event failing"
                )
                dropped.append(m.DroppedTier(tier, reason))
                kind = "page" if severity == c.SEVERITY_CRITICAL else "ticket"
                message = (
                    f"{kind} alert over {format_duration(tier.long_ms)}/{format_duration(tier.short_ms)} {reason}; "
                    f"not generated (set burn_rate_alerts.{kind}: false to say so in the spec)"
                )
                self.warnings.append(str(doc.problem(path, message)))
            else:
                kept.append(tier)
        return tuple(kept), tuple(dropped)

    # -- threshold alerts

    def alert(
        self, doc: Document, spec: s.ServiceFile, alert_id: str, alert: s.Alert, slos: dict[str, m.SLO]
    ) -> m.ThresholdAlert | None:
        path: Path_ = ("alerts", alert_id)
        kind = self.alert_kind(doc, path, alert, slos)
        if kind is None:
            return None
        levels = []
        for severity in c.SEVERITIES:
            level = getattr(alert, severity)
            if level is None:
                continue
            op_name = next(n for n in _OPS if getattr(level, n) is not None)
            value = parse_number(getattr(level, op_name))
            problem = _level_problem(kind, value)
            if problem:
                self.problems.append(doc.problem((*path, severity, op_name), problem))
                continue
            for_ms = parse_duration(level.for_) if level.for_ else 0
            levels.append(m.Level(severity, _OPS[op_name], value, for_ms))
        if len(levels) != sum(getattr(alert, sev) is not None for sev in c.SEVERITIES):
            return None
        window_ms = parse_duration(alert.window)
        if window_ms < MIN_ALERT_WINDOW_MS and not isinstance(kind, m.RawAlert):
            self.problems.append(
                doc.problem(
                    (*path, "window"),
                    f"an alert window must be at least 1m, got {alert.window}: a rate needs two scrapes inside "
                    "the window (scrapes are 15s to 1m apart), so a shorter window can never fire",
                )
            )
            return None
        name = c.threshold_alert_name(alert_id)
        if name in (c.ALERT_BURN_RATE, c.ALERT_ABSENT):
            self.problems.append(doc.problem(path, f"this alert would be named {name}, the name of slogen's own alert"))
            return None
        resolved = m.ThresholdAlert(
            service=spec.service,
            id=alert_id,
            name=name,
            source=m.Source(doc.file, doc.line_of(path), doc.spec_path),
            description=alert.description or "",
            runbook_url=_runbook(spec.runbook, alert.runbook),
            labels=_labels(spec, alert_id, alert.labels),
            window_ms=window_ms,
            by=tuple(alert.by),
            levels=tuple(levels),
            kind=kind,
        )
        return resolved

    def alert_kind(self, doc: Document, path: Path_, alert: s.Alert, slos: dict[str, m.SLO]) -> m.AlertKind | None:
        if alert.ratio_of is not None:
            slo = slos.get(alert.ratio_of)
            if slo is None:
                known = ", ".join(sorted(slos)) or "none"
                self.problems.append(
                    doc.problem((*path, "ratio_of"), f"unknown SLO {alert.ratio_of!r} in this service (known: {known})")
                )
                return None
            if isinstance(slo.sli, m.RawSLI):
                self.problems.append(
                    doc.problem(
                        (*path, "ratio_of"),
                        f"SLO {alert.ratio_of!r} has a raw SLI: it has no events to take a ratio of; use expr",
                    )
                )
                return None
            assert not isinstance(slo.sli, m.RawSLI)
            return m.RatioAlert(slo.sli, alert.measure, slo)
        if alert.ratio is not None:
            r = alert.ratio
            return m.RatioAlert(
                m.RatioSLI(bad=_sel(r.bad), good=_sel(r.good), total=_sel(r.total)), alert.measure, None
            )
        if alert.quantile is not None:
            assert alert.histogram is not None
            hist = _family(parse_selector(alert.histogram))
            if alert.buckets is not None:
                buckets = self.buckets(doc, (*path, "buckets"), alert.buckets)
            else:
                buckets = next(
                    (
                        x.sli.buckets
                        for x in slos.values()
                        if isinstance(x.sli, m.LatencySLI) and x.sli.histogram.metric == hist.metric
                    ),
                    None,
                )
                if buckets is None:
                    self.problems.append(
                        doc.problem(
                            (*path, "histogram"),
                            f"declare the buckets of {hist.metric} (buckets: [...]); no latency SLO of this service declares them",
                        )
                    )
            if buckets is None:
                return None
            return m.QuantileAlert(Decimal(str(alert.quantile)), hist, buckets)
        if alert.gauge is not None:
            return m.GaugeAlert(parse_selector(alert.gauge), _sel(alert.capacity))
        assert alert.expr is not None and alert.test is not None
        return m.RawAlert(
            alert.expr,
            tuple(m.TestSeries(x.series, x.values) for x in alert.test.firing),
            tuple(m.TestSeries(x.series, x.values) for x in alert.test.quiet),
        )


def scaled_tier(severity: str, long_ms: int, short_ms: int, share: Decimal, period_ms: int) -> m.BurnRateTier:
    """Scale the 30-day tier's windows to the period (to whole minutes, short >= 5m)."""
    scale = Decimal(period_ms) / c.REFERENCE_PERIOD_MS
    long_scaled = _to_minutes(long_ms * scale)
    short_scaled = max(c.BASE_WINDOW_MS, _to_minutes(short_ms * scale))
    factor = (share * period_ms / long_scaled).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    return m.BurnRateTier(severity, long_scaled, short_scaled, factor, share)


def _to_minutes(ms: Decimal) -> int:
    return max(60_000, int((ms / 60_000).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 60_000)


def _level_problem(kind: m.AlertKind, value: Decimal) -> str | None:
    is_ratio = isinstance(kind, m.RatioAlert) or (isinstance(kind, m.GaugeAlert) and kind.capacity is not None)
    if is_ratio and not 0 <= value <= 1:
        return f"a ratio threshold must be between 0% and 100%, got {fmt_percent(value)}"
    if isinstance(kind, m.QuantileAlert):
        if value <= 0:
            return "a latency threshold must be positive"
        if value >= kind.buckets[-1]:
            return f"{fmt(value)}s is at or above the largest bucket ({fmt(kind.buckets[-1])}s): the quantile cannot be measured there"
        if value < kind.buckets[0]:
            return f"{fmt(value)}s is under the smallest bucket ({fmt(kind.buckets[0])}s): the quantile cannot be measured there"
    return None


def _labels(spec: s.ServiceFile, item: str, own: dict[str, str]) -> tuple[tuple[str, str], ...]:
    labels = {**spec.labels, **own, c.LABEL_SERVICE: spec.service, c.LABEL_SLO: item}
    if spec.owner:
        labels[c.LABEL_OWNER] = spec.owner
    return tuple(sorted(labels.items()))


def _runbook(base: str | None, own: str | None) -> str:
    if own and own.startswith("#"):
        return (base or "") + own
    return own or base or ""


def _sel(text: str | None) -> Selector | None:
    return parse_selector(text) if text is not None else None


def _family(selector: Selector) -> Selector:
    """A histogram is named by its family: `x_bucket` and `x` both mean `x`."""
    return selector.with_metric(selector.metric.removesuffix("_bucket"))
