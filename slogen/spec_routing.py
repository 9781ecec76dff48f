"""Spec v1, the project's other files: `slo/alerting.yaml` (receivers, routes, the daily
summary, time intervals) and `slo/slogen.yaml` (settings of the generated outputs).
`spec` re-exports them; the shared field types come from there."""

from __future__ import annotations

import re
import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from . import conventions as c
from .spec import Duration, Id, LabelName, LabelValue, SeverityValue, Strict, Text, Unique
from .spec_delivery import ArgoRolloutsSettings, FlaggerSettings
from .spec_targets import OperatorSettings, RulerSettings, TargetList, ThanosSettings
from .usertext import SECRET_MESSAGE, SECRET_VALUE

# --- routing: slo/alerting.yaml ----------------------------------------------------------

# Fields that would hold a secret inline, and the *_file field to use instead.
INLINE_SECRETS = {
    "api_url": "api_url_file",
    "routing_key": "routing_key_file",
    "service_key": "service_key_file",
    "auth_password": "auth_password_file",
    "auth_secret": "auth_secret_file",
    "password": "auth_password_file",
    "token": "a *_file field",
}


def no_inline_secret(value: str) -> str:
    if SECRET_VALUE.search(value):
        raise ValueError(SECRET_MESSAGE)
    return value


class _NoSecrets(Strict):
    """Refuses inline secret fields by name, with the *_file field to use instead."""

    @model_validator(mode="before")
    @classmethod
    def _refuse_inline(cls, data: object) -> object:
        if isinstance(data, dict):
            for key, instead in INLINE_SECRETS.items():
                if key in data:
                    raise ValueError(f"inline secret {key!r}: put it in a file and set {instead} instead")
        return data


def _file_path(value: str) -> str:
    """A `*_file` field names the file holding the secret, never the secret itself."""
    looks_like = None
    if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://", value):
        looks_like = "a URL"
    elif re.search(r"\s", value):
        looks_like = "text with spaces"
    elif re.fullmatch(r"[A-Za-z0-9+=]{20,}", value):
        looks_like = "a key"
    if looks_like:
        raise ValueError(
            f"a *_file field takes the path of the file that holds the secret (such as "
            f"/etc/alertmanager/secrets/slack-webhook-url), and this looks like {looks_like}"
        )
    return value


def _smarthost(value: str) -> str:
    if not re.fullmatch(r"(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):[0-9]{1,5}", value):
        raise ValueError(f"a smarthost is host:port, such as smtp.example.com:587, got {value!r}")
    return value


PlainText = Annotated[str, AfterValidator(no_inline_secret)]
FilePath = Annotated[str, Field(min_length=1), AfterValidator(_file_path)]
Smarthost = Annotated[str, AfterValidator(_smarthost)]


class PagerDuty(_NoSecrets):
    routing_key_file: FilePath
    severity: str | None = None  # defaults to the alert's severity label
    send_resolved: bool = True


class Slack(_NoSecrets):
    api_url_file: FilePath
    channel: PlainText
    mention: PlainText | None = None  # e.g. <!subteam^ID> or @here, prepended to critical messages
    send_resolved: bool = True


class Email(_NoSecrets):
    to: PlainText
    from_: PlainText | None = Field(default=None, alias="from")
    smarthost: Smarthost | None = None
    auth_username: PlainText | None = None
    auth_password_file: FilePath | None = None
    require_tls: bool | None = None
    send_resolved: bool = False


def _http_url(value: str) -> str:
    """Alertmanager parses it as a URL: a space or another scheme fails check-config."""
    if not re.fullmatch(r"https?://[^\s/]+\S*", value):
        raise ValueError(f"must be an http(s) URL with no spaces, such as http://deployer:8080/rollback, got {value!r}")
    return value


class Webhook(_NoSecrets):
    url: Annotated[PlainText, AfterValidator(_http_url)]
    send_resolved: bool = True
    max_alerts: int = Field(default=0, ge=0, le=1_000_000)


