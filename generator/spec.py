"""Spec v1: pydantic models that mirror `slo/*.yaml` exactly (extra fields are errors).

Values are checked here so that errors point at the field that is wrong; they are kept
as written, and `resolve` turns them into the model.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from . import promql
from .quantity import parse_duration, parse_number, parse_ratio

WINDOW_PLACEHOLDER = "$window"
RESERVED_LABELS = frozenset({"service", "slo", "owner", "severity", "alertname"})


def _duration(value: str) -> str:
    parse_duration(value)
    return value


def _objective(value: str | int | float) -> str | int | float:
    ratio = parse_ratio(value)
    if not 0 < ratio < 1:
        raise ValueError(f"must be between 0% and 100% (exclusive), got {value}")
    return value


def _number(value: str | int | float) -> str | int | float:
    parse_number(value)
    return value


def _selector(value: str) -> str:
    promql.parse_selector(value)
    return value


def _label_name(value: str) -> str:
    if not promql.LABEL_NAME.match(value) or value.startswith("__"):
        raise ValueError(f"not a valid label name: {value!r}")
    return value


def _label_value(value: str) -> str:
    promql.check_label_value(value)
    return value


def _labels(value: dict[str, str]) -> dict[str, str]:
    for key in value:
        if key in RESERVED_LABELS:
            raise ValueError(f"label {key!r} is set by slogen and cannot be overridden here")
    return value


Duration = Annotated[str, AfterValidator(_duration)]
Objective = Annotated[str | int | float, AfterValidator(_objective)]
Number = Annotated[str | int | float, AfterValidator(_number)]
SelectorText = Annotated[str, AfterValidator(_selector)]
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=40)]
LabelName = Annotated[str, AfterValidator(_label_name)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
Labels = Annotated[dict[LabelName, LabelValue], AfterValidator(_labels)]
Text = Annotated[str, AfterValidator(_label_value)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Series(Strict):
    """One input series for a raw SLI's or raw alert's generated unit test."""

    series: str
    values: str


class RatioSLI(Strict):
    """Counters: any two of bad, good and total events."""

    bad: SelectorText | None = None
    good: SelectorText | None = None
    total: SelectorText | None = None

    @model_validator(mode="after")
    def _two_of_three(self) -> RatioSLI:
        given = [n for n in ("bad", "good", "total") if getattr(self, n) is not None]
        if len(given) != 2:
            raise ValueError(f"give exactly two of bad, good and total (got {', '.join(given) or 'none'})")
        return self


class LatencySLI(Strict):
    """A classic histogram: the share of requests at or under a bucket boundary."""

    histogram: SelectorText
    buckets: list[Number] = Field(min_length=1)
    threshold: Number


class RawSLI(Strict):
    """An error-ratio expression with a `$window` placeholder, for what nothing else fits."""

    error_ratio: str
    test: RawSLITest

    @model_validator(mode="after")
    def _parses(self) -> RawSLI:
        promql.check_expression(self.error_ratio, WINDOW_PLACEHOLDER)
        return self


class RawSLITest(Strict):
    """Input series for the generated tests: `erroring` must breach every alert, `healthy` none."""

    erroring: list[Series] = Field(min_length=1)
    healthy: list[Series] = Field(min_length=1)


class BurnRateAlerts(Strict):
    """Which multi-window multi-burn-rate alerts to generate."""

    page: bool = True
    ticket: bool = True


class SLO(Strict):
    objective: Objective
    window: Duration = "30d"
    description: Text | None = None
    runbook: str | None = None
    labels: Labels = {}
    ratio: RatioSLI | None = None
    latency: LatencySLI | None = None
    raw: RawSLI | None = None
    burn_rate_alerts: BurnRateAlerts = BurnRateAlerts()

    @model_validator(mode="after")
    def _one_kind(self) -> SLO:
        kinds = [k for k in ("ratio", "latency", "raw") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"give exactly one SLI kind of ratio, latency or raw (got {', '.join(kinds) or 'none'})")
        return self


class Level(Strict):
    """One severity of a threshold alert: a comparison and how long it must hold."""

    above: Number | None = None
    below: Number | None = None
    at_least: Number | None = None
    at_most: Number | None = None
    for_: Duration | None = Field(default=None, alias="for")

    @model_validator(mode="after")
    def _one_comparison(self) -> Level:
        given = [n for n in ("above", "below", "at_least", "at_most") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of above, below, at_least and at_most")
        return self


class RawAlertTest(Strict):
    firing: list[Series] = Field(min_length=1)
    quiet: list[Series] = Field(min_length=1)


class Alert(Strict):
    """A static threshold alert. Exactly one kind: ratio_of, ratio, quantile, gauge or expr."""

    description: Text | None = None
    runbook: str | None = None
    labels: Labels = {}
    window: Duration = "5m"
    by: list[LabelName] = []
    critical: Level | None = None
    warning: Level | None = None
    # ratio of events over `window`: an SLO's SLI, or counters given here
    ratio_of: Id | None = None
    ratio: RatioSLI | None = None
    measure: Literal["bad", "good"] = "bad"
    # a quantile of a classic histogram
    quantile: float | None = Field(default=None, gt=0, lt=1)
    histogram: SelectorText | None = None
    buckets: list[Number] | None = None
    # a gauge, optionally over its capacity
    gauge: SelectorText | None = None
    capacity: SelectorText | None = None
    # a raw PromQL expression
    expr: str | None = None
    test: RawAlertTest | None = None

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


class ServiceFile(Strict):
    """One `slo/<service>.yaml`."""

    version: Literal[1]
    service: Id
    owner: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")] | None = None
    description: Text | None = None
    runbook: str | None = None
    labels: Labels = {}
    slos: dict[Id, SLO] = {}
    alerts: dict[Id, Alert] = {}


RawSLI.model_rebuild()
