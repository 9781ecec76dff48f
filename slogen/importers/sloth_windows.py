"""Sloth's alert windows as slogen burn-rate tiers.

Sloth's multi-window alerts come from an AlertWindows table: for page and ticket, a quick
and a slow pair of windows and the share of the period's budget each may spend
(sloth.slok.dev/v1 `AlertWindows`; Sloth ships internal/alert/windows/google-30d.yaml
and google-28d.yaml, and reads others with --alert-windows-path). Its factor is
`errorBudgetPercent * period hours / 100 / long window hours`, computed here in the same
float order, so that a tier fires where Sloth's alert does.

30 days is slogen's own default table (14.4, 6, 3, 1 on the same windows): nothing is
written. 28 days: Sloth's 28-day table is written out as tiers. Another period needs the
AlertWindows file the team gave Sloth, named among the files to import.
"""

from __future__ import annotations

from typing import Any

from ..errors import Problem, SpecError
from ..load import Document
from ..quantity import format_duration, parse_duration

# (kind, speed, errorBudgetPercent, shortWindow, longWindow) of Sloth's google-28d.yaml.
GOOGLE_28D = (
    ("page", "quick", 2, "5m", "1h"),
    ("page", "slow", 5, "30m", "6h"),
    ("ticket", "quick", 10, "2h", "1d"),
    ("ticket", "slow", 10, "6h", "3d"),
)
DAY_MS = 86_400_000


def is_alert_windows(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == "AlertWindows"


def factor(percent: float, period_ms: int, long_ms: int) -> float:
    """Sloth's getBurnRateFactor: hours to spend the share, over the long window's hours."""
    hours_required = percent * (period_ms / 3_600_000) / 100
    return hours_required / (long_ms / 3_600_000)


def _tier(kind: str, percent: float, short: str, long: str, period_ms: int) -> dict[str, Any]:
    # Ten significant digits: Sloth's float (5.6000000000000005) as a person writes it;
    # the difference is far below any ratio a scrape can tell apart.
    value = float(f"{factor(percent, period_ms, parse_duration(long)):.10g}")
    shown = int(value) if value == int(value) else value
    return {"severity": kind, "long": long, "short": short, "factor": shown}


def tiers_for(period: str, windows: list[Document]) -> list[dict[str, Any]] | None:
    """The tiers to write for `period`: None for 30d without a windows file (slogen's own
    defaults are Sloth's); a problem when Sloth itself would need a file not given."""
    period_ms = parse_duration(period)
    if len(windows) > 1:
        raise SpecError(
            [d.problem(("kind",), "more than one AlertWindows: Sloth reads one table") for d in windows[1:]]
        )
    if windows:
        return _from_document(windows[0], period, period_ms)
    if period_ms == 30 * DAY_MS:
        return None
    if period_ms == 28 * DAY_MS:
        return [_tier(kind, pct, short, long, period_ms) for kind, _, pct, short, long in GOOGLE_28D]
    raise SpecError(
        [
            Problem(
                "--period",
                0,
                "",
                f"Sloth has alert windows for 30d and 28d only: for {period} it reads an AlertWindows file "
                "(--alert-windows-path); name that file among the files to import and its windows become the tiers",
            )
        ]
    )


_KEYS = {"apiVersion", "kind", "spec", "metadata"}


def _from_document(doc: Document, period: str, period_ms: int) -> list[dict[str, Any]]:
    data = doc.data
    problems = [doc.problem((k,), "unknown field in an AlertWindows") for k in data if k not in _KEYS]
    spec = data.get("spec")
    if not isinstance(spec, dict):
        raise SpecError([*problems, doc.problem(("spec",), "an AlertWindows needs spec: {sloPeriod, page, ticket}")])
    try:
        declared = parse_duration(str(spec.get("sloPeriod")))
    except ValueError as exc:
        raise SpecError([*problems, doc.problem(("spec", "sloPeriod"), str(exc))]) from None
    if declared != period_ms:
        message = f"these windows are for {format_duration(declared)}, the import's period is {period}: give --period {format_duration(declared)}"
        problems.append(doc.problem(("spec", "sloPeriod"), message))
    tiers = []
    for kind in ("page", "ticket"):
        for speed in ("quick", "slow"):
            tier, found = _window(doc, ("spec", kind, speed), period_ms)
            problems += found
            if tier is not None:
                tiers.append({"severity": kind, **tier})
    if problems:
        raise SpecError(problems)
    return tiers


def _window(doc: Document, path: tuple[str, ...], period_ms: int) -> tuple[dict[str, Any] | None, list[Problem]]:
    node: Any = doc.data
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return None, [doc.problem(path, "expected {errorBudgetPercent, shortWindow, longWindow}")]
    problems = [
        doc.problem((*path, k), "unknown field")
        for k in node
        if k not in ("errorBudgetPercent", "shortWindow", "longWindow")
    ]
    pct = node.get("errorBudgetPercent")
    if isinstance(pct, bool) or not isinstance(pct, int | float) or not 0 < pct <= 100:
        problems.append(doc.problem((*path, "errorBudgetPercent"), f"expected a percentage of the budget, got {pct!r}"))
    durations = {}
    for key in ("shortWindow", "longWindow"):
        try:
            durations[key] = format_duration(parse_duration(str(node.get(key))))
        except ValueError as exc:
            problems.append(doc.problem((*path, key), str(exc)))
    if problems:
        return None, problems
    tier = _tier(path[1], float(pct or 0), durations["shortWindow"], durations["longWindow"], period_ms)
    return {k: v for k, v in tier.items() if k != "severity"}, []