class Receiver(Strict):
    pagerduty: PagerDuty | None = None
    slack: Slack | None = None
    email: Email | None = None
    webhook: Webhook | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Receiver:
        kinds = [k for k in ("pagerduty", "slack", "email", "webhook") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"give exactly one of pagerduty, slack, email and webhook (got {', '.join(kinds) or 'none'})"
            )
        return self


class Timing(Strict):
    group_by: Annotated[list[LabelName], Unique] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None


class Route(Timing):
    """Alerts of these severities (and labels) go to these receivers."""

    severity: Annotated[list[SeverityValue], Unique] = Field(min_length=1)
    """critical, warning, or a severity value that specs give in alerting.page/ticket."""
    match: dict[LabelName, LabelValue] = {}
    receivers: Annotated[list[Id], Unique] = Field(min_length=1)
    mute_time_intervals: Annotated[list[Id], Unique] = []
    active_time_intervals: Annotated[list[Id], Unique] = []


class Summary(Timing):
    """Every alert also reaches this receiver, grouped coarsely, at most once a day."""

    receiver: Id


def _hhmm(value: str) -> str:
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]|24:00", value):
        raise ValueError(f"not a time of day HH:MM (00:00 to 24:00): {value!r}")
    return value


_HHMM = Annotated[str, AfterValidator(_hhmm)]


class TimeRange(Strict):
    start_time: _HHMM
    end_time: _HHMM

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.start_time >= self.end_time:
            raise ValueError(
                f"start_time {self.start_time} must come before end_time {self.end_time} "
                f"(a range over midnight is two ranges: {self.start_time}-24:00 and 00:00-{self.end_time})"
            )
        return self


_WEEKDAY_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


def _range_of(pattern: str, what: str, example: str, order: Any) -> Any:
    """A value or `start:end`; Alertmanager refuses an end before its start."""
    compiled = re.compile(rf"{pattern}(:{pattern})?")

    def check(value: str) -> str:
        text = str(value)
        if not compiled.fullmatch(text):
            raise ValueError(f"not a {what} or a range of them, such as {example}: {value!r}")
        start, _, end = text.partition(":")
        if end and order(start) > order(end) and (order(start) < 0) == (order(end) < 0):
            raise ValueError(f"{text!r} ends before it starts (a range that wraps around is two ranges)")
        return text

    return Annotated[str | int, AfterValidator(check)]


def _month_number(text: str) -> int:
    return _MONTH_NAMES.index(text) + 1 if text in _MONTH_NAMES else int(text)


# Alertmanager's weeks start on Sunday; day-of-month ranges may count from the end (-1).
_WEEKDAYS = _range_of("(" + "|".join(_WEEKDAY_NAMES) + ")", "weekday", "monday:friday", _WEEKDAY_NAMES.index)
_DAYS = _range_of("-?([1-9]|[12][0-9]|3[01])", "day of the month", "1:7 or -1", int)
_MONTHS = _range_of("(" + "|".join(_MONTH_NAMES) + "|[1-9]|1[0-2])", "month", "january:march", _month_number)
_YEARS = _range_of("[0-9]{4}", "year", "2026:2027", int)


class TimeInterval(Strict):
    """One Alertmanager time interval (all given fields must match)."""

    times: list[TimeRange] = []
    weekdays: list[_WEEKDAYS] = []  # type: ignore[valid-type]
    days_of_month: list[_DAYS] = []  # type: ignore[valid-type]
    months: list[_MONTHS] = []  # type: ignore[valid-type]
    years: list[_YEARS] = []  # type: ignore[valid-type]
    location: str | None = None

    @model_validator(mode="after")
    def _location(self) -> TimeInterval:
        if self.location is not None:
            try:
                zoneinfo.ZoneInfo(self.location)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown time zone {self.location!r} (use an IANA name such as Europe/Berlin)"
                ) from None
        return self


