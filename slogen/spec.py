"""Spec v1: pydantic models that mirror `slo/*.yaml` exactly (extra fields are errors).

Values are checked here so that errors point at the field that is wrong; they are kept
as written, and `resolve` turns them into the model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from . import conventions as c
from . import events, promql, series_notation
from .errors import shown
from .quantity import parse_duration, parse_number, parse_ratio

WINDOW_PLACEHOLDER = events.WINDOW_PLACEHOLDER
RESERVED_LABELS = frozenset({"service", "slo", "owner", "severity", "alertname"})


def _duration(value: str) -> str:
    parse_duration(value)
    return value.strip()  # "30d\n" is read as 30d; it must not reach a description as written


def _scalar(what: str) -> BeforeValidator:
    """A number or a text such as 99.9% or 250ms; `true` or a list said as written,
    before the union of str, int and float reports three errors (or reads true as 1)."""

    def check(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(f"expected {what}, got {shown(value)}")
        return value

    return BeforeValidator(check)


def percent_hint(value: object) -> str:
    """Sloth and Pyrra write objectives in percent: 99.9 most likely means 99.9%."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value < 100:
        return f"; did you mean {value}%?"
    return ""


def _objective(value: str | int | float) -> str | int | float:
    ratio = parse_ratio(value)
    if not 0 < ratio < 1:
        raise ValueError(f"must be between 0% and 100% (exclusive), got {value}{percent_hint(value)}")
    return value


def _number(value: str | int | float) -> str | int | float:
    parse_number(value)
    return value


def is_plus_inf(value: object) -> bool:
    """`+Inf`, `inf` or YAML's `.inf`: the last bucket as exporters list it."""
    return isinstance(value, str) and value.strip().lower().lstrip("+") in ("inf", ".inf", "infinity")


def _bucket(value: str | int | float) -> str | int | float:
    return value if is_plus_inf(value) else _number(value)


def _selector(value: str) -> str:
    promql.parse_selector(value)
    return value


def _label_name(value: str) -> str:
    if not promql.LABEL_NAME.fullmatch(value) or value.startswith("__"):
        raise ValueError(f"not a valid label name: {value!r}")
    return value


def _label_value(value: str) -> str:
    promql.check_label_value(value)
    return value


def _severity(value: str) -> str:
    # Routes match several severities with one regular expression (`critical|P1`): a value
    # is a plain word, so that it can never be read as a pattern.
    if not (value[:1].isalnum() and value.isascii() and value.replace("_", "").replace("-", "").isalnum()):
        raise ValueError(
            f"a severity is letters, digits, '_' and '-', starting with a letter or digit (such as P1), got {value!r}"
        )
    return value


def _labels(value: dict[str, str]) -> dict[str, str]:
    for key in value:
        if key in RESERVED_LABELS:
            raise ValueError(f"label {key!r} is set by slogen and cannot be overridden here")
    return value


Duration = Annotated[str, AfterValidator(_duration)]
Objective = Annotated[
    str | int | float, _scalar("a percentage such as 99.9% or a ratio such as 0.999"), AfterValidator(_objective)
]
Number = Annotated[
    str | int | float, _scalar("a number, a percentage (5%) or a duration (250ms)"), AfterValidator(_number)
]
Bucket = Annotated[str | int | float, _scalar("a number or a duration (250ms)"), AfterValidator(_bucket)]
SelectorText = Annotated[str, AfterValidator(_selector)]
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=40)]
LabelName = Annotated[str, Field(max_length=128), AfterValidator(_label_name)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
Labels = Annotated[dict[LabelName, LabelValue], AfterValidator(_labels)]
Text = Annotated[str, AfterValidator(_label_value)]
SeverityValue = Annotated[str, Field(max_length=32), AfterValidator(_severity)]


class Strict(BaseModel):
    # strict: YAML has types, so `true` is not the number 1 and "yes" is not a boolean.
    # A docstring under a field is its description in `slogen schema` (editors show it).
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, strict=True, use_attribute_docstrings=True
    )


def _unique(items: list[Any]) -> list[Any]:
    """A name listed twice is a mistake (a route listing `warning` twice was generated as two
    routes to the same receiver, and amtool's route test then failed)."""
    seen: list[Any] = []
    for item in items:
        if item in seen:
            raise ValueError(f"{item!r} is listed twice: give each once")
        seen.append(item)
    return items


Unique = AfterValidator(_unique)


def _problem_of(check: Any) -> Any:
    def validate(value: str) -> str:
        problem = check(value)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(validate)


