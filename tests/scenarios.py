"""Incident scenarios for the launch plan's series: hours of history (backfilled) that
continue live (served by a small exporter), so that rates at "now" see both.

Every series carries job and instance="exporter" labels; Prometheus scrapes the exporter
with honor_labels, so the live samples extend the backfilled series themselves.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]

INSTANCE = "exporter"
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.4, 0.5, 1, 2.5)
DB_BUCKETS = (0.05, 0.1, 0.15, 0.25, 0.5, 1)
STEP = 30  # seconds between backfilled samples


@dataclass(frozen=True)
class State:
    """What the system does at one moment (per second rates, shares, gauges)."""

    api_rps: float = 100.0
    error_ratio: float = 0.0  # share of 5xx, on every route
    slow_reads: float = 0.0  # share of GET requests served in (0.4s, 0.5s]
    db_qps: float = 50.0
    slow_queries: float = 0.0  # share of hot-path queries in (0.15s, 0.25s]
    pool_in_use: float = 20.0  # of 100 connections
    redis_used: float = 0.5  # share of maxmemory
    hit_ratio: tuple[tuple[str, float], ...] = (("job_read", 0.95), ("project_list", 0.95))


@dataclass(frozen=True)
class Scenario:
    name: str
    history_s: int
    base: Any  # a State of the plan, or of the spec the scenario is for
    incident: Any = None  # in force for the last `incident_s` seconds and live
    incident_s: int = 0
    expected: tuple[dict[str, str], ...] = ()  # exactly the alerts that must be firing
    pending_since_s: dict[str, int] = field(default_factory=dict)  # alertname -> for-state age
    # the series of another team's spec (tests/scenarios_storefront.py); None: the plan's
    counters: Callable[[Any], Series] | None = None  # state -> counter rates per second
    levels: Callable[[Any], Series] | None = None  # state -> gauge values

    def rates(self, state: Any) -> Series:
        return (self.counters or counter_rates)(state)

    def gauges(self, state: Any) -> Series:
        return (self.levels or gauges)(state)

    def state(self, offset_s: float) -> Any:
        """The state at `offset_s` seconds from now (negative: the past)."""
        if self.incident is not None and offset_s >= -self.incident_s:
            return self.incident
        return self.base


def _labels(**labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({**labels, "instance": INSTANCE}.items()))


def counter_rates(state: State) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every counter of the plan and its rate per second in this state."""
    rates: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    routes = (("GET", "/projects", state.slow_reads), ("POST", "/jobs", 0.0))
    for method, route, slow in routes:
        rps = state.api_rps / len(routes)
        for status, share in (("200", 1 - state.error_ratio), ("500", state.error_ratio)):
            rates[("http_requests_total", _labels(job="api", method=method, route=route, status=status))] = rps * share
        for le in (*LATENCY_BUCKETS, "+Inf"):
            under = rps * (1 - slow) if le != "+Inf" and float(le) < 0.5 else rps
            if le != "+Inf" and float(le) < 0.1:
                under = 0.0
            rates[
                ("http_request_duration_seconds_bucket", _labels(job="api", method=method, route=route, le=_le(le)))
            ] = under
    for le in (*DB_BUCKETS, "+Inf"):
        fast = state.db_qps * (1 - state.slow_queries)
        under = (
            0.0 if le != "+Inf" and float(le) < 0.05 else fast if le != "+Inf" and float(le) < 0.25 else state.db_qps
        )
        rates[("db_query_duration_seconds_bucket", _labels(job="api", query_group="users_by_email", le=_le(le)))] = (
            under
        )
    for cache, hit in state.hit_ratio:
        rates[("cache_hit_total", _labels(job="api", cache=cache))] = 40 * hit
        rates[("cache_miss_total", _labels(job="api", cache=cache))] = 40 * (1 - hit)
    return rates


def gauges(state: State) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        ("db_pool_in_use_connections", _labels(job="api")): state.pool_in_use,
        ("db_pool_max_connections", _labels(job="api")): 100.0,
        ("redis_used_memory_bytes", _labels(job="redis")): state.redis_used * 4e9,
        ("redis_max_memory_bytes", _labels(job="redis")): 4e9,
    }


def _le(value: float | str) -> str:
    return value if isinstance(value, str) else (str(int(value)) if float(value).is_integer() else str(value))


def _series(name: str, labels: tuple[tuple[str, str], ...]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels)
    return f"{name}{{{inner}}}"


