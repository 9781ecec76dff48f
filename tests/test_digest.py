"""`slogen digest` against a real Prometheus over a backfilled day, into a real SMTP server."""

from __future__ import annotations

import email
import email.policy
import http.server
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from slogen.digest import incidents_from_series

from .conftest import PLAN, slogen
from .harness import backfill, free_port, prometheus, smtp_server

END = 1_790_000_040  # a fixed "now" (2026-09-21 14:14 UTC) so the email is deterministic
PLATFORM = 'owner="platform"'


def alerts_series(labels: str, start: float, minutes: int, state: str = "firing") -> str:
    return "".join(f'ALERTS{{alertstate="{state}",{labels}}} 1 {start + 60 * i:.0f}\n' for i in range(minutes))


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A day with two incidents (and what must be left out), in a real Prometheus."""
    work = tmp_path_factory.mktemp("digest")
    burn = f'alertname="SLOErrorBudgetBurn",{PLATFORM},service="api",severity="critical",slo="availability"'
    pool = f'alertname="PoolExhaustion",{PLATFORM},service="db",severity="critical",slo="pool-exhaustion"'
    pending = f'alertname="Memory",{PLATFORM},service="redis",severity="critical",slo="memory"'
    text = "# HELP ALERTS alerts\n# TYPE ALERTS gauge\n"
    text += alerts_series(burn, END - 10 * 3600, 30)  # incident 1: 30 minutes, ten hours ago
    text += alerts_series(pool, END - 3 * 3600, 20)  # incident 2: 20 minutes, three hours ago
    text += alerts_series(pending, END - 2 * 3600, 4, state="pending")  # never fired
    text += alerts_series(burn, END - 30 * 3600, 10)  # yesterday's: outside the 24 hours
    # promtool wants each series' samples together and in time order
    lines = sorted(text.splitlines()[2:], key=lambda line: (line.rsplit(" ", 2)[0], float(line.rsplit(" ", 1)[1])))
    backfill("# HELP ALERTS alerts\n# TYPE ALERTS gauge\n" + "\n".join(lines) + "\n", work / "data", work)
    with prometheus(work, data_dir=work / "data") as server:
        yield server.url


def read(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_of(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def test_the_digest_lists_each_incident_per_service_and_severity_with_links(day: str, tmp_path: Path) -> None:
    out = tmp_path / "summary.eml"
    result = slogen("digest", "--prometheus", day, "--at", str(END), "--out", str(out))
    assert result.returncode == 0, result.stderr
    message = read(out)
    assert message["Subject"] == "slogen daily summary: 2 incidents in 24h, 2 critical"
    assert message["To"] == "platform-team@example.com"  # the summary receiver of slo/alerting.yaml
    assert message["From"] == "alertmanager@example.com"
    plain, html = text_of(message)
    api_at = plain.index("api · critical")
    db_at = plain.index("db · critical")
    assert api_at < db_at
    assert "- SLOErrorBudgetBurn availability: 2026-09-21 04:14 UTC to 2026-09-21 04:44 UTC, 30m" in plain
    assert "- PoolExhaustion pool-exhaustion: 2026-09-21 11:14 UTC to 2026-09-21 11:34 UTC, 20m" in plain
    assert "runbook: docs/INCIDENT_RESPONSE_RUNBOOKS.md#p0-service-down-or-error-rate-above-5" in plain
    assert "dashboard: https://grafana.example.com/d/slo-api" in plain
    assert "Memory" not in plain  # pending only: it never fired
    assert plain.count("SLOErrorBudgetBurn") == 1  # yesterday's incident is out of the window
    assert '<a href="docs/INCIDENT_RESPONSE_RUNBOOKS.md#p1-elevated-latency">runbook</a>' in html
    assert '<a href="https://grafana.example.com/d/slo-db">dashboard</a>' in html


def test_the_digest_is_deterministic_for_a_given_end(day: str, tmp_path: Path) -> None:
    for name in ("a.eml", "b.eml"):
        assert slogen("digest", "--prometheus", day, "--at", str(END), "--out", str(tmp_path / name)).returncode == 0
    assert (tmp_path / "a.eml").read_bytes() == (tmp_path / "b.eml").read_bytes()


def test_the_digest_is_sent_through_smtp(day: str) -> None:
    with smtp_server() as (port, received):
        result = slogen("digest", "--prometheus", day, "--at", str(END), "--smtp", f"127.0.0.1:{port}")
    assert result.returncode == 0, result.stderr
    assert len(received) == 1
    assert received[0]["Subject"] == "slogen daily summary: 2 incidents in 24h, 2 critical"
    assert "sent to platform-team@example.com" in result.stdout


def test_a_quiet_day_says_so(day: str, tmp_path: Path) -> None:
    out = tmp_path / "quiet.eml"
    assert (
        slogen(
            "digest", "--prometheus", day, "--at", str(END - 11 * 3600), "--hours", "1", "--out", str(out)
        ).returncode
        == 0
    )
    message = read(out)
    assert message["Subject"] == "slogen daily summary: no incidents in 1h"
    assert "Nothing fired." in text_of(message)[0]


def test_a_prometheus_that_is_down_is_a_clear_error() -> None:
    port = free_port()
    result = slogen("digest", "--prometheus", f"http://127.0.0.1:{port}", "--at", str(END))
    assert result.returncode == 1
    assert result.stderr.startswith(f"slogen: cannot reach Prometheus at http://127.0.0.1:{port}:")
    assert "Traceback" not in result.stderr


def test_a_server_that_answers_garbage_is_a_clear_error() -> None:
    class Garbage(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hello, I am not Prometheus")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        result = slogen("digest", "--prometheus", url, "--at", str(END))
    finally:
        server.shutdown()
    assert result.returncode == 1
    assert "did not answer with Prometheus' JSON API (got b'hello, I am not Prometheus')" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("times", "runs"),
    [
        ([0, 60, 120], [(0, 180, False)]),
        ([0, 60, 120, 600, 660], [(0, 180, False), (600, 720, False)]),
        ([0, 60, 3540], [(0, 120, False), (3540, 3600, True)]),
    ],
)
def test_alerts_history_is_cut_into_incidents_at_gaps(times: list[int], runs: list[tuple[int, int, bool]]) -> None:
    series = [{"metric": {"alertname": "X", "alertstate": "firing"}, "values": [[t, "1"] for t in times]}]
    got = [(i.start, i.end, i.ongoing) for i in incidents_from_series(series, end=3600)]
    assert got == runs


def test_the_digest_reads_its_addresses_from_the_routing_file() -> None:
    assert "platform-team@example.com" in (PLAN / "slo/alerting.yaml").read_text()
