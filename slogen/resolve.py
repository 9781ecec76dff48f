"""Specs -> model: ids, defaults, label merges, burn-rate tiers and cross-file checks.

Every problem of every file is collected before failing, so one run shows them all.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from . import conventions as c
from . import model as m
from . import resolve_checks as checks
from . import spec as s
from .errors import Problem, SpecError
from .load import Document, Path_, dotted
from .messages import validate
from .promql import Selector, parse_selector
from .quantity import fmt, fmt_percent, parse_duration, parse_number, parse_ratio
from .resolve_alerting import shape_alert, shape_slo
from .resolve_compat import with_sloth_labels
from .resolve_kinds import ratio_sli, unfit_for_ratio_of
from .resolve_routing import alert_labels, is_routing_file, is_settings_file, resolve_routing
from .targets import resolve_canary, resolve_settings
from .tiers import CustomTier, plan_tiers

_OPS = {"above": ">", "below": "<", "at_least": ">=", "at_most": "<="}
MIN_ALERT_WINDOW_MS = 60_000
MAX_ALERT_WINDOW_MS = 86_400_000


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
    resolver = _Resolver(settings_docs[0][1].compatibility.sloth_labels if settings_docs else False)
    services = resolver.services(parsed)
    routing = None
    if routing_docs:
        doc, spec = routing_docs[0]
        # Labels are checked against the generated alerts only when all of them resolved.
        labels = None if resolver.problems else alert_labels(services)
        routing = resolve_routing(doc, spec, labels, parsed, resolver.problems, resolver.warnings, services)
    else:
        resolver.without_routing(parsed)
    settings = m.Settings()
    if settings_docs:
        settings = resolve_settings(*settings_docs[0], resolver.sloth_labels, resolver.problems)
    if resolver.problems:
        raise SpecError(resolver.problems)
    return m.Model(services=services, warnings=tuple(sorted(resolver.warnings)), routing=routing, settings=settings)


# --- resolution -----------------------------------------------------------------------


class _Resolver:
    def __init__(self, sloth_labels: bool = False) -> None:
        self.sloth_labels = sloth_labels  # compatibility.sloth_labels of slo/slogen.yaml
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.failed: dict[str, s.SLO] = {}  # of the service being resolved
        self.threshold_names: set[str] = set()  # of the service being resolved

    def without_routing(self, parsed: list[tuple[Document, s.ServiceFile]]) -> None:
        """No routing file: say that nothing routes the alerts; refuse a service's routing."""
        if parsed:
            self.warnings.append(
                f"{_spec_folder(parsed[0][0])}: no routing file (alerting.yaml with receivers and routes), so no "
                "Alertmanager config was written: the alerts reach no one until one declares where they go"
            )
        for doc, service in parsed:
            if service.routing is not None:
                self.problems.append(
                    doc.problem(
                        ("routing",),
                        "routing: names receivers, but there is no routing file (slo/alerting.yaml) that declares them",
                    )
                )

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
        # SLOs that exist but could not be resolved: one mistake, one message, so an alert
        # that refers to one is skipped quietly instead of reporting it unknown as well.
        self.failed = {}
        self.threshold_names = {c.threshold_alert_name(a) for _, spec in files for a in spec.alerts}
        for doc, spec in files:
            for slo_id, slo in spec.slos.items():
                if self._duplicate(doc, ("slos", slo_id), slo_id, name, seen):
                    continue
                resolved = self.slo(doc, spec, slo_id, slo)
                if resolved:
                    slos.append(resolved)
                else:
                    self.failed[slo_id] = slo
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
            canary=resolve_canary(files, slos, self.problems),
        )

    def _duplicate(self, doc: Document, path: Path_, item: str, service: str, seen: dict[str, str]) -> bool:
        where = f"{doc.file}:{doc.key_line(path)}"
        if item in seen:
            message = f"duplicate id {item!r} in service {service!r}: already declared at {seen[item]} (SLOs and alerts of a service share one namespace)"
            self.problems.append(Problem(doc.file, doc.key_line(path), dotted(path), message))
            return True
        seen[item] = where
        return False

    # -- SLOs

    def slo(self, doc: Document, spec: s.ServiceFile, slo_id: str, slo: s.SLO) -> m.SLO | None:
        path: Path_ = ("slos", slo_id)
        sli = self.sli(doc, path, slo)
        if sli is None:
            return None
        grouped = (
            checks.raw_grouping(sli.error_ratio, {**spec.labels, **slo.labels}) if isinstance(sli, m.RawSLI) else None
        )
        if grouped:
            self.problems.append(doc.problem((*path, "raw", "error_ratio"), grouped))
            return None
        objective = parse_ratio(slo.objective)
        period_ms = parse_duration(slo.window)
        if period_ms < 3_600_000:
            self.problems.append(doc.problem((*path, "window"), f"an SLO window must be at least 1h, got {slo.window}"))
            return None
        labels = _labels(spec, slo_id, slo.labels)
        if self.sloth_labels:
            labels = with_sloth_labels(doc, path, spec, slo_id, labels, self.problems)
        by_problems = checks.slo_by(slo.by, {**spec.labels, **slo.labels}, sli)
        if by_problems:
            self.problems += [doc.problem((*path, *where), problem) for where, problem in by_problems]
            return None
        shaped = shape_slo(doc, spec, slo_id, slo, 1 - objective, period_ms, self.threshold_names, self.problems)
        if shaped is None:
            return None
        tiers, dropped = self.tiers(doc, path, objective, period_ms, slo.burn_rate_alerts, shaped.tiers)
        # Every tier's windows are recorded, dropped tiers' too: dashboards draw them all.
        every_tier = (*tiers, *(d.tier for d in dropped))
        windows = {c.BASE_WINDOW_MS, *(t.long_ms for t in every_tier), *(t.short_ms for t in every_tier)} - {period_ms}
        resolved = m.SLO(
            service=spec.service,
            id=slo_id,
            source=m.Source(doc.file, doc.key_line(path), doc.spec_path),
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
            by=tuple(slo.by),
            alert_name=shaped.name,
            shaping=shaped.shaping,
            sloth_labels=self.sloth_labels,
            custom_tiers=shaped.tiers is not None,
        )
        taken = checks.window_labels_taken(resolved)
        if taken:
            self.problems.append(doc.problem((*path, "alerting", "tiers"), taken))
            return None
        grouped = checks.shape_labels_grouped(resolved)
        if grouped:
            self.problems.append(doc.problem((*path, "by"), grouped))
            return None
        return resolved

    def sli(self, doc: Document, path: Path_, slo: s.SLO) -> m.SLI | None:
        if slo.ratio is not None:
            return ratio_sli(slo.ratio)
        if slo.probe is not None:
            return m.ProbeSLI(parse_selector(slo.probe.metric))
        if slo.latency is not None:
            lat = slo.latency
            le = checks.le_in_histogram(parse_selector(lat.histogram), is_slo=True)
            if le:
                self.problems.append(doc.problem((*path, "latency", "histogram"), le))
                return None
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
        self,
        doc: Document,
        path: Path_,
        objective: Decimal,
        period_ms: int,
        enabled: s.BurnRateAlerts,
        custom: tuple[CustomTier, ...] | None,
    ) -> tuple[tuple[m.BurnRateTier, ...], tuple[m.DroppedTier, ...]]:
        plan = plan_tiers(objective, period_ms, enabled, custom)
        self.warnings.extend(str(doc.problem(path, message)) for message in plan.warnings)
        return plan.kept, plan.dropped

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
            written = getattr(level, op_name)
            value = parse_number(written)
            problem = _level_problem(kind, _OPS[op_name], value)
            if problem:
                hint = s.percent_hint(written) if _is_ratio(kind) else ""
                self.problems.append(doc.problem((*path, severity, op_name), problem + hint))
                continue
            for_ms = parse_duration(level.for_) if level.for_ else 0
            levels.append(m.Level(severity, _OPS[op_name], value, for_ms))
        if len(levels) != sum(getattr(alert, sev) is not None for sev in c.SEVERITIES):
            return None
        if not self.meant(doc, path, spec, alert, kind, levels):
            return None
        by = checks.alert_by(alert.by, kind)
        inherited = [doc.problem((*path, "labels", x), checks.inherited_by(x)) for x in by if x in alert.labels]
        if inherited:
            self.problems += inherited
            return None
        shaping = shape_alert(doc, spec, alert_id, alert, self.problems)
        if shaping is None:
            return None
        return m.ThresholdAlert(
            service=spec.service,
            id=alert_id,
            name=c.threshold_alert_name(alert_id),
            source=m.Source(doc.file, doc.key_line(path), doc.spec_path),
            description=alert.description or "",
            runbook_url=_runbook(spec.runbook, alert.runbook),
            labels=_labels(spec, alert_id, alert.labels),
            window_ms=parse_duration(alert.window),
            by=by,
            levels=tuple(levels),
            kind=kind,
            shaping=shaping,
        )

    def meant(
        self, doc: Document, path: Path_, spec: s.ServiceFile, alert: s.Alert, kind: m.AlertKind, levels: list[m.Level]
    ) -> bool:
        """False (with the problems recorded) for an alert that parses but cannot be meant."""
        found: list[tuple[Path_, str | None]] = []
        if parse_duration(alert.window) < MIN_ALERT_WINDOW_MS and not isinstance(kind, m.RawAlert):
            found.append(
                (
                    ("window",),
                    f"an alert window must be at least 1m, got {alert.window}: a rate needs two scrapes inside "
                    "the window (scrapes are 15s to 1m apart), so a shorter window can never fire",
                )
            )
        if parse_duration(alert.window) > MAX_ALERT_WINDOW_MS and not isinstance(kind, m.RawAlert):
            found.append(
                (
                    ("window",),
                    f"an alert window may be at most 1d, got {alert.window}: a threshold alert reads every raw "
                    "sample of its window at each evaluation (and its generated test ran out of samples); "
                    "for a longer view, declare an SLO, whose windows up to its period read recorded series",
                )
            )
        if isinstance(kind, m.RawAlert):
            found.append((("expr",), checks.raw_grouping(kind.expr, {**spec.labels, **alert.labels})))
        name = c.threshold_alert_name(str(path[-1]))
        if name in (c.ALERT_BURN_RATE, c.ALERT_ABSENT):
            found.append(((), f"this alert would be named {name}, the name of slogen's own alert"))
        if alert.warning is not None:
            warning_op = next(n for n in _OPS if getattr(alert.warning, n) is not None)
            found.append(((c.SEVERITY_WARNING, warning_op), checks.level_order(levels, _is_ratio(kind))))
        spec_labels = {**spec.labels, **alert.labels}
        quantile = isinstance(kind, m.QuantileAlert)
        found += [(("by", i), checks.colliding_by(label, spec_labels, quantile)) for i, label in enumerate(alert.by)]
        problems = [doc.problem((*path, *where), problem) for where, problem in found if problem]
        self.problems += problems
        return not problems

    def alert_kind(self, doc: Document, path: Path_, alert: s.Alert, slos: dict[str, m.SLO]) -> m.AlertKind | None:
        if alert.ratio_of is not None:
            slo = slos.get(alert.ratio_of)
            if slo is None and alert.ratio_of not in self.failed:
                known = ", ".join(sorted(slos)) or "none"
                hint = checks.did_you_mean(alert.ratio_of, [*slos, *self.failed])
                self.problems.append(
                    doc.problem(
                        (*path, "ratio_of"), f"unknown SLO {alert.ratio_of!r} in this service{hint} (known: {known})"
                    )
                )
            if slo is None:
                return None
            unfit = unfit_for_ratio_of(slo.sli)
            if unfit:
                self.problems.append(doc.problem((*path, "ratio_of"), f"SLO {alert.ratio_of!r} {unfit}"))
                return None
            assert isinstance(slo.sli, m.RatioSLI | m.LatencySLI)
            return m.RatioAlert(slo.sli, alert.measure, slo)
        if alert.ratio is not None:
            r = alert.ratio
            return m.RatioAlert(
                m.RatioSLI(bad=_sel(r.bad), good=_sel(r.good), total=_sel(r.total)), alert.measure, None
            )
        if alert.quantile is not None:
            return self.quantile_kind(doc, path, alert, slos)
        if alert.gauge is not None:
            return m.GaugeAlert(parse_selector(alert.gauge), _sel(alert.capacity))
        assert alert.expr is not None and alert.test is not None
        return m.RawAlert(
            alert.expr,
            tuple(m.TestSeries(x.series, x.values) for x in alert.test.firing),
            tuple(m.TestSeries(x.series, x.values) for x in alert.test.quiet),
        )

    def quantile_kind(
        self, doc: Document, path: Path_, alert: s.Alert, slos: dict[str, m.SLO]
    ) -> m.QuantileAlert | None:
        """Buckets given here, or taken from a latency SLO on the same histogram."""
        assert alert.histogram is not None
        hist = _family(parse_selector(alert.histogram))
        le = checks.le_in_histogram(hist, is_slo=False)
        if le:
            self.problems.append(doc.problem((*path, "histogram"), le))
            return None
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
            failed_here = any(
                x.latency and _family(parse_selector(x.latency.histogram)).metric == hist.metric
                for x in self.failed.values()
            )
            if buckets is None and not failed_here:
                self.problems.append(
                    doc.problem(
                        (*path, "histogram"),
                        f"declare the buckets of {hist.metric} (buckets: [...]); no latency SLO of this service declares them",
                    )
                )
        if buckets is None:
            return None
        return m.QuantileAlert(Decimal(str(alert.quantile)), hist, buckets)