class Series(Strict):
    """One input series for a raw SLI's or raw alert's generated unit test, in promtool's
    notation (checked here: a typo is a spec problem, not a failing promtool test)."""

    series: Annotated[str, _problem_of(series_notation.series_problem)]
    """A series as promtool reads it: `metric{label="value"}`."""
    values: Annotated[str, _problem_of(series_notation.values_problem)]
    """Its samples in promtool's expanding notation, one a minute (`0+10x60`), at most 10,080."""


AlertEventText = Annotated[str, AfterValidator(events.alert_event)]
EventText = Annotated[str, AfterValidator(events.event)]


class RatioSLI(Strict):
    """Counters: any two of bad, good and total events."""

    bad: AlertEventText | None = None
    """Failed events: a counter selector."""
    good: AlertEventText | None = None
    """Successful events: a counter selector."""
    total: AlertEventText | None = None
    """All events: a counter selector."""

    @model_validator(mode="after")
    def _two(self) -> RatioSLI:
        events.two_of_three(self.bad, self.good, self.total)
        return self


class EventsSLI(Strict):
    """An SLO's events: any two of bad, good and total, each a selector of counters or an
    expression of events per second with `$window` (Sloth's form)."""

    bad: EventText | None = None
    """Failed events: a counter selector, or an expression with $window such as sum(rate(x{code=~"5.."}[$window]))."""
    good: EventText | None = None
    """Successful events: a counter selector, or an expression with $window."""
    total: EventText | None = None
    """All events: a counter selector, or an expression with $window."""
    test: RawSLITest | None = None
    """Input series for the generated tests, required when any event is an expression (slogen cannot derive
    series from an expression): `erroring` must fire every burn-rate alert, `healthy` none."""

    @model_validator(mode="after")
    def _test_when_expression(self) -> EventsSLI:
        given = events.two_of_three(self.bad, self.good, self.total)
        expressions = [n for n in given if not promql.is_selector(getattr(self, n))]
        if expressions and self.test is None:
            raise ValueError(
                f"{' and '.join(expressions)} {'is an expression' if len(expressions) == 1 else 'are expressions'}: "
                "give a test: block (erroring and healthy input series), since slogen cannot derive test series "
                "from an expression"
            )
        if not expressions and self.test is not None:
            raise ValueError(
                "test: is only for events given as expressions; slogen writes the tests of selectors itself"
            )
        return self


class ProbeSLI(Strict):
    """A 0/1 gauge such as probe_success or up: the SLI is the share of its samples that are 1."""

    metric: SelectorText
    """The gauge's selector, such as probe_success{job="blackbox"}; every sample is one check."""


class LatencySLI(Strict):
    """A classic histogram: the share of requests at or under a bucket boundary."""

    histogram: SelectorText
    """The histogram's family (`x` or `x_bucket`), with matchers but no `le`."""
    buckets: list[Bucket] = Field(min_length=1)
    """The bucket boundaries as exported, in seconds or durations (a last +Inf is dropped)."""
    threshold: Number
    """A request is good at or under this boundary; must be one of the buckets."""


class RawSLI(Strict):
    """An error-ratio expression with a `$window` placeholder, for what nothing else fits."""

    error_ratio: str
    """A PromQL expression of the error ratio, with `$window` where the range goes (evaluated at 5m)."""
    test: RawSLITest
    """Input series for the generated tests: erroring ones fire every alert, healthy ones none."""

    @model_validator(mode="after")
    def _parses(self) -> RawSLI:
        promql.check_expression(self.error_ratio, WINDOW_PLACEHOLDER)
        return self


class RawSLITest(Strict):
    """Input series for the generated tests: `erroring` must breach every alert, `healthy` none."""

    erroring: list[Series] = Field(min_length=1)
    """Series, in promtool's notation, under which every burn-rate alert fires."""
    healthy: list[Series] = Field(min_length=1)
    """Series under which no burn-rate alert fires."""


class BurnRateAlerts(Strict):
    """Which multi-window multi-burn-rate alerts to generate."""

    page: bool = True
    """Generate the page (critical) burn-rate tiers."""
    ticket: bool = True
    """Generate the ticket (warning) burn-rate tiers."""


