"""The HTML slogen writes for people, opened in a real browser (Debian's headless chromium):
the backtest's report and the digest email. Each must render with no console message at
all (errors, refused loads), and leaves a screenshot under build/artifacts/ to look at.
The check itself is proven: a planted script error and a planted network load fail it."""

from __future__ import annotations

import re
import struct
from email.message import EmailMessage
from pathlib import Path

import pytest

from slogen.backtest_report import html_report, load_incidents
from slogen.digest import Digest, Incident, build_email

from .backtest_entries import END, INCIDENTS_YAML, START, after, before
from .harness import Rendered, artifacts, chromium

pytestmark = pytest.mark.e2e
SIZE = (1280, 1400)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def report(tmp_path: Path) -> str:
    incidents = tmp_path / "incidents.yaml"
    incidents.write_text(INCIDENTS_YAML)
    title = "payments: queue depth 5000 -> 8000"
    return html_report(before(), START, END, after=after(), incidents=load_incidents(incidents), title=title)


def open_page(html: str, tmp_path: Path, artifact: str, fragment: str = "") -> tuple[Rendered, Path]:
    page = tmp_path / "page.html"
    page.write_text(html, encoding="utf-8")
    shot = artifacts(artifact) / "screenshot.png"
    rendered = chromium(page, tmp_path, shot, SIZE, fragment)
    print(f"screenshot: {shot}")  # shown with -s or on failure: look at it
    return rendered, shot


def test_the_backtest_report_renders_in_chromium_with_no_console_message(tmp_path: Path) -> None:
    rendered, shot = open_page(report(tmp_path), tmp_path, "backtest-report")
    assert rendered.console == []
    assert 'data-ready="yes"' in rendered.dom  # its script ran to the end
    assert rendered.dom.count('<section class="alert"') == 5
    assert png_size(shot) == SIZE


def plant_script_error(html: str) -> str:
    """The report's own script calls what does not exist. The policy admits that script by
    its hash: it is lifted, so the changed script runs and fails rather than being refused."""
    policy = html.index('<meta http-equiv="Content-Security-Policy"')
    html = html[:policy] + html[html.index(">", policy) + 1 :]
    return html.replace("const box = ", "const box = missingFunction() || ")


def plant_network_load(html: str) -> str:
    """An image from the network: the policy must refuse it, and say so."""
    return html.replace("<body>", '<body><img alt="" src="http://127.0.0.1:9/pixel.png">')


PLANTED = {
    "script-error": (plant_script_error, "Uncaught ReferenceError: missingFunction is not defined"),
    "network-load": (plant_network_load, "violates the following Content Security Policy directive"),
}


def test_a_link_to_the_report_at_an_alerts_name_shows_that_alert_alone(tmp_path: Path) -> None:
    rendered, _ = open_page(report(tmp_path), tmp_path, "backtest-report-filtered", fragment="QueueDepth")
    assert rendered.console == []
    shown = re.findall(r'<section class="alert" data-name="([^"]*)"', rendered.dom)
    hidden = re.findall(r'<section class="alert hidden" data-name="([^"]*)"', rendered.dom)
    assert [name.split("{")[0] for name in shown] == ["QueueDepth"]
    assert len(hidden) == 4


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_the_console_check_catches_a_planted_fault(name: str, tmp_path: Path) -> None:
    plant, said = PLANTED[name]
    html = report(tmp_path)
    planted = plant(html)
    assert planted != html, f"could not plant {name}"
    rendered, _ = open_page(planted, tmp_path, f"planted-{name}")
    assert any(said in line for line in rendered.console), rendered.console


def digest_email() -> EmailMessage:
    critical = (("alertname", "SLOErrorBudgetBurn"), ("service", "checkout"), ("severity", "critical"))
    warning = (("alertname", "QueueDepth"), ("queue", "<b>inbound</b>"), ("service", "ledger"), ("severity", "warning"))
    digest = Digest(START, START + 86_400)
    digest.incidents += [
        Incident((*critical, ("slo", "charge-success")), START + 3600, START + 5400, False, "https://runbooks/x"),
        Incident((*warning, ("slo", "queue-depth")), START + 7200, START + 86_400, True),
    ]
    return build_email(digest, "slogen@example.com", "payments@example.com")


def test_the_digest_email_renders_in_chromium_with_no_console_message(tmp_path: Path) -> None:
    part = digest_email().get_body(("html",))
    assert part is not None
    rendered, shot = open_page(part.get_content(), tmp_path, "digest-email")
    assert rendered.console == []
    assert "SLOErrorBudgetBurn" in rendered.dom and "&lt;b&gt;inbound&lt;/b&gt;" in rendered.dom
    assert png_size(shot) == SIZE
