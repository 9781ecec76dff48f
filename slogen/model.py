"""The model: what builders need, with defaults applied and ids derived. Frozen.

Built only by `resolve`; builders never re-check input.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import conventions as c
from .promql import Selector


@dataclass(frozen=True)
class Source:
    file: str  # as the user named it (for messages)
    line: int
    spec_path: str  # relative to the spec folder's parent, e.g. slo/api.yaml (for output)


@dataclass(frozen=True)
class RatioSLI:
    bad: Selector | None
    good: Selector | None
    total: Selector | None


@dataclass(frozen=True)
class LatencySLI:
    histogram: Selector  # the family name, without _bucket
    buckets: tuple[Decimal, ...]
    threshold: Decimal


@dataclass(frozen=True)
class TestSeries:
    series: str
    values: str


@dataclass(frozen=True)
class RawSLI:
    error_ratio: str  # with $window
    erroring: tuple[TestSeries, ...]
    healthy: tuple[TestSeries, ...]


@dataclass(frozen=True)
class ExprRatioSLI:
    """A ratio SLI whose events are expressions of events per second with `$window`
    (a selector among them is written here as `rate(selector[$window])`)."""

    bad: str | None
    good: str | None
    total: str | None
    erroring: tuple[TestSeries, ...]
    healthy: tuple[TestSeries, ...]


@dataclass(frozen=True)
class ProbeSLI:
    """A 0/1 gauge: the share of its samples that are 1."""

    metric: Selector


SLI = RatioSLI | LatencySLI | RawSLI | ExprRatioSLI | ProbeSLI
EventsSLI = RatioSLI | LatencySLI | ExprRatioSLI | ProbeSLI  # recorded as bad and total events per 5m


@dataclass(frozen=True)
class BurnRateTier:
    severity: str
    long_ms: int
    short_ms: int
    factor: Decimal  # burn rate: multiple of the budget's sustainable error ratio
    budget_share: Decimal  # share of the period's budget spent in long_ms at that rate
    for_ms: int = 0  # a custom tier's `for` (the tiers of one severity share it)


@dataclass(frozen=True)
class DroppedTier:
    tier: BurnRateTier
    reason: str


@dataclass(frozen=True)
class Shape:
    """The alerts of one kind: the severity label's value and what else they carry."""

    severity: str
    labels: tuple[tuple[str, str], ...] = ()  # sorted
    annotations: tuple[tuple[str, str], ...] = ()  # sorted


@dataclass(frozen=True)
class Shaping:
    """`alerting:` resolved: the defaults are what slogen generated before it existed."""

    page: Shape = Shape(c.SEVERITY_CRITICAL)
    ticket: Shape = Shape(c.SEVERITY_WARNING)
    absent_for_ms: int | None = c.ABSENT_FOR_MS  # None: no absent-data alert

    def of(self, severity: str) -> Shape:
        """The shape of a tier's or level's kind (critical pages, warning tickets)."""
        return self.page if severity == c.SEVERITY_CRITICAL else self.ticket