class Smtp(_NoSecrets):
    smarthost: Smarthost
    from_: PlainText = Field(alias="from")
    auth_username: PlainText | None = None
    auth_password_file: FilePath | None = None
    require_tls: bool = True


class RoutingFile(Strict):
    """`slo/alerting.yaml`: receivers, routes and the daily summary."""

    version: Literal[1]
    smtp: Smtp | None = None
    resolve_timeout: Duration = "5m"
    defaults: Timing = Timing()
    receivers: dict[Id, Receiver] = Field(min_length=1)
    routes: list[Route] = Field(min_length=1)
    summary: Summary | None = None
    time_intervals: dict[Id, list[TimeInterval]] = {}

    @field_validator("receivers")
    @classmethod
    def _own_names(cls, receivers: dict[str, Receiver]) -> dict[str, Receiver]:
        if c.BLACKHOLE_RECEIVER in receivers:
            raise ValueError(
                f"receiver name {c.BLACKHOLE_RECEIVER!r} is slogen's root receiver (alerts no route takes): choose another"
            )
        return receivers


# --- project settings: slo/slogen.yaml --------------------------------------------------


class GrafanaSettings(Strict):
    url: PlainText = ""  # base URL of Grafana, for dashboard links in alerts ("" = relative /d/...)
    folder: Text = "SLOs"
    dashboards_path: str = "/var/lib/grafana/dashboards/slogen"  # where out/grafana is deployed

    @model_validator(mode="after")
    def _url(self) -> GrafanaSettings:
        if self.url and not re.fullmatch(r"https?://[^\s]+", self.url):
            raise ValueError(f"grafana.url must be an http(s) URL, got {self.url!r}")
        return self


class Compatibility(Strict):
    """What other tools' users keep reading while a team moves to slogen."""

    sloth_labels: bool = False
    """Add Sloth's labels (sloth_id, sloth_service, sloth_slo) to every recording and alert
    of every SLO, and record sloth_slo_info and slo:time_period:days, so that dashboards
    built for Sloth's rules keep working on slogen's."""


class SettingsFile(Strict):
    """`slo/slogen.yaml`: settings of the generated outputs."""

    version: Literal[1]
    grafana: GrafanaSettings = GrafanaSettings()
    compatibility: Compatibility = Compatibility()
    """Labels and series other tools' dashboards read (off by default)."""
    targets: TargetList = ["prometheus"]
    """Where the rules run, one folder of out/ each: prometheus (out/prometheus, always
    written: its promtool tests prove the groups every target carries), mimir
    (out/mimir/<service>.yaml), cortex (out/cortex/<service>.yaml), thanos
    (out/thanos/<service>.yaml), prometheus-operator (Kubernetes manifests under
    out/prometheus-operator: PrometheusRules, dashboards' ConfigMaps, the Alertmanager's
    Secret and a kustomization.yaml), argo-rollouts (out/argo-rollouts/<service>.yaml: an
    AnalysisTemplate per service with `canary:`), flagger (out/flagger/<service>/: a
    MetricTemplate per SLO and the Canary's analysis.metrics)."""
    mimir: RulerSettings | None = None
    """Settings of the mimir target's rule groups (needs mimir in targets)."""
    cortex: RulerSettings | None = None
    """Settings of the cortex target's rule groups (needs cortex in targets)."""
    thanos: ThanosSettings | None = None
    """Settings of the thanos target's rule groups (needs thanos in targets)."""
    prometheus_operator: OperatorSettings | None = None
    """Settings of the prometheus-operator target's manifests (needs prometheus-operator in
    targets; without them, the defaults)."""
    argo_rollouts: ArgoRolloutsSettings | None = None
    """Settings of the argo-rollouts target's AnalysisTemplates (needed by argo-rollouts in targets)."""
    flagger: FlaggerSettings | None = None
    """Settings of the flagger target's MetricTemplates (needed by flagger in targets)."""
