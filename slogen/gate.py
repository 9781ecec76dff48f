"""`slogen gate`: the verification step of a deployment pipeline. It reads what the
generated rules recorded in Prometheus and says, per SLO (per label value of a grouped
SLO), whether the error budget burns faster than a threshold over a recent window.

Exit codes (cli.py): 0 healthy, 1 breaching, 2 bad input, 3 Prometheus unreachable or
its data missing. Missing data is never healthy: an SLO whose recordings are absent,
stale, younger than the window or without traffic in it makes the gate answer 3.

What it reads (names in conventions.py), the same series the burn-rate alerts read:
- the window's error ratio from the recorded 5m rates of bad and all events, summed over
  the window separately (traffic-weighted, as `builders.queries.windowed_error_ratio`
  writes every alert window); a raw SLI records only its 5m error ratio, which is
  averaged over the window instead. Every SLI kind (ratio, latency, probe, events
  expressions, raw) records one of the two, so every kind is gated.
- the period's budget left, `slo:period_error_budget_remaining:ratio`.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from . import conventions as c
from . import model as m
from .builders import queries as q
from .promapi import Client, Sample
from .quantity import fmt, format_duration, parse_duration

DEFAULT_WINDOW = "10m"
EXIT_BREACHING = 1
EXIT_NO_DATA = 3
# Longer windows would read the 30m sums (queries.windowed_error_ratio): a deployment's
# verdict wants the last minutes, not the last days.
MAX_WINDOW_MS = 86_400_000


class GateInputError(Exception):
    """Bad input: an unknown service or SLO, a bad window or threshold (exit 2)."""


@dataclass(frozen=True)
class Request:
    service: str | None = None
    slo: str | None = None
    window: str = DEFAULT_WINDOW
    max_burn_rate: str | None = None


@dataclass(frozen=True)
class Verdict:
    service: str
    slo: str
    labels: dict[str, str]  # a grouped SLO's values of its `by` labels; {} otherwise
    burn_rate: float
    budget_remaining: float | None  # None: not recorded yet (the period's recordings lag)
    max_burn_rate: float
    breaching: bool

    def as_json(self) -> dict[str, object]:
        return {
            "service": self.service,
            "slo": self.slo,
            "labels": self.labels,
            "burn_rate": self.burn_rate,
            "budget_remaining": self.budget_remaining,
            "breaching": self.breaching,
            "max_burn_rate": self.max_burn_rate,
        }


@dataclass(frozen=True)
class Outcome:
    window_ms: int
    verdicts: tuple[Verdict, ...]
    missing: tuple[str, ...]  # one sentence per SLO (or label value) without data

    @property
    def breaching(self) -> bool:
        return any(v.breaching for v in self.verdicts)

    def as_json(self) -> dict[str, object]:
        # `missing`: what had no data, so that a reader of the JSON alone tells "no breach
        # seen" (exit 3, missing not empty) from healthy (exit 0, missing empty)
        return {"breaching": self.breaching, "slos": [v.as_json() for v in self.verdicts], "missing": list(self.missing)}


def parse_window(text: str) -> int:
    """The window in ms: a multiple of 5m (the rate every SLI is recorded at: a shorter or
    odd window would still see 5 minutes of traffic per sample), at most a day."""
    try:
        window_ms = parse_duration(text)
    except ValueError as err:
        raise GateInputError(f"--window: {err}") from None
    if window_ms % c.BASE_WINDOW_MS or window_ms > MAX_WINDOW_MS:
        raise GateInputError(
            f"--window: {text!r} must be a multiple of 5m (the SLIs are recorded as 5m rates) from 5m to 1d"
        )
    return window_ms


def parse_threshold(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise GateInputError(f"--max-burn-rate: not a number: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise GateInputError(f"--max-burn-rate: must be a positive burn rate such as 2 or 14.4, got {text!r}")
    return value


def default_threshold(slo: m.SLO) -> Decimal:
    """The lowest factor of the SLO's page tiers as generated (after `alerting:`): the gate
    fails a deployment at the burn that would page if it lasted. Without a page tier, the
    lowest factor of its other tiers; without any tier, 1 (the budget lasts the period)."""
    pages = [t.factor for t in slo.tiers if t.severity == c.SEVERITY_CRITICAL]
    return min(pages or [t.factor for t in slo.tiers] or [Decimal(1)])


def select(model: m.Model, request: Request) -> list[m.SLO]:
    """The SLOs to gate; an unknown service or SLO is bad input, with the known ones."""
    slos = model.slos()
    if request.service is not None:
        names = [s.name for s in model.services]
        if request.service not in names:
            raise GateInputError(f"--service: no service {request.service!r} in the spec (known: {', '.join(names)})")
        slos = [s for s in slos if s.service == request.service]
    if request.slo is not None:
        ids = sorted({s.id for s in slos})
        slos = [s for s in slos if s.id == request.slo]
        if not slos:
            where = f" of service {request.service!r}" if request.service else ""
            raise GateInputError(f"--slo: no SLO {request.slo!r}{where} in the spec (known: {', '.join(ids)})")
    if not slos:
        raise GateInputError("no SLO to gate: the spec defines none")
    return slos


def run(model: m.Model, client: Client, request: Request, at: float | None = None) -> Outcome:
    """Query Prometheus for every selected SLO. Raises GateInputError for bad input and
    promapi.Unreachable / QueryError when Prometheus cannot answer."""
    window_ms = parse_window(request.window)
    threshold = parse_threshold(request.max_burn_rate)
    slos = select(model, request)
    now = time.time() if at is None else at
    verdicts: list[Verdict] = []
    missing: list[str] = []
    for slo in slos:
        found, lacking = gate_slo(slo, client, window_ms, threshold, now)
        verdicts += found
        missing += lacking
    return Outcome(window_ms, tuple(verdicts), tuple(missing))


def _presence_series(slo: m.SLO) -> str:
    """The recording every window's ratio is computed from: all events, or a raw SLI's 5m ratio."""
    name = c.error_ratio(c.BASE_WINDOW_MS) if isinstance(slo.sli, m.RawSLI) else c.TOTAL_RATE
    return q.recorded(name, slo)


def _group(sample: Sample, slo: m.SLO) -> tuple[tuple[str, str], ...]:
    return tuple((label, sample.labels.get(label, "")) for label in slo.by)


def gate_slo(
    slo: m.SLO, client: Client, window_ms: int, threshold: Decimal | None, at: float
) -> tuple[list[Verdict], list[str]]:
    """One verdict per label value with data; a sentence for what has none."""
    name = f"{slo.service}/{slo.id}"
    window = format_duration(window_ms)
    presence = _presence_series(slo)
    # The recordings must be fresh (Prometheus' 5m lookback at `at`) and reach back to the
    # window's start: a history shorter than the window would judge a few minutes as ten.
    if not client.query(presence, at):
        return [], [f"{name}: no recent {presence.split('{')[0]} in Prometheus (are slogen's rules loaded?)"]
    if not client.query(presence, at - window_ms / 1000 + c.BASE_WINDOW_MS / 1000):
        return [], [f"{name}: the recorded history is shorter than the {window} window"]
    ratio = q.windowed_error_ratio(slo, window_ms)
    burns = {_group(s, slo): s.value for s in client.query(f"({ratio}) / {fmt(slo.budget)}", at)}
    remaining = {_group(s, slo): s.value for s in client.query(q.recorded(c.PERIOD_BUDGET_REMAINING, slo), at)}
    limit = threshold if threshold is not None else default_threshold(slo)
    verdicts, missing = [], []
    for group, burn in sorted(burns.items()):
        label = name + "".join(f" {k}={v!r}" for k, v in group)
        if math.isnan(burn):
            missing.append(f"{label}: no traffic in the last {window}")
            continue
        # The verdict is the burn rate's; the budget left is shown when recorded. It is not
        # for up to 30 minutes after the rules are first loaded (the period reads the 30m
        # sums, a group evaluated every 30m), when a burn is already known.
        left = remaining.get(group)
        left = None if left is None or math.isnan(left) else left
        verdicts.append(Verdict(slo.service, slo.id, dict(group), burn, left, float(limit), burn > limit))
    if not burns:
        missing.append(f"{name}: no traffic in the last {window}")
    return verdicts, missing


def report(outcome: Outcome, output: str) -> tuple[str, list[str], int]:
    """(stdout, stderr lines, exit code): a known breach wins (roll back, whatever else
    lacks data), then missing data (never healthy), then healthy."""
    shown = json.dumps(outcome.as_json(), indent=2) if output == "json" else table(outcome) if outcome.verdicts else ""
    notes = [f"slogen gate: no data: {sentence}" for sentence in outcome.missing]
    code = EXIT_BREACHING if outcome.breaching else EXIT_NO_DATA if outcome.missing else 0
    return shown, notes, code


def table(outcome: Outcome) -> str:
    """One line per verdict, aligned, for a person reading a pipeline's log."""
    window = format_duration(outcome.window_ms)
    rows = [("SERVICE", "SLO", "LABELS", f"BURN RATE ({window})", "MAX", "BUDGET LEFT", "VERDICT")]
    for v in outcome.verdicts:
        labels = ",".join(f"{k}={val}" for k, val in v.labels.items()) or "-"
        rows.append(
            (
                v.service,
                v.slo,
                labels,
                f"{v.burn_rate:.3g}x",
                f"{v.max_burn_rate:g}x",
                "not yet recorded" if v.budget_remaining is None else f"{v.budget_remaining * 100:.1f}%",
                "BREACHING" if v.breaching else "healthy",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)
