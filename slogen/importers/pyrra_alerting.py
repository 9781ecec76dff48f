"""Pyrra's burn-rate alerts as slogen `alerting:` (tiers, severities, absent-data alert).

Pyrra (slo/rules.go, `Windows(sloWindow)`) scales one table from 28 days: per window
(for, long, short, factor) = (2m, 1h, 5m, 14) and (15m, 6h, 30m, 7) critical, (1h, 1d, 2h,
2) and (3h, 4d, 6h, 1) warning, each duration `sloWindow / n` in Go's integer nanoseconds,
rounded to the minute (halves away from zero). Each window is its own alert rule,
`burnrate<short> > factor * (1-target) and burnrate<long> > factor * (1-target)` with its
own `for`. The same windows and factors become explicit `alerting.tiers`, so that the
imported alerts fire on the same burns.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..errors import Problem
from ..load import Document, Path_, dotted
from ..quantity import fmt_percent, format_duration

MINUTE_NS = 60_000_000_000
DAY_MS = 86_400_000
MIN_SHORT_MS = 300_000  # slogen records every SLI as 5m rates: no shorter window exists
DEFAULT_NAME = "ErrorBudgetBurn"  # Pyrra's defaultAlertname (slo/slo.go)
ABSENT_NAME = "SLOMetricAbsent"  # Pyrra's default absent alert name, and slogen's only one
# (default severity, divisor of `for`, of the long window, of the short window, factor)
TABLE = (
    ("critical", 28 * 24 * 30, 28 * 24, 28 * 24 * 12, 14),
    ("critical", 28 * 24 * 4, 28 * 4, 28 * 24 * 2, 7),
    ("warning", 28 * 24, 28, 28 * 12, 2),
    ("warning", 28 * 8, 7, 28 * 4, 1),
)
SEVERITY_KEYS = ("fastBurn", "mediumBurn", "slowBurn", "longTermBurn")
ALERTING_KEYS = ("disabled", "burnrates", "absent", "name", "absentName", "severities")


@dataclass(frozen=True)
class Window:
    """One of Pyrra's alert windows, in milliseconds."""

    severity: str
    for_ms: int
    long_ms: int
    short_ms: int
    factor: int


def _go_round(ns: int) -> int:
    """Go's Duration.Round(time.Minute) for a positive duration, in milliseconds."""
    rest = ns % MINUTE_NS
    rounded = ns - rest if rest + rest < MINUTE_NS else ns + MINUTE_NS - rest
    return rounded // 1_000_000


