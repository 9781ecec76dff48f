"""`slogen backtest`: replay every generated alert over the history Prometheus stores.

Each alert's expression, inlined down to raw series (backtest_rules), is range-queried at
its group's evaluation interval; then `for` and resolution are applied as Prometheus'
rule manager applies them, per label set: pending from the first evaluation that returns
the series, firing at the first evaluation at least `for` after that, resolved at the
first evaluation that does not return it (a pending alert that loses its series is
forgotten, not resolved).

The result is a list of JSON-ready entries, one per alert rule and label set that fired:
`{"alert", "labels", "severity", "firings": [{"start", "end"}], ...}` (unix seconds, end
None while still firing at the end of the window), sorted, the same every run.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import conventions as c
from .api import Options, load_model
from .backtest_rules import NotReplayable, ReplayedAlert, replayed_alerts
from .promapi import Client

DEFAULT_EVALUATION_INTERVAL_S = 60.0  # Prometheus' own default global.evaluation_interval
WEEK_S = 7 * 86_400.0


class NoData(Exception):
    """Prometheus holds none of the series the alerts read over the window."""


class BadRequest(Exception):
    """The command's options or the spec cannot be replayed (a sentence for the user)."""


@dataclass(frozen=True)
class Window:
    start: float
    end: float


def replay(
    spec_dir: Path,
    client: Client,
    start: float,
    end: float,
    service: str | None = None,
    evaluation_interval_s: float = DEFAULT_EVALUATION_INTERVAL_S,
) -> list[dict[str, Any]]:
    """The firings of every generated alert of spec_dir over [start, end] (see the module).
    Raises SpecError (the spec), BadRequest, NoData, promapi.Unreachable and QueryError."""
    if end <= start:
        raise BadRequest("the window is empty: --from must be before --to")
    model = load_model(Options(spec_dir=spec_dir))
    names = [s.name for s in model.services]
    if service is not None and service not in names:
        raise BadRequest(f"no service {service!r} in {spec_dir} (it has: {', '.join(names) or 'none'})")
    try:
        alerts = replayed_alerts(model, evaluation_interval_s, service)
    except NotReplayable as err:
        raise BadRequest(f"cannot replay: {err}") from None
    _check_data(client, alerts, Window(start, end))
    entries: list[dict[str, Any]] = []
    for alert in alerts:
        entries += _replay_one(client, alert, Window(start, end))
    return sorted(entries, key=_sort_key)


def _check_data(client: Client, alerts: list[ReplayedAlert], window: Window) -> None:
    """NoData unless some raw series an alert reads has samples in the window: an empty
    Prometheus must not read as "no alert would have fired"."""
    from .promql import expression_selectors

    selectors = sorted({s.render() for a in alerts if a.kind != "absent" for s in expression_selectors(a.expr)})
    selectors = selectors or sorted({s.render() for a in alerts for s in expression_selectors(a.expr)})
    if not selectors:
        raise BadRequest("the spec generates no alert to replay")
    if not client.series(selectors, window.start, window.end):
        raise NoData(
            f"{client.url} holds no samples of {', '.join(selectors[:3])}{' ...' if len(selectors) > 3 else ''} "
            f"between {window.start:.0f} and {window.end:.0f}: nothing to replay"
        )


def _replay_one(client: Client, alert: ReplayedAlert, window: Window) -> list[dict[str, Any]]:
    step = alert.interval_s
    # Evaluate from `for` before the window, so that an alert already pending fires on time;
    # but not an absent-data alert: before the window there may be no history at all (the
    # retention's start), and it would fire at once on the window's first evaluation.
    # Evaluations fall on multiples of the step, as the inlined subqueries' samples do: the
    # replay is a Prometheus whose groups run at offset 0 (a real one runs each group at
    # its own offset within the interval, hence "within one interval" of live).
    lead = 0.0 if alert.kind == "absent" else alert.for_s
    first = math.floor((window.start - lead) / step) * step
    series = client.query_range(alert.expr, first, window.end, step)
    entries = []
    for s in series:
        labels = {k: v for k, v in s.labels.items() if k != "__name__"} | alert.labels
        times = sorted({round(t, 3) for t, _ in s.points})
        last_eval = first + math.floor((window.end - first) / step + 1e-9) * step
        firings = [f for f in firings_of(times, alert.for_s, step, last_eval) if f[1] is None or f[1] > window.start]
        if firings:
            entries.append(_entry(alert, labels, firings))
    return entries


def firings_of(times: list[float], for_s: float, step: float, last_eval: float) -> list[tuple[float, float | None]]:
    """Prometheus' alert states over evaluations every `step` seconds at which the
    expression returned the label set at `times` (sorted): each (fired at, resolved at),
    resolved None when still firing at `last_eval`, the last evaluation."""
    runs: list[list[float]] = []
    for t in times:
        if runs and t - runs[-1][1] <= step * 1.5:  # the next evaluation: the run goes on
            runs[-1][1] = t
        else:
            runs.append([t, t])
    hold = math.ceil(for_s / step - 1e-9) * step  # evaluations at active + k * step
    out: list[tuple[float, float | None]] = []
    for active, last in runs:
        fired = active + hold
        if fired <= last + 1e-6:  # else it was pending only, and forgotten
            resolved = last + step
            out.append((fired, resolved if resolved <= last_eval + 1e-6 else None))
    return out


