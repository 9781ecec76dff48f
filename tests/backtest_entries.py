"""A week of the payments team's alerts as `slogen backtest` reports them (the issue's
JSON), before and after a tuning change, and the incidents the team knows of.

checkout pages on charge-success burn and tickets on its slow burn; ledger tickets on a
queue-depth threshold that flaps and on absent data. The change ("after") raises the
queue-depth threshold, lengthens the slow burn's windows and adds a ledger-lag ticket.
Firings cross both edges of the window, one is still firing at its end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any


def at(text: str) -> float:
    """`11-18 09:18` in November 2026, UTC."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()


START, END = at("11-16 00:00"), at("11-23 00:00")  # one week
OWNER = {"owner": "payments"}
CHARGE_PAGE = {**OWNER, "service": "checkout", "slo": "charge-success", "severity": "critical"}
CHARGE_TICKET = {**CHARGE_PAGE, "severity": "warning"}
QUEUE = {**OWNER, "service": "ledger", "slo": "queue-depth", "severity": "warning", "queue": "inbound"}
ABSENT = {**OWNER, "service": "ledger", "slo": "posting-latency", "severity": "warning"}
LAG = {**OWNER, "service": "ledger", "slo": "ledger-lag", "severity": "warning"}


def entry(
    alert: str, labels: dict[str, str], firings: Sequence[tuple[float, float | None]], **extra: Any
) -> dict[str, Any]:
    return {
        "alert": alert,
        "labels": labels,
        "severity": labels["severity"],
        "firings": [{"start": s, "end": e} for s, e in firings],
        **extra,
    }


PAGE_FIRINGS = [
    (START - 1800, START + 1200),  # began before the window
    (at("11-18 09:18"), at("11-18 10:02")),  # the card processor outage, 6m in
    (at("11-19 03:00"), at("11-19 03:04")),  # a short spike: noise
    (at("11-20 14:09"), at("11-20 14:52")),  # the deploy regression, 4m in
    (END - 2400, None),  # still firing when the window ends
]
QUEUE_FLAPS = [(at(f"11-{day} {hour}:00"), at(f"11-{day} {hour}:12")) for day in (16, 17, 19, 21) for hour in (10, 15)]


def before() -> list[dict[str, Any]]:
    return [
        entry("SLOErrorBudgetBurn", CHARGE_PAGE, PAGE_FIRINGS, kind="burn", interval=60, service="checkout"),
        entry(
            "SLOErrorBudgetBurn",
            CHARGE_TICKET,
            [
                (at("11-17 02:00"), at("11-17 20:00")),
                (at("11-18 09:40"), at("11-18 16:00")),
                (at("11-20 14:30"), at("11-21 01:00")),
            ],
            kind="burn",
            interval=60,
        ),
        entry("QueueDepth", QUEUE, QUEUE_FLAPS, kind="threshold", threshold=5000, interval=30, **{"for": 600}),
        entry("SLOMetricAbsent", ABSENT, [(at("11-21 06:00"), at("11-21 06:25"))], kind="absent", **{"for": 600}),
    ]


def after() -> list[dict[str, Any]]:
    entries = before()
    entries[1]["firings"] = entries[1]["firings"][1:]  # the slow burn's longer windows: one fewer
    entries[2]["firings"] = entries[2]["firings"][2:4]  # queue depth at 8000: two of eight
    entries[2]["threshold"] = 8000
    entries.append(entry("LedgerLag", LAG, [(at("11-21 05:58"), at("11-21 06:40"))], kind="threshold", threshold=300))
    return entries


INCIDENTS_YAML = """\
incidents:
  - name: card processor outage
    start: 2026-11-18T09:12:00Z
    end: 2026-11-18T10:00:00Z
    service: checkout
  - name: deploy 4512 regression
    start: 2026-11-20T14:05:00Z
    end: 2026-11-20T14:40:00Z
    service: checkout
  - name: ledger replica lag
    start: 1795240200
    end: 1795242600
    service: ledger
  - name: dns blip
    start: 2026-11-22T11:00:00+01:00
    end: 2026-11-22T11:05:00+01:00
"""
