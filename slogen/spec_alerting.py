"""Spec v1, `alerting:`: how a service's or an SLO's alerts are shaped (their name, the
labels, annotations and severity value of each kind, the absent-data alert, custom
burn-rate tiers). Sloth's `alerting:` and Pyrra's `burnrates` say the same.

Checks that need the SLO (its period and budget, its labels, the other alerts of the
service) are made in `resolve_alerting`, at the field they concern.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from . import spec as s
from .quantity import parse_duration

# slogen writes these annotations on every alert; their text comes from the spec's own
# fields (description, runbook) and from Grafana's address.
OWN_ANNOTATIONS = {
    "summary": "slogen writes it from the SLO",
    "description": "slogen writes it from the SLO's description: set description: instead",
    "runbook_url": "slogen writes it from runbook: set runbook: on the SLO or the service instead",
    "dashboard_url": "slogen writes it: the generated dashboard of the service",
}


def _alert_name(value: str) -> str:
    if not (value[:1].isalpha() and value.isascii() and value.replace("_", "").isalnum()):
        raise ValueError(
            f"an alert name is letters, digits and '_', starting with a letter (such as CheckoutBurn), got {value!r}"
        )
    return value


def _annotation_keys(value: dict[str, str]) -> dict[str, str]:
    for key in value:
        if key in OWN_ANNOTATIONS:
            raise ValueError(f"annotation {key!r} is set by slogen ({OWN_ANNOTATIONS[key]})")
    return value


AlertName = Annotated[str, Field(max_length=128), AfterValidator(_alert_name)]
Annotations = Annotated[dict[s.LabelName, s.Text], AfterValidator(_annotation_keys)]


def _for(value: str) -> str:
    # A longer hold says the burn is not urgent: a longer window says that better. And
    # the generated tests step through the whole `for` a minute at a time.
    if parse_duration(value) > 86_400_000:
        raise ValueError(f"at most 1d, got {value}")
    return value


ForDuration = Annotated[s.Duration, AfterValidator(_for)]


class Shape(s.Strict):
    """The alerts of one kind (page or ticket): their severity label and what they carry."""

    severity: s.SeverityValue | None = None
    """The value of the `severity` label (default: critical for page, warning for ticket).
    Routes in alerting.yaml match it."""
    labels: s.Labels = {}
    """Extra labels on these alerts (such as routing_key or slack_channel), for routing."""
    annotations: Annotations = {}
    """Extra annotations on these alerts (such as a playbook link)."""


class AbsentAlert(s.Strict):
    """The absent-data alert, with its own delay."""

    for_: ForDuration = Field(alias="for")
    """How long the SLI's series must be missing before the alert fires (default 10m)."""


def _minutes(value: str) -> str:
    if parse_duration(value) % 60_000:
        raise ValueError(f"a burn-rate window is whole minutes (rates are recorded every minute), got {value}")
    return value


Window = Annotated[s.Duration, AfterValidator(_minutes)]


class Tier(s.Strict):
    """One multi-window burn-rate tier: it fires while the error ratio over both windows
    is above factor x the error budget."""

    severity: Literal["page", "ticket"]
    """The kind of alert this tier raises."""
    long: Window
    """The long window: how much evidence the alert needs (and how long it fires after)."""
    short: Window
    """The short window, at least 5m: the alert stops soon after the burn stops."""
    factor: float = Field(gt=0, allow_inf_nan=False)
    """The burn rate: how many times faster than the budget allows events fail (14.4 spends
    2% of a 30-day budget in an hour)."""
    for_: ForDuration | None = Field(default=None, alias="for")
    """How long the condition must hold before the alert fires (default: at once)."""


class Alerting(s.Strict):
    """How the alerts are shaped. On the service, defaults for all its SLOs (and for the
    levels of its threshold alerts); on an SLO, overrides field by field."""

    name: AlertName | None = None
    """The burn-rate alert's alertname (default SLOErrorBudgetBurn)."""
    page: Shape | None = None
    """The alerts of the page tiers (and of a threshold alert's critical level)."""
    ticket: Shape | None = None
    """The alerts of the ticket tiers (and of a threshold alert's warning level and the
    absent-data alert)."""
    absent: (
        Annotated[
            Annotated[bool, Tag("bool")] | Annotated[AbsentAlert, Tag("for")],
            # One member per kind of value: the errors are the chosen member's alone.
            Discriminator(lambda value: "for" if isinstance(value, dict) else "bool"),
        ]
        | None
    ) = None
    """The absent-data alert: true (the default, after 10m), false, or {for: 15m}."""
    tiers: Annotated[list[Tier], Field(min_length=1)] | None = None
    """Burn-rate tiers in place of the default ones (all of them: list every tier wanted)."""

    @model_validator(mode="after")
    def _distinct_severities(self) -> Alerting:
        page = self.page.severity if self.page else None
        ticket = self.ticket.severity if self.ticket else None
        if page is not None and page == ticket:
            raise ValueError(
                f"page and ticket have the same severity {page!r}: routing and inhibition tell them apart by it, "
                "so they must differ"
            )
        return self