def _entry(alert: ReplayedAlert, labels: dict[str, str], firings: list[tuple[float, float | None]]) -> dict[str, Any]:
    return {
        "alert": alert.alert,
        "labels": dict(sorted(labels.items())),
        "severity": labels.get(c.LABEL_SEVERITY, ""),
        "firings": [{"start": _num(s), "end": None if e is None else _num(e)} for s, e in firings],
        "kind": alert.kind,
        "for": _num(alert.for_s),
        "interval": _num(alert.interval_s),
        "threshold": alert.threshold,
        "service": alert.service,
        "slo": alert.slo,
    }


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(x, 3)


def _sort_key(entry: dict[str, Any]) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    return (entry["service"], entry["alert"], tuple(entry["labels"].items()))


@dataclass(frozen=True)
class Summary:
    firings: int
    firing_s: float
    per_week: float
    median_s: float
    longest_s: float


def summarize(entry: dict[str, Any], start: float, end: float) -> Summary:
    """Firings, total time firing, firings per week, median and longest firing (a firing
    still on at the end counts until the end of the window)."""
    spans = [(f["end"] if f["end"] is not None else end) - max(f["start"], start) for f in entry["firings"]]
    spans = [max(0.0, s) for s in spans]
    weeks = (end - start) / WEEK_S
    return Summary(
        len(spans), sum(spans), len(spans) / weeks, statistics.median(spans) if spans else 0.0, max(spans, default=0.0)
    )


def table(entries: list[dict[str, Any]], start: float, end: float) -> str:
    """The human report: one line per alert and label set that fired."""
    if not entries:
        return f"no generated alert would have fired between {start:.0f} and {end:.0f}\n"
    rows = [("ALERT", "SEVERITY", "LABELS", "FIRINGS", "FIRING", "PER WEEK", "MEDIAN", "LONGEST")]
    for entry in entries:
        s = summarize(entry, start, end)
        shown = ",".join(f"{k}={v}" for k, v in entry["labels"].items() if k not in (c.LABEL_SEVERITY, "owner"))
        rows.append(
            (
                entry["alert"],
                entry["severity"],
                shown,
                str(s.firings),
                _dur(s.firing_s),
                f"{s.per_week:.1f}",
                _dur(s.median_s),
                _dur(s.longest_s),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() + "\n" for r in rows)


def _dur(seconds: float) -> str:
    s = int(round(seconds))
    d, rest = divmod(s, 86_400)
    h, rest = divmod(rest, 3600)
    m, sec = divmod(rest, 60)
    parts = [f"{d}d" if d else "", f"{h}h" if h else "", f"{m}m" if m else "", f"{sec}s" if sec else ""]
    return "".join(parts) or "0s"


def parse_time(text: str, flag: str) -> float:
    """Unix seconds or RFC 3339 (`2026-01-31T08:00:00Z`); BadRequest naming the flag."""
    from datetime import datetime

    try:
        value = float(text)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise BadRequest(f"{flag} wants RFC 3339 (2026-01-31T08:00:00Z) or unix seconds, got {text!r}") from None
        if parsed.tzinfo is None:
            raise BadRequest(f"{flag} needs a time zone (such as Z), got {text!r}") from None
        value = parsed.timestamp()
    if not math.isfinite(value) or value < 0:
        raise BadRequest(f"{flag} wants a time after 1970, got {text!r}")
    return value


def client_of(url: str) -> Client:
    try:
        return Client(url)
    except ValueError as err:
        raise BadRequest(str(err)) from None


def interval_of(text: str) -> float:
    """--evaluation-interval in seconds."""
    from .quantity import parse_duration

    try:
        ms = parse_duration(text)
    except ValueError as err:
        raise BadRequest(str(err)) from None
    if ms <= 0:
        raise BadRequest("--evaluation-interval must be more than 0s")
    return ms / 1000


def window_of(start: str | None, end: str | None, days: float | None, now: float) -> Window:
    """--from/--to, or the last --days (default 7) up to now; BadRequest when they clash."""
    if days is not None and start is not None:
        raise BadRequest("give either --from (and --to) or --days, not both")
    if days is not None and not (0 < days <= 366):
        raise BadRequest(f"--days wants a number of days above 0 and at most 366, got {days:g}")
    stop = parse_time(end, "--to") if end is not None else now
    begin = parse_time(start, "--from") if start is not None else stop - (days or 7) * 86_400
    if stop <= begin:
        raise BadRequest("--from must be before --to")
    if stop > now + 60:
        raise BadRequest("--to is in the future: there is no history to replay there yet")
    return Window(begin, stop)
