"""The ledger of tests/cases/backtest, live: an exporter whose series follow three
scenarios on a clock that starts when it does, for the backtest's end-to-end proof.

- steady burn: 30% of ledger writes fail from the start to the end (the page tier at 10x
  a 1% budget and the ticket tier at 2x both fire, and are still firing at the end);
- short spike: reads jump from 1/s to 100/s, all failing, for 25 seconds, then run at
  2,000/s, all served: the 1m error ratio crosses 20% at once both ways (a slow ramp
  would make the moment it crosses depend on where evaluations fall), the 10s hold lets
  it fire once;
- flapping threshold: the queue depth crosses 100 and falls back three times: 30s above
  (fires after its 15s hold), 10s above (pending only, never fires), 35s above (fires).
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SPIKE = (60.0, 85.0)  # seconds after the start: reads at 100/s, every one fails
QUEUE_HIGH = ((30.0, 60.0), (70.0, 80.0), (100.0, 135.0))  # the queue is above 100
WRITES_PER_S, WRITE_ERRORS = 10.0, 0.3
READS_BEFORE, READS_SPIKE, READS_AFTER = 1.0, 100.0, 2000.0  # per second
LAST_CHANGE_S = 135.0  # after this nothing changes but the steady burn
LABELS = 'job="ledger",instance="ledger-0"'


def _overlap(t: float, span: tuple[float, float]) -> float:
    """Seconds of [0, t] inside span."""
    return max(0.0, min(t, span[1]) - span[0])


def metrics_at(t: float) -> str:
    """The exposition at `t` seconds after the start: counters are integrals of the rates."""
    failed_reads = READS_SPIKE * _overlap(t, SPIKE)
    served_reads = READS_BEFORE * min(t, SPIKE[0]) + READS_AFTER * max(0.0, t - SPIKE[1])
    queue = 150 if any(lo <= t < hi for lo, hi in QUEUE_HIGH) else 50
    lines = [
        f'ledger_writes_total{{{LABELS},outcome="ok"}} {WRITES_PER_S * (1 - WRITE_ERRORS) * t:.3f}',
        f'ledger_writes_total{{{LABELS},outcome="error"}} {WRITES_PER_S * WRITE_ERRORS * t:.3f}',
        f'ledger_reads_total{{{LABELS},outcome="ok"}} {served_reads:.3f}',
        f'ledger_reads_total{{{LABELS},outcome="error"}} {failed_reads:.3f}',
        f"ledger_queue_depth{{{LABELS}}} {queue}",
    ]
    return "\n".join(lines) + "\n"


@contextmanager
def ledger_exporter() -> Iterator[tuple[int, float]]:
    """Serve the scenarios on 127.0.0.1; yields the port and the start (unix seconds)."""
    start = time.time()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = metrics_at(time.time() - start).encode()
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
        yield int(server.server_address[1]), start
    finally:
        server.shutdown()
        server.server_close()


def openmetrics(matrix: list[dict[str, Any]]) -> str:
    """Samples Prometheus returned (`result` of a range-vector query) as OpenMetrics text
    for promtool's backfill: every family a gauge (samples are samples to the TSDB)."""
    families: dict[str, list[str]] = {}
    for series in sorted(matrix, key=lambda s: sorted(s["metric"].items())):
        labels = dict(series["metric"])
        name = labels.pop("__name__")
        inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        families.setdefault(name, []).extend(f"{name}{{{inner}}} {v} {t}" for t, v in series["values"])
    lines: list[str] = []
    for name in sorted(families):
        lines += [f"# TYPE {name} gauge", *families[name]]
    return "\n".join(lines) + "\n# EOF\n"