class SLO(Strict):
    objective: Objective
    """The share of good events to keep over `window`: 99.9% or 0.999, strictly between 0% and 100%."""
    window: Duration = "30d"
    """The SLO's period (rolling), 1h to 365d; default 30d. Burn-rate windows scale with it."""
    description: Text | None = None
    """What the SLO promises, for dashboards and alert texts."""
    runbook: str | None = None
    """The runbook of this SLO's alerts; `#anchor` is appended to the service's runbook."""
    labels: Labels = {}
    """Extra labels on this SLO's series and alerts."""
    by: Annotated[list[LabelName], Unique] = []
    """One SLI, error budget and set of burn-rate alerts per value of these labels of the
    events (`by: [route]`: one per route), recorded once with `sum by (...)`; the alerts
    carry the labels. Not for raw SLIs nor event expressions (their expressions decide their labels)."""
    ratio: EventsSLI | None = None
    """SLI kind: events, any two of bad, good and total (selectors of counters, or expressions with `$window`)."""
    latency: LatencySLI | None = None
    """SLI kind: the share of requests at or under a bucket boundary of a classic histogram."""
    raw: RawSLI | None = None
    """SLI kind: an error-ratio expression with `$window`, and test series to prove its alerts."""
    probe: ProbeSLI | None = None
    """A 0/1 gauge (probe_success, up): the SLI is the share of its samples that are 1."""
    burn_rate_alerts: BurnRateAlerts = BurnRateAlerts()
    """Which burn-rate alerts to generate: page (critical) and ticket (warning); both by default."""
    alerting: Alerting | None = None
    """How this SLO's alerts are shaped: name, labels, severities, absent-data alert, tiers
    (over the service's `alerting:`, field by field)."""

    @model_validator(mode="after")
    def _one_kind(self) -> SLO:
        kinds = [k for k in ("ratio", "latency", "raw", "probe") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"give exactly one SLI kind of ratio, latency, raw or probe (got {', '.join(kinds) or 'none'})"
            )
        return self


def _at_most_a_day(value: str) -> str:
    """A condition that must hold for days is an SLO's job; and the generated test steps
    through the whole `for` a minute at a time (the fuzzer's `for: 7d` took minutes)."""
    if parse_duration(value) > 86_400_000:
        raise ValueError(
            f"at most 1d, got {value}: for a condition over days, declare an SLO (its ticket tiers watch 1d and 3d)"
        )
    return value


