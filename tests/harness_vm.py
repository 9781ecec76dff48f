"""VictoriaMetrics and vmalert on 127.0.0.1 for the tests, beside tests/harness.py's
Prometheus and Alertmanager: Debian's `victoria-metrics` binaries (the package's service is
not used) started on free ports with a temporary data folder, stopped afterwards."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .harness import LOOPBACK, Server, free_port, run_server, timestamp

INSTALL = "run `make test` (installs Debian's victoria-metrics package) or `apt-get install victoria-metrics`"
# A sample line of the OpenMetrics text tests/scenarios.py writes: series, value, seconds.
_SAMPLE = re.compile(r"^(\S+) (\S+) (\d+)$")
IMPORT_LINES = 20_000  # per request: well under VictoriaMetrics' 32MB -maxInsertRequestSize


def vm_binary(name: str) -> str:
    """The binary, or a failure that says how to install it (never a skip)."""
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} is not installed: {INSTALL}")
    return path


@contextlib.contextmanager
def victoria_metrics(workdir: Path, scrape: dict[str, Any] | None = None) -> Iterator[Server]:
    """Single-node VictoriaMetrics; with `scrape`, a -promscrape.config of its own.
    Freshly written samples must be visible at once, as they are in Prometheus: no
    latency offset (30s by default) and no cache of rollup results over them."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        vm_binary("victoria-metrics"),
        f"-storageDataPath={workdir / 'vm-data'}",
        f"-httpListenAddr={LOOPBACK}:{port}",
        "-retentionPeriod=100y",
        "-search.latencyOffset=0s",
        "-search.disableCache",
        "-loggerLevel=WARN",
    ]
    if scrape is not None:
        config = workdir / "promscrape.yml"
        config.write_text(json.dumps(scrape))
        command.append(f"-promscrape.config={config}")
    with run_server("victoria-metrics", command, f"http://{LOOPBACK}:{port}", workdir, "/health") as server:
        yield server


def import_openmetrics(vm: Server, openmetrics: str) -> None:
    """Write the history through /api/v1/import/prometheus (Prometheus text with
    timestamps, in milliseconds there), then flush so that queries see it at once."""
    lines = []
    for line in openmetrics.splitlines():
        match = _SAMPLE.match(line)
        if match:
            lines.append(f"{match[1]} {match[2]} {match[3]}000")
        else:
            assert line.startswith("#") or not line, f"not a sample line: {line!r}"
    for start in range(0, len(lines), IMPORT_LINES):
        body = ("\n".join(lines[start : start + IMPORT_LINES]) + "\n").encode()
        request = urllib.request.Request(vm.url + "/api/v1/import/prometheus", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 204, response.read()
    flush(vm)


def flush(vm: Server) -> None:
    """Make every sample VictoriaMetrics has received searchable now (not within a second)."""
    with urllib.request.urlopen(vm.url + "/internal/force_flush", timeout=30) as response:
        assert response.status == 200


@contextlib.contextmanager
def vmalert(workdir: Path, rules: Path, vm: Server, notifier: str, interval: str = "1s") -> Iterator[Server]:
    """vmalert on the rule files in `rules`, reading from, writing its recordings and
    alert states to, and restoring `for` states from the same VictoriaMetrics."""
    port = free_port()
    command = [
        vm_binary("vmalert"),
        f"-rule={rules}/*.yaml",
        f"-httpListenAddr={LOOPBACK}:{port}",
        f"-datasource.url={vm.url}",
        f"-remoteWrite.url={vm.url}",
        f"-remoteRead.url={vm.url}",
        f"-notifier.url={notifier}",
        f"-evaluationInterval={interval}",
        "-remoteWrite.flushInterval=200ms",  # recordings are read back by the next group
        "-rule.resendDelay=1s",
        # Prometheus adds no alertgroup label: without this flag every alert would carry one
        "-disableAlertgroupLabel",
        "-loggerLevel=WARN",
    ]
    with run_server("vmalert", command, f"http://{LOOPBACK}:{port}", workdir, "/health") as server:
        yield server


def vmalert_evaluated_after(server: Server, since: float) -> bool:
    """Whether every rule of this vmalert has finished an evaluation that began after
    `since` (seconds since the epoch)."""
    groups = server.get("/api/v1/rules")["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    return bool(rules) and all(timestamp(r["lastEvaluation"]) > since for r in rules)


def vmalert_alerts(server: Server) -> list[dict[str, str]]:
    """Every alert vmalert has, pending or firing, as label dicts with a state."""
    data = server.get("/api/v1/alerts")["data"]["alerts"] or []  # null when there are none
    return [{**a["labels"], "state": a["state"]} for a in data]


@contextlib.contextmanager
def notifier_sink() -> Iterator[str]:
    """An HTTP server that answers every POST with 200, as an Alertmanager would."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
