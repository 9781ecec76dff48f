"""Real servers on 127.0.0.1 for the tests: Debian's prometheus and alertmanager binaries
started on free ports with a temporary data folder, stopped and cleaned up afterwards.
A server that does not come up fails the test with its log."""

from __future__ import annotations

import contextlib
import email
import email.policy
import http.server
import json
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def binary(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError(f"none of {names} is installed: run `make test` (installs Debian's prometheus packages)")


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.load(response)

    def post(self, path: str, payload: Any) -> Any:
        request = urllib.request.Request(
            self.url + path, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            return json.loads(body) if body else None


def wait_until(condition: Any, timeout: float, what: str, server: Server | None = None, interval: float = 0.2) -> Any:
    """Poll `condition()` until it returns something truthy; fail with the server log."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = condition()
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = exc
        else:
            if last:
                return last
        if server is not None and server.process.poll() is not None:
            break
        time.sleep(interval)
    log = f"\n--- {server.name} log ---\n{server.logs()}" if server else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r}){log}")


def timestamp(rfc3339: str) -> float:
    """Seconds since the epoch of a time the servers' APIs write (`2026-01-01T00:00:00.123456789Z`)."""
    return datetime.fromisoformat(rfc3339).timestamp()


def rules_evaluated_after(prometheus: Server, since: float) -> bool:
    """Whether every rule group of this Prometheus has finished an evaluation that began
    after `since` (seconds since the epoch): a condition to wait for instead of a sleep."""
    groups = prometheus.get("/api/v1/rules")["data"]["groups"]
    return bool(groups) and all(timestamp(g["lastEvaluation"]) > since for g in groups)


@contextlib.contextmanager
def run_server(
    name: str, command: list[str], url: str, workdir: Path, ready_path: str = "/-/ready"
) -> Iterator[Server]:
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    server = Server(name, url, process, log)
    try:

        def ready() -> bool:
            with urllib.request.urlopen(url + ready_path, timeout=2) as response:
                return bool(response.status == 200)

        wait_until(ready, 30, f"{name} to be ready at {url}", server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def alertmanager(config: Path, workdir: Path) -> Iterator[Server]:
    port = free_port()
    data = workdir / "alertmanager-data"
    data.mkdir(exist_ok=True)
    command = [
        binary("prometheus-alertmanager", "alertmanager"),
        f"--config.file={config}",
        f"--storage.path={data}",
        f"--web.listen-address={LOOPBACK}:{port}",
        "--cluster.listen-address=",  # no gossip: a single instance on loopback
    ]
    with run_server("alertmanager", command, f"http://{LOOPBACK}:{port}", workdir) as server:
        yield server


def backfill(openmetrics: str, data_dir: Path, workdir: Path) -> None:
    """Write OpenMetrics text into TSDB blocks with promtool (one block, not thousands)."""
    source = workdir / "backfill.om"
    source.write_text(openmetrics if openmetrics.endswith("# EOF\n") else openmetrics + "# EOF\n")
    backfill_file(source, data_dir)


def backfill_file(source: Path, data_dir: Path) -> None:
    """promtool tsdb create-blocks-from openmetrics, with blocks as long as a month."""
    result = subprocess.run(
        [
            binary("promtool"),
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=744h",
            str(source),
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@contextlib.contextmanager
def prometheus(
    workdir: Path, config: dict[str, Any] | None = None, data_dir: Path | None = None, extra: list[str] | None = None
) -> Iterator[Server]:
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    data = data_dir or workdir / "prometheus-data"
    data.mkdir(exist_ok=True)
    config_file = workdir / "prometheus.yml"
    config_file.write_text(json.dumps(config or {"global": {"scrape_interval": "15s"}}))
    command = [
        binary("prometheus"),
        f"--config.file={config_file}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address={LOOPBACK}:{port}",
        "--storage.tsdb.retention.time=60d",
        *(extra or []),
    ]
    with run_server("prometheus", command, f"http://{LOOPBACK}:{port}", workdir) as server:
        yield server


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[int, list[EmailMessage]]]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it receives."""
    from aiosmtpd.controller import Controller

    received: list[EmailMessage] = []

    class Keep:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            received.append(message)
            return "250 OK"

    port = free_port()
    controller = Controller(Keep(), hostname=LOOPBACK, port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


# Chromium's flags that work here, as root, with nothing to reach: no sandbox (root), no
# GPU, no first-run, background networking or component updates (they would dial out).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # Every console message of the page, uncaught errors and Content Security Policy
    # refusals included, goes to stderr as `...:CONSOLE:<line>] "<text>", source: <url>`.
    # This build logs them all at INFO whatever their level, so a page under test must
    # log nothing: any console line is a failure.
    "--enable-logging=stderr",
    "--v=0",
)
_CONSOLE = re.compile(r':CONSOLE[:(]\d+\)?\] "(.*)", source: ')


@dataclass
class Rendered:
    dom: str  # the document after its scripts ran (--dump-dom)
    console: list[str]  # every console message, from both runs


def chromium(
    page: Path, workdir: Path, screenshot: Path, size: tuple[int, int] = (1280, 1400), fragment: str = ""
) -> Rendered:
    """Open a local file (at `#fragment` if given) in Debian's headless chromium, a fresh
    profile each run: once for the DOM after scripts, once for a screenshot. Both runs'
    console messages are kept."""
    exe = binary("chromium", "chromium-browser")
    console: list[str] = []
    outputs = []
    for i, action in enumerate(("--dump-dom", f"--screenshot={screenshot}")):
        profile = workdir / f"chromium-profile-{i}"
        args = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}", action]
        url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
        done = subprocess.run([*args, url], capture_output=True, timeout=180, check=False)
        stderr = done.stderr.decode(errors="replace")
        assert done.returncode == 0, f"chromium exited {done.returncode}:\n{stderr[-4000:]}"
        console += [m.group(1) for m in map(_CONSOLE.search, stderr.splitlines()) if m]
        outputs.append(done.stdout.decode(errors="replace"))
        shutil.rmtree(profile, ignore_errors=True)
    assert screenshot.is_file(), f"chromium wrote no screenshot at {screenshot}"
    return Rendered(outputs[0], console)


def artifacts(name: str) -> Path:
    """A folder for what a person looks at after a run (screenshots): build/artifacts/<name>,
    git-ignored, emptied first."""
    folder = Path(__file__).resolve().parent.parent / "build" / "artifacts" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@contextlib.contextmanager
def counter_exporter(rates: dict[str, float]) -> Iterator[int]:
    """Serve counters on 127.0.0.1 that grow at steady rates ({'name{labels}': per second}),
    for Prometheus to scrape; yields the port. Enough for recorded SLIs to have data."""
    start = time.time()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
            elapsed = time.time() - start
            body = "".join(f"{series} {rate * elapsed:.3f}\n" for series, rate in rates.items()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def backfill_rules(rule_files: list[Path], data_dir: Path, workdir: Path, start: float, end: float, depth: int) -> None:
    """Record rules over a backfilled history, as if Prometheus had evaluated them all along:
    `promtool tsdb create-blocks-from rules` against a Prometheus on `data_dir`, its blocks
    moved into `data_dir`. promtool reads only stored series, so a rule that reads another
    rule's recording needs that recording backfilled first: `depth` passes, one per level
    of the deepest chain (each pass re-records the levels below it, with the same values).
    One promtool per rule file: given several files at once, promtool 2.42 was seen to
    drop the samples of some groups' multi-series rules. The groups' own intervals apply;
    groups without one are evaluated every 30s."""
    for level in range(depth):
        with prometheus(workdir / f"backfill-{level}", data_dir=data_dir) as server:
            for index, rule_file in enumerate(rule_files):
                blocks = workdir / f"rule-blocks-{level}-{index}"
                result = subprocess.run(
                    [
                        binary("promtool"),
                        "tsdb",
                        "create-blocks-from",
                        "rules",
                        "--quiet",
                        f"--url={server.url}",
                        f"--start={int(start)}",
                        f"--end={int(end)}",
                        "--eval-interval=30s",
                        f"--output-dir={blocks}",
                        str(rule_file),
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                assert result.returncode == 0, result.stdout + result.stderr
        for blocks in sorted(workdir.glob(f"rule-blocks-{level}-*")):
            for block in blocks.iterdir():
                if block.is_dir():
                    shutil.move(str(block), str(data_dir / block.name))