class Level(Strict):
    """One severity of a threshold alert: a comparison and how long it must hold."""

    above: Number | None = None
    """Fires when the value is above this."""
    below: Number | None = None
    """Fires when the value is below this."""
    at_least: Number | None = None
    """Fires when the value is at or above this."""
    at_most: Number | None = None
    """Fires when the value is at or below this."""
    for_: Annotated[Duration, AfterValidator(_at_most_a_day)] | None = Field(default=None, alias="for")
    """How long the condition must hold before the alert fires (at most 1d)."""

    @model_validator(mode="after")
    def _one_comparison(self) -> Level:
        given = [n for n in ("above", "below", "at_least", "at_most") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of above, below, at_least and at_most")
        return self


class RawAlertTest(Strict):
    firing: list[Series] = Field(min_length=1)
    """Series under which every level fires."""
    quiet: list[Series] = Field(min_length=1)
    """Series under which no level fires."""


class Alert(Strict):
    """A static threshold alert. Exactly one kind: ratio_of, ratio, quantile, gauge or expr."""

    description: Text | None = None
    """What the alert means, for its texts."""
    runbook: str | None = None
    """The alert's runbook; `#anchor` is appended to the service's runbook."""
    labels: Labels = {}
    """Extra labels on this alert."""
    window: Duration = "5m"
    """The range the value is computed over, 1m to 1d; default 5m (not used by gauge)."""
    by: Annotated[list[LabelName], Unique] = []
    """One alert per value of these labels."""
    critical: Level | None = None
    """The level that pages."""
    warning: Level | None = None
    """The level that tickets."""
    # ratio of events over `window`: an SLO's SLI, or counters given here
    ratio_of: Id | None = None
    """Kind: the error (or success) ratio of this SLO's SLI over `window`."""
    ratio: RatioSLI | None = None
    """Kind: the error (or success) ratio of counters given here (any two of bad, good, total)."""
    measure: Literal["bad", "good"] = "bad"
    """Compare the error ratio (`bad`, default) or the success ratio (`good`)."""
    # a quantile of a classic histogram
    quantile: float | None = Field(default=None, gt=0, lt=1, allow_inf_nan=False)
    """Kind: this quantile (0 to 1) of a classic histogram over `window`."""
    histogram: SelectorText | None = None
    """The histogram of a quantile alert."""
    buckets: Annotated[list[Bucket], Field(min_length=1)] | None = None
    """The histogram's buckets, if no latency SLO of the service declares them."""
    # a gauge, optionally over its capacity
    gauge: SelectorText | None = None
    """Kind: a gauge's value (optionally over `capacity`)."""
    capacity: SelectorText | None = None
    """The gauge's capacity: the alert compares gauge / capacity (a capacity of 0 is skipped)."""
    # a raw PromQL expression
    expr: str | None = None
    """Kind: a raw PromQL expression compared with the levels."""
    test: RawAlertTest | None = None
    """For `expr` alerts: input series that fire every level and series that fire none."""

    @model_validator(mode="after")
    def _consistent(self) -> Alert:
        kinds = [k for k in ("ratio_of", "ratio", "quantile", "gauge", "expr") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"give exactly one alert kind of ratio_of, ratio, quantile, gauge or expr (got {', '.join(kinds) or 'none'})"
            )
        if self.critical is None and self.warning is None:
            raise ValueError("give at least one level: critical or warning")
        kind = kinds[0]
        if (kind == "quantile") != (self.histogram is not None):
            raise ValueError("quantile and histogram go together")
        if self.capacity is not None and kind != "gauge":
            raise ValueError("capacity goes with gauge")
        if self.capacity is not None and promql.parse_selector(self.capacity) == promql.parse_selector(str(self.gauge)):
            raise ValueError("gauge and capacity are the same selector: the ratio would always be 100%")
        if self.buckets is not None and kind != "quantile":
            raise ValueError("buckets go with quantile")
        if self.measure != "bad" and kind not in ("ratio_of", "ratio"):
            raise ValueError("measure goes with ratio_of or ratio")
        if kind == "expr":
            assert self.expr is not None
            promql.check_expression(self.expr)
            if self.test is None:
                raise ValueError("a raw expr alert needs a test: block (firing and quiet input series)")
            if self.by:
                raise ValueError("by does not apply to expr alerts: aggregate inside the expression")
        elif self.test is not None:
            raise ValueError("test: is only for expr alerts; slogen writes the other tests itself")
        return self


def _service_name(value: str) -> str:
    if value == c.OVERVIEW_NAME:
        raise ValueError(
            f"{value!r} is the name of slogen's overview dashboard (out/grafana/{value}.json): choose another"
        )
    return value


class ServiceFile(Strict):
    """One `slo/<service>.yaml`."""

    version: Literal[1]
    """The spec format: 1."""
    service: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=32), AfterValidator(_service_name)]
    """The service's name: a label value on every series and alert, and a file name."""
    owner: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)] | None = None
    """The owning team: label `owner` on every series and alert; routes can match it."""
    description: Text | None = None
    """What the service is, for dashboards and alert texts."""
    runbook: str | None = None
    """The runbook of every alert of the service (its runbook_url); an SLO's or alert's `#anchor` is appended to it."""
    labels: Labels = {}
    """Extra labels on every series and alert of the service."""
    slos: dict[Id, SLO] = {}
    """Service level objectives by id: each gets recording rules, burn-rate alerts, tests and dashboard panels."""
    alerts: dict[Id, Alert] = {}
    """Static threshold alerts by id (SLOs and alerts share one namespace of ids)."""
    routing: ServiceRouting | None = None
    """This service's own receivers per severity, in place of the default routes of slo/alerting.yaml."""
    alerting: Alerting | None = None
    """Defaults for the alerts of every SLO in this file (and for the levels of its
    threshold alerts): labels, annotations and severity per kind, absent-data alert, tiers."""
    canary: Canary | None = None
    """Canary analysis of this service's SLOs (targets argo-rollouts and flagger): the label
    that tells the canary's series from the stable version's."""


class ServiceRouting(Strict):
    """A service's own receivers per severity, in place of the default routes."""

    critical: Annotated[list[Id], Unique] = []
    """Receivers of this service's critical alerts."""
    warning: Annotated[list[Id], Unique] = []
    """Receivers of this service's warning alerts."""


# spec_alerting and spec_routing build on the types above; imported last, they resolve
# the forward references (and the routing and settings files are used as spec.*).
from .spec_alerting import Alerting  # noqa: E402, I001
from .spec_delivery import Canary  # noqa: E402
from .spec_routing import (  # noqa: E402 - re-exported: the other files' models, as spec.*
    INLINE_SECRETS as INLINE_SECRETS,
    Email as Email,
    PagerDuty as PagerDuty,
    Receiver as Receiver,
    Route as Route,
    RoutingFile as RoutingFile,
    SettingsFile as SettingsFile,
    Slack as Slack,
    Smtp as Smtp,
    Summary as Summary,
    TimeInterval as TimeInterval,
    Timing as Timing,
    Webhook as Webhook,
    no_inline_secret as no_inline_secret,
)

RawSLI.model_rebuild()
EventsSLI.model_rebuild()
SLO.model_rebuild()
ServiceFile.model_rebuild()