def _is_ratio(kind: m.AlertKind) -> bool:
    return isinstance(kind, m.RatioAlert) or (isinstance(kind, m.GaugeAlert) and kind.capacity is not None)


def _level_problem(kind: m.AlertKind, op: str, value: Decimal) -> str | None:
    if _is_ratio(kind) and not 0 <= value <= 1:
        return f"a ratio threshold must be between 0% and 100%, got {fmt_percent(value)}"
    if _is_ratio(kind) and ((op == ">" and value == 1) or (op == "<" and value == 0)):
        bound, instead = ("above 100%", "at_least: 100%") if op == ">" else ("below 0%", "at_most: 0%")
        return f"can never fire: a ratio is never {bound} ({instead} can)"
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


def _spec_folder(doc: Document) -> str:
    """The spec folder as the user named it: the file's path less its path in the folder."""
    inside = doc.spec_path.partition("/")[2]
    if inside and doc.file.endswith(inside):
        return doc.file[: -len(inside)].rstrip("/") or "."
    return Path(doc.file).parent.as_posix()


def _sel(text: str | None) -> Selector | None:
    return parse_selector(text) if text is not None else None


def _family(selector: Selector) -> Selector:
    """A histogram is named by its family: `x_bucket` and `x` both mean `x`."""
    return selector.with_metric(selector.metric.removesuffix("_bucket"))