class Timeline:
    """Counter values over time: the integral of the scenario's rates."""

    def __init__(self, scenario: Scenario, now: float) -> None:
        self.scenario = scenario
        self.now = now
        self.start = now - scenario.history_s
        self.values: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

    def backfill(self) -> str:
        """OpenMetrics text of the history, one series after the other, up to now."""
        samples: dict[tuple[str, tuple[tuple[str, str], ...]], list[str]] = {}
        t = self.start
        while t <= self.now:
            state = self.scenario.state(t - self.now)
            for key, rate in self.scenario.rates(state).items():
                self.values[key] = self.values.get(key, 0.0) + (rate * STEP if t > self.start else 0.0)
                samples.setdefault(key, []).append(f"{_series(*key)} {self.values[key]:.3f} {t:.0f}")
            for key, value in self.scenario.gauges(state).items():
                samples.setdefault(key, []).append(f"{_series(*key)} {value:g} {t:.0f}")
            t += STEP
        self.last = t - STEP
        lines: list[str] = []
        # Every family is written as a gauge: samples are samples to the TSDB, and
        # OpenMetrics' counter type would want the _total suffix in every name.
        for name in sorted({name for name, _ in samples}):
            lines.append(f"# TYPE {name} gauge")
            for key in sorted(k for k in samples if k[0] == name):
                lines.extend(samples[key])
        lines.extend(self.for_state())
        return "\n".join(lines) + "\n# EOF\n"

    def for_state(self) -> list[str]:
        """ALERTS_FOR_STATE, as a Prometheus running through the incident would have
        persisted it: only the wait of `for` is skipped; the rule must still hold."""
        lines = []
        for labels in self.scenario.expected:
            since = self.scenario.pending_since_s.get(labels["alertname"])
            if since is None:
                continue
            active_at = self.now - since
            key = tuple(sorted(labels.items()))
            t = active_at
            while t <= self.last:
                lines.append(f"{_series('ALERTS_FOR_STATE', key)} {active_at:.0f} {t:.0f}")
                t += STEP
        return ["# TYPE ALERTS_FOR_STATE gauge", *lines] if lines else []

    def live_text(self, at: float) -> str:
        """The exporter's /metrics at wall time `at`: counters continue from the history."""
        state = self.scenario.state(at - self.now)
        lines = []
        for key, rate in sorted(self.scenario.rates(state).items()):
            lines.append(f"{_series(*key)} {self.values.get(key, 0.0) + rate * max(0.0, at - self.last):.3f}")
        for key, value in sorted(self.scenario.gauges(state).items()):
            lines.append(f"{_series(*key)} {value:g}")
        return "\n".join(lines) + "\n"


@contextmanager
def exporter(timeline: Timeline, gate: threading.Event | None = None) -> Iterator[int]:
    """Serve the timeline live; with a gate, answer 503 (a target that is down) until it is set."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if gate is not None and not gate.is_set():
                self.send_response(503)
                self.end_headers()
                return
            body = timeline.live_text(time.time()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def alert(alertname: str, service: str, slo: str, severity: str, **extra: str) -> dict[str, str]:
    return {"alertname": alertname, "owner": "platform", "service": service, "slo": slo, "severity": severity, **extra}


HEALTHY = State()
BURN = "SLOErrorBudgetBurn"

SCENARIOS = [
    Scenario("healthy traffic", 4 * 3600, HEALTHY),
    Scenario(
        "a total outage of the last 20 minutes",
        4 * 3600,
        HEALTHY,
        replace(HEALTHY, error_ratio=1.0),
        20 * 60,
        expected=(
            alert(BURN, "api", "availability", "critical"),
            alert(BURN, "api", "availability", "warning"),
            alert("ErrorRate", "api", "error-rate", "critical"),
            alert("ErrorRate", "api", "error-rate", "warning"),
        ),
        pending_since_s={"ErrorRate": 18 * 60},
    ),
    Scenario(
        "a steady 0.5% of 5xx over a day",
        26 * 3600,
        replace(HEALTHY, error_ratio=0.005),
        expected=(alert(BURN, "api", "availability", "warning"),),
    ),
    Scenario(
        "a slow read path for the last hour",
        4 * 3600,
        HEALTHY,
        replace(HEALTHY, slow_reads=0.4),
        3600,
        expected=(
            alert(BURN, "api", "read-latency-p95", "critical"),
            alert(BURN, "api", "read-latency-p95", "warning"),
            alert("LatencyP95", "api", "latency-p95", "warning", route="/projects"),
        ),
        pending_since_s={"LatencyP95": 50 * 60},
    ),
    Scenario(
        "a DB pool at 95% for ten minutes",
        4 * 3600,
        HEALTHY,
        replace(HEALTHY, pool_in_use=95.0),
        600,
        expected=(alert("PoolExhaustion", "db", "pool-exhaustion", "critical", job="api", instance=INSTANCE),),
        pending_since_s={"PoolExhaustion": 9 * 60},
    ),
]