@dataclass(frozen=True)
class SLO:
    service: str
    id: str
    source: Source
    objective: Decimal
    period_ms: int
    description: str
    runbook_url: str
    labels: tuple[tuple[str, str], ...]  # sorted; includes service, slo, owner
    sli: SLI
    tiers: tuple[BurnRateTier, ...]
    dropped: tuple[DroppedTier, ...]
    windows: tuple[int, ...]  # every recorded window but the period, sorted
    by: tuple[str, ...] = ()  # one SLI, budget and alert set per value of these labels
    alert_name: str = c.ALERT_BURN_RATE
    shaping: Shaping = Shaping()
    custom_tiers: bool = False  # tiers from `alerting.tiers`, not the workbook's
    sloth_labels: bool = False  # compatibility.sloth_labels: Sloth's labels and info series

    @property
    def budget(self) -> Decimal:
        return 1 - self.objective

    @property
    def now_ms(self) -> int:
        """The window of "burn rate now": the shortest long window of every tier,
        generated or not (all are recorded)."""
        return min([t.long_ms for t in self.tiers] + [d.tier.long_ms for d in self.dropped])

    def label_dict(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass(frozen=True)
class Level:
    severity: str
    op: str  # > < >= <=
    value: Decimal
    for_ms: int


@dataclass(frozen=True)
class RatioAlert:
    sli: RatioSLI | LatencySLI
    measure: str  # bad | good
    slo: SLO | None  # the SLO whose SLI this is (ratio_of), for its recorded series


@dataclass(frozen=True)
class QuantileAlert:
    quantile: Decimal
    histogram: Selector
    buckets: tuple[Decimal, ...]


@dataclass(frozen=True)
class GaugeAlert:
    gauge: Selector
    capacity: Selector | None


@dataclass(frozen=True)
class RawAlert:
    expr: str
    firing: tuple[TestSeries, ...]
    quiet: tuple[TestSeries, ...]


AlertKind = RatioAlert | QuantileAlert | GaugeAlert | RawAlert


@dataclass(frozen=True)
class ThresholdAlert:
    service: str
    id: str
    name: str  # alertname
    source: Source
    description: str
    runbook_url: str
    labels: tuple[tuple[str, str], ...]
    window_ms: int
    by: tuple[str, ...]
    levels: tuple[Level, ...]
    kind: AlertKind
    shaping: Shaping = Shaping()

    def label_dict(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass(frozen=True)
class Canary:
    """A service's `canary:`: the label that tells the canary's series from the stable's."""

    label: str
    max_burn_rate: Decimal | None  # None: each SLO's lowest page factor
    source: Source


@dataclass(frozen=True)
class Service:
    name: str
    owner: str | None
    source: Source
    slos: tuple[SLO, ...]
    alerts: tuple[ThresholdAlert, ...]
    canary: Canary | None = None


@dataclass(frozen=True)
class OperatorTarget:
    """Settings of the prometheus-operator target (spec_targets.OperatorSettings)."""

    namespace: str = "monitoring"
    rule_labels: tuple[tuple[str, str], ...] = ()
    dashboard_labels: tuple[tuple[str, str], ...] = (("grafana_dashboard", "1"),)
    alertmanager: str = "main"
    # where problems of its manifests that no service owns are told: slogen.yaml's target
    file: str = ""
    line: int = 1


@dataclass(frozen=True)
class Settings:
    grafana_url: str = ""
    grafana_folder: str = "SLOs"
    dashboards_path: str = "/var/lib/grafana/dashboards/slogen"
    sloth_labels: bool = False
    targets: tuple[str, ...] = ("prometheus",)
    mimir_source_tenants: tuple[str, ...] = ()
    cortex_source_tenants: tuple[str, ...] = ()
    thanos_partial_response: str | None = None
    operator: OperatorTarget | None = None  # set when prometheus-operator is a target
    argo_rollouts_url: str = ""
    flagger_url: str = ""
    flagger_namespace: str = ""


@dataclass(frozen=True)
class Model:
    services: tuple[Service, ...]
    warnings: tuple[str, ...] = ()
    routing: Routing | None = None
    settings: Settings = Settings()

    def slos(self) -> list[SLO]:
        return [slo for service in self.services for slo in service.slos]


@dataclass(frozen=True)
class Timing:
    group_by: tuple[str, ...] | None = None
    group_wait: str | None = None
    group_interval: str | None = None
    repeat_interval: str | None = None


@dataclass(frozen=True)
class Receiver:
    name: str
    kind: str  # pagerduty | slack | email | webhook
    config: Any  # the spec's frozen receiver config


@dataclass(frozen=True)
class Route:
    severities: tuple[str, ...]
    match: tuple[tuple[str, str], ...]
    receivers: tuple[str, ...]
    timing: Timing
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceRoute:
    """A service whose alerts go to its own receivers instead of the default routes."""

    service: str
    receivers: tuple[tuple[str, tuple[str, ...]], ...]  # (severity, receivers)


@dataclass(frozen=True)
class Routing:
    source: Source
    receivers: tuple[Receiver, ...]
    routes: tuple[Route, ...]
    service_routes: tuple[ServiceRoute, ...]
    summary: tuple[str, Timing] | None
    defaults: Timing
    time_intervals: tuple[tuple[str, tuple[dict[str, Any], ...]], ...]
    smtp: Any  # spec.Smtp | None
    resolve_timeout: str
    # (page severity, ticket severity) of each SLO and alert: a page silences the ticket
    # of the same service and SLO, whatever values alerting.page/ticket give them.
    inhibitions: tuple[tuple[str, str], ...] = ((c.SEVERITY_CRITICAL, c.SEVERITY_WARNING),)

    def receiver(self, name: str) -> Receiver:
        return next(r for r in self.receivers if r.name == name)
