"""The backtest's tuning views on a week of the payments team's alerts: compare, incidents,
the HTML report, and bad incidents files (tests/incidents/<name>/{incidents.yaml,expected.txt})."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from slogen import conventions as c
from slogen.api import Options, load_model
from slogen.backtest_report import (
    compare,
    compare_json,
    compare_table,
    html_report,
    incidents_json,
    incidents_table,
    load_incidents,
    match_incidents,
    page_severities,
)
from slogen.errors import SpecError

from .backtest_entries import END, INCIDENTS_YAML, START, after, at, before
from .conftest import PLAN, REPO

CASES = Path(__file__).parent / "incidents"
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


@pytest.fixture
def incidents_file(tmp_path: Path) -> Path:
    path = tmp_path / "incidents.yaml"
    path.write_text(INCIDENTS_YAML)
    return path


def test_compare_counts_pages_and_tickets_per_week_on_both_sides() -> None:
    cmp = compare(before(), after(), START, END)
    assert [(cmp.per_week(s, page)) for s in ("before", "after") for page in (True, False)] == [5.0, 12.0, 5.0, 6.0]
    queue = next(r for r in cmp.rows if r.alert == "QueueDepth")
    assert (queue.before.firings, queue.after.firings) == (8, 2)
    assert (queue.before.firing_s, queue.after.firing_s) == (8 * 720, 2 * 720)
    lag = next(r for r in cmp.rows if r.alert == "LedgerLag")
    assert not lag.before.present and lag.after.firings == 1 and not lag.page


def test_firings_are_clipped_to_the_window_and_one_still_firing_runs_to_its_end() -> None:
    page = compare(before(), before(), START, END).rows[0]
    assert page.page and page.severity == c.SEVERITY_CRITICAL
    # 20m from the window's start, 44m, 4m, 43m, and 40m until the end
    assert page.before.firing_s == (20 + 44 + 4 + 43 + 40) * 60
    narrow = compare(before(), before(), at("11-18 00:00"), at("11-19 00:00"))
    assert next(r for r in narrow.rows if r.page).before.firings == 1  # only the outage's


def test_the_comparison_table_shows_each_alert_and_the_totals_side_by_side() -> None:
    text = compare_table(compare(before(), after(), START, END))
    lines = text.splitlines()
    assert lines[0] == '5 alerts over 1.0 weeks; every alert has owner="payments"'
    assert lines[1].split() == [
        "alert",
        "kind",
        "before/week",
        "after/week",
        "change",
        "firing",
        "before",
        "firing",
        "after",
    ]
    queue = next(line for line in lines if line.startswith("QueueDepth"))
    assert queue.split()[-6:] == ["ticket", "8.0", "2.0", "-6.0", "1h36m", "24m"]
    assert next(line for line in lines if line.startswith("LedgerLag")).split()[-6:] == [
        "ticket",
        "-",
        "1.0",
        "+1.0",
        "-",
        "42m",
    ]
    assert lines[2].split()[:2] == ['SLOErrorBudgetBurn{service="checkout",', 'severity="critical",']  # pages first
    assert lines[-2].split() == ["total", "pages", "5.0", "5.0", "0.0"]
    assert lines[-1].split() == ["total", "tickets", "12.0", "6.0", "-6.0"]


def test_pages_are_the_severities_the_specs_give_pages() -> None:
    shaped = compare(before(), after(), START, END, page_severities=frozenset({"warning"}))
    assert shaped.per_week("before", True) == 12.0  # warning is now what pages
    assert page_severities(load_model(Options(spec_dir=PLAN / "slo"))) == frozenset({c.SEVERITY_CRITICAL})


def test_the_comparison_as_json_names_both_sides_and_null_where_an_alert_does_not_exist() -> None:
    data = json.loads(json.dumps(compare_json(compare(before(), after(), START, END))))
    assert (data["start"], data["end"], data["weeks"]) == (START, END, 1.0)
    lag = next(a for a in data["alerts"] if a["alert"] == "LedgerLag")
    assert lag["before"] is None
    assert lag["after"] == {"firings": 1, "per_week": 1.0, "firing_seconds": 42 * 60}
    assert lag["labels"]["slo"] == "ledger-lag" and lag["page"] is False
    assert data["totals"] == {
        "pages_per_week": {"before": 5.0, "after": 5.0},
        "tickets_per_week": {"before": 12.0, "after": 6.0},
    }


def test_incidents_load_from_rfc3339_with_a_zone_or_unix_seconds(incidents_file: Path) -> None:
    found = load_incidents(incidents_file)
    assert [(i.name, i.start, i.end, i.service) for i in found] == [
        ("card processor outage", at("11-18 09:12"), at("11-18 10:00"), "checkout"),
        ("deploy 4512 regression", at("11-20 14:05"), at("11-20 14:40"), "checkout"),
        ("ledger replica lag", at("11-21 05:50"), at("11-21 06:30"), "ledger"),
        ("dns blip", at("11-22 10:00"), at("11-22 10:05"), ""),  # +01:00
    ]


def test_each_alert_catches_the_incidents_of_its_service_and_says_how_late(incidents_file: Path) -> None:
    report = match_incidents(before(), load_incidents(incidents_file), start=START, end=END)
    by_name = {(m.run.alert, m.run.severity): m for m in report.alerts}
    page = by_name[("SLOErrorBudgetBurn", "critical")]
    assert [(x.incident, x.delay_s) for x in page.caught] == [
        ("card processor outage", 360),
        ("deploy 4512 regression", 240),
    ]
    # the firing from before the window, the spike and the one still firing: noise
    assert [f.start for f in page.unmatched] == [START, at("11-19 03:00"), END - 2400]
    queue = by_name[("QueueDepth", "warning")]
    assert queue.caught == () and len(queue.unmatched) == 8  # ledger's incident fell between its flaps
    absent = by_name[("SLOMetricAbsent", "warning")]
    assert [(x.incident, x.delay_s) for x in absent.caught] == [("ledger replica lag", 600)]
    assert [i.name for i in report.missed()] == ["dns blip"]


def test_a_firing_that_began_before_the_incident_caught_it_already_firing(incidents_file: Path) -> None:
    lag = [e for e in after() if e["alert"] == "LedgerLag"]
    incidents = [i for i in load_incidents(incidents_file) if i.service == "ledger"]
    report = match_incidents(lag, incidents)  # the window defaults to what the data spans
    assert [(x.incident, x.delay_s) for x in report.alerts[0].caught] == [("ledger replica lag", 480)]
    early = [{**lag[0], "firings": [{"start": at("11-21 05:40"), "end": at("11-21 05:55")}]}]
    caught = match_incidents(early, incidents).alerts[0].caught
    assert caught[0].delay_s == -600
    assert "ledger replica lag (already firing)" in incidents_table(match_incidents(early, incidents))


def test_the_incidents_table_and_json_name_catches_delays_and_noise(incidents_file: Path) -> None:
    report = match_incidents(before(), load_incidents(incidents_file), start=START, end=END)
    text = incidents_table(report)
    page = next(line for line in text.splitlines() if 'severity="critical"' in line)
    assert "card processor outage (after 6m), deploy 4512 regression (after 4m)" in page
    assert page.rstrip().endswith("3 of 5")
    assert text.splitlines()[-1] == "incidents no alert caught: dns blip (2026-11-22 10:00 UTC)"
    data = incidents_json(report)
    entry = next(e for e in data if e["severity"] == "critical")
    assert entry["caught"] == [
        {"incident": "card processor outage", "delay_seconds": 360},
        {"incident": "deploy 4512 regression", "delay_seconds": 240},
    ]
    assert [f["incident"] for f in entry["firings"]] == [
        None,
        "card processor outage",
        None,
        "deploy 4512 regression",
        None,
    ]
    assert entry["firings"][-1]["end"] is None  # still firing: the null end


def _report(incidents_file: Path, entries: list[dict[str, object]] | None = None) -> str:
    return html_report(
        entries if entries is not None else before(),
        START,
        END,
        after=after(),
        incidents=load_incidents(incidents_file),
        title="payments: queue depth 5000 -> 8000",
    )


def test_the_html_report_draws_one_timeline_per_alert_with_incidents_and_figures(incidents_file: Path) -> None:
    html = _report(incidents_file)
    assert html.count('<section class="alert"') == 5 and html.count("<svg ") == 5
    assert '12.0 &rarr; <span class="better">6.0</span>' in html  # tickets per week
    assert "threshold 5000 \N{RIGHTWARDS ARROW} 8000 · for 10m · evaluated every 30s" in html
    assert "caught: card processor outage after 6m, deploy 4512 regression after 4m" in html
    assert "now: no such alert" in html  # LedgerLag exists only after the change
    # the legend; checkout's two alerts: its two incidents and the blip; ledger's three: one and the blip
    assert html.count('class="incident"') == 1 + 2 * 3 + 3 * 2
    queue = html[html.index("QueueDepth{") : html.index("</section>", html.index("QueueDepth{"))]
    assert queue.count('class="before"') == 8 and queue.count('class="after"') == 2


def test_the_html_report_is_self_contained_and_escapes_what_entries_carry(incidents_file: Path) -> None:
    hostile = before()
    hostile[0]["labels"] = {**hostile[0]["labels"], "pod": "</title><script>alert(1)</script>"}
    hostile[2]["labels"] = {**hostile[2]["labels"], "queue": 'inbound "priority" <b>&'}
    html = _report(incidents_file, hostile)
    assert "<script>alert(1)" not in html
    assert "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "queue=&quot;inbound \\&quot;priority\\&quot; &lt;b&gt;&amp;&quot;" in html
    assert html.count("<script>") == 1 and html.count("<style>") == 1
    assert not re.search(r"https?:|src=|href=|@import|url\(", html), "nothing to fetch at view time"
    assert "default-src 'none'" in html


def test_the_html_report_is_the_same_bytes_for_the_same_input_in_any_order(incidents_file: Path) -> None:
    first = _report(incidents_file)
    assert _report(incidents_file, list(reversed(before()))) == first
    assert "2026-11" in first and "generated at" not in first.lower()


@pytest.mark.parametrize("name", NAMES)
def test_a_bad_incidents_file_is_reported_with_file_line_and_field(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES / name)
    with pytest.raises(SpecError) as err:
        load_incidents(Path("incidents.yaml"))
    assert str(err.value) + "\n" == (CASES / name / "expected.txt").read_text()


def test_a_missing_incidents_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="nowhere.yaml: incidents file not found"):
        load_incidents(tmp_path / "nowhere.yaml")


def test_the_html_report_of_one_replay_has_one_row_per_alert_and_no_comparison() -> None:
    html = html_report(before(), START, END)
    assert html.count('<section class="alert"') == 4
    assert 'class="after"' not in html and "&rarr;" not in html and 'class="incident"' not in html
    assert "<title>slogen backtest</title>" in html
    assert '<div class="card"><b>5.0</b><span>pages per week</span></div>' in html


def test_the_readme_shows_what_the_tuning_views_print(incidents_file: Path) -> None:
    section = (
        (REPO / "README.md").read_text().split("### Tuning thresholds with backtest\n", 1)[1]
    )
    section = re.split(r"\n#{2,3} ", section, maxsplit=1)[0]  # up to the next heading, ## or ###
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.S)
    assert [text for kind, text in blocks if kind == "yaml"] == [INCIDENTS_YAML]
    printed = [text for kind, text in blocks if not kind]
    report = match_incidents(before(), load_incidents(incidents_file), start=START, end=END)
    assert printed == [compare_table(compare(before(), after(), START, END)) + "\n", incidents_table(report) + "\n"]