def windows(window_ms: int) -> list[Window]:
    """Pyrra's `Windows(sloWindow)`, exactly (integer nanosecond division, then rounding)."""
    ns = window_ms * 1_000_000
    return [
        Window(sev, _go_round(ns // f), _go_round(ns // lo), _go_round(ns // sh), factor)
        for sev, f, lo, sh, factor in TABLE
    ]


def absent_for_ms(window_ms: int, target: Decimal) -> int:
    """Pyrra's AbsentDuration(): the fastest window's threshold times its long window,
    truncated to seconds (as Go converts the float), plus its `for`, rounded to the minute."""
    fast = windows(window_ms)[0]
    threshold = 14 * (1 - float(target) / 100)
    seconds = int(threshold * (fast.long_ms / 1000))
    return _go_round((seconds * 1000 + fast.for_ms) * 1_000_000)


@dataclass
class Mapped:
    """What Pyrra's `spec.alerting` becomes: fields of the SLO, warnings, refusals."""

    fields: dict[str, Any]
    warnings: list[str]
    problems: list[Problem]


def alerting(doc: Document, window_ms: int, target: Decimal, budget: Decimal) -> Mapped:
    """The SLO's `burn_rate_alerts` and `alerting` from Pyrra's spec.alerting (and its
    window and target, which decide Pyrra's tiers and its absent alert's `for`)."""
    here: Path_ = ("spec", "alerting")
    raw = _get(doc, here)
    out = Mapped({}, [], [])
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        out.problems.append(doc.problem(here, "must be a mapping"))
        return out
    out.problems += [
        doc.problem((*here, key), f"not a field of Pyrra's alerting (one of {', '.join(ALERTING_KEYS)})")
        for key in raw
        if key not in ALERTING_KEYS
    ]
    flags = {key: _flag(doc, (*here, key), raw.get(key), out) for key in ("disabled", "burnrates", "absent")}
    burnrates = flags["burnrates"] is not False and flags["disabled"] is not True
    severities = _severities(doc, (*here, "severities"), raw.get("severities"), out)
    shaping: dict[str, Any] = {}
    if burnrates:
        shaping["name"] = _text(doc, (*here, "name"), raw.get("name"), out) or DEFAULT_NAME
    page, ticket, kinds = severities or ("critical", "warning", ["page", "page", "ticket", "ticket"])
    if page != "critical" and burnrates:
        shaping["page"] = {"severity": page}
    if ticket != "warning":
        shaping["ticket"] = {"severity": ticket}
    _absent_severity(doc, here, raw.get("severities"), ticket, flags["absent"] is not False, out)
    shaping["absent"] = _absent(doc, raw.get("absentName"), flags["absent"] is not False, window_ms, target, out)
    if burnrates:
        tiers, notes = _tiers(window_ms, budget, kinds)
        line = f"{doc.file}:{doc.key_line(('spec', 'window'))}: spec.window: "
        out.warnings += [line + note for note in notes]
        if tiers:
            shaping["tiers"] = tiers
        kinds_left = {t["severity"] for t in tiers}
        off = {k: False for k in ("page", "ticket") if k not in kinds_left}
        if off:
            out.fields["burn_rate_alerts"] = off
    else:
        out.fields["burn_rate_alerts"] = {"page": False, "ticket": False}
    out.fields["alerting"] = shaping
    return out


def _absent(doc: Document, name: object, on: bool, window_ms: int, target: Decimal, out: Mapped) -> Any:
    """`absent: false`, or `{for: ...}` with Pyrra's own wait (AbsentDuration())."""
    path: Path_ = ("spec", "alerting", "absentName")
    absent_name = _text(doc, path, name, out)
    if absent_name and absent_name != ABSENT_NAME and on:
        out.warnings.append(
            f"{doc.file}:{doc.key_line(path)}: spec.alerting.absentName: "
            f"slogen's absent-data alert is always {ABSENT_NAME}, not {absent_name}"
        )
    if not on:
        return False
    wait = absent_for_ms(window_ms, target)
    if wait < 60_000:
        out.warnings.append(
            f"{doc.file}:{doc.key_line(('spec', 'window'))}: spec.window: Pyrra's absent-data alert fires at once "
            "here (its for rounds to 0s); slogen's waits 1m, the shortest for it takes"
        )
    return {"for": format_duration(max(wait, 60_000))}


def _tiers(window_ms: int, budget: Decimal, kinds: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Pyrra's windows as slogen tiers, and notes on what slogen had to change: a short
    window under 5m (slogen's shortest recording), a tier that can never fire, a `for`
    over slogen's 1d."""
    notes: list[str] = []
    kept: list[tuple[str, Window]] = []
    for kind, w in zip(kinds, windows(window_ms), strict=True):
        said = f"Pyrra's {format_duration(w.long_ms)}/{format_duration(w.short_ms)} {w.factor}x tier"
        short = max(w.short_ms, MIN_SHORT_MS)
        if budget * w.factor >= 1:
            notes.append(
                f"{said} is left out: {w.factor} times the {fmt_percent(budget)} budget is 100% or more, it can never fire"
            )
            continue
        if w.long_ms <= short:
            notes.append(f"{said} is left out: slogen records 5m rates, and its long window is not longer than 5m")
            continue
        if short != w.short_ms:
            notes.append(f"{said} watches 5m for its short window (slogen records 5m rates, none shorter)")
        kept.append((kind, Window(w.severity, w.for_ms, w.long_ms, short, w.factor)))
    # Each tier keeps Pyrra's own `for` (slogen makes tiers of one kind with different
    # `for`s a rule each, labelled long and short as Pyrra's alerts are); slogen's `for`
    # is at most 1d, which only a window of over two years would pass.
    tiers = []
    for kind, w in kept:
        tier: dict[str, Any] = {
            "severity": kind,
            "long": format_duration(w.long_ms),
            "short": format_duration(w.short_ms),
            "factor": w.factor,
        }
        if w.for_ms:
            tier["for"] = format_duration(min(w.for_ms, DAY_MS))
        if w.for_ms > DAY_MS:
            notes.append(
                f"Pyrra holds its {format_duration(w.long_ms)} tier {format_duration(w.for_ms)}; slogen's for is at most 1d"
            )
        tiers.append(tier)
    return tiers, notes


def _severities(doc: Document, here: Path_, raw: object, out: Mapped) -> tuple[str, str, list[str]] | None:
    """(page value, ticket value, kind of each of Pyrra's four windows), or None for
    Pyrra's defaults (critical, critical, warning, warning)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        out.problems.append(doc.problem(here, "must be a mapping"))
        return None
    allowed = (*SEVERITY_KEYS, "absent")
    out.problems += [
        doc.problem((*here, k), f"not a field of Pyrra's severities (one of {', '.join(allowed)})")
        for k in raw
        if k not in allowed
    ]
    values = [
        _text(doc, (*here, key), raw.get(key), out) or default[0]
        for key, default in zip(SEVERITY_KEYS, TABLE, strict=True)
    ]
    distinct = list(dict.fromkeys(values))
    if len(distinct) > 2:
        out.problems.append(
            doc.problem(
                here,
                f"slogen has two burn-rate severities, page and ticket; Pyrra's windows here use {len(distinct)}: "
                + ", ".join(f"{k} {v}" for k, v in zip(SEVERITY_KEYS, values, strict=True)),
            )
        )
        return None
    if len(distinct) == 1:
        only = distinct[0]
        return ("critical", only, ["ticket"] * 4) if only == "warning" else (only, "warning", ["page"] * 4)
    page = "critical" if "critical" in distinct else next((v for v in distinct if v != "warning"), values[0])
    ticket = next(v for v in distinct if v != page)
    return page, ticket, ["page" if v == page else "ticket" for v in values]


def _absent_severity(doc: Document, here: Path_, raw: object, ticket: str, absent: bool, out: Mapped) -> None:
    """slogen's absent-data alert is a ticket: say so when Pyrra's (critical unless
    `severities.absent` says otherwise) has another severity, since routes match it."""
    given = raw.get("absent") if isinstance(raw, dict) else None
    wanted = given if isinstance(given, str) and given else "critical"
    if absent and wanted != ticket:
        path: Path_ = (*here, "severities", "absent") if given else ("spec",)
        out.warnings.append(
            f"{doc.file}:{doc.key_line(path)}: {dotted(path)}: Pyrra's absent-data alert has severity {wanted}; "
            f"slogen's is a ticket, with severity {ticket}"
        )


def _flag(doc: Document, path: Path_, value: object, out: Mapped) -> bool | None:
    if value is not None and not isinstance(value, bool):
        out.problems.append(doc.problem(path, f"must be true or false, got {value!r}"))
        return None
    return value


def _text(doc: Document, path: Path_, value: object, out: Mapped) -> str | None:
    if value is not None and not isinstance(value, str):
        out.problems.append(doc.problem(path, f"must be a string, got {value!r}"))
        return None
    return value or None


def _get(doc: Document, path: Path_) -> Any:
    node: Any = doc.data
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node
