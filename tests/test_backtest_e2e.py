"""`slogen backtest` against Prometheus itself. A real Prometheus scrapes the ledger's
three scenarios (tests/ledger_live.py) and evaluates the generated rules live; what it
scraped is then backfilled with promtool into a second Prometheus that runs no rules,
and the backtest's firings over that history must match the live ALERTS: same alerts,
same label sets, each start and end within one evaluation interval (plus one scrape: a
live evaluation may run before the scrape of that second is stored).

Run alone with `make e2e`; it takes about three minutes (the scenarios run in real time)."""

from __future__ import annotations

import json
import shutil
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slogen import api
from slogen.backtest_rules import replayed_alerts

from .conftest import REPO, slogen
from .harness import LOOPBACK, Server, backfill, free_port, prometheus, timestamp, wait_until
from .ledger_live import LAST_CHANGE_S, SPIKE, ledger_exporter, openmetrics

pytestmark = pytest.mark.e2e
CASE = REPO / "tests" / "cases" / "backtest"
INTERVAL_S = 5.0  # the live Prometheus' evaluation_interval (of the groups that set none)
SCRAPE_S = 1.0
TO_S = LAST_CHANGE_S + 35  # the window ends well after the last change: no edge at its end

Key = tuple[tuple[str, str], ...]
Firing = tuple[float, float | None]


def _query(server: Server, expr: str, at: float) -> list[dict[str, Any]]:
    params = urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}"})
    data = server.get(f"/api/v1/query?{params}")["data"]
    assert data["resultType"] == "matrix", data
    result: list[dict[str, Any]] = data["result"]
    return result


def intervals() -> dict[tuple[str, str], float]:
    """(alertname, severity) -> the evaluation interval of its group: pages every
    INTERVAL_S, tickets and the absent-data alert in the SLO's period group (2m30s)."""
    model = api.load_model(api.Options(spec_dir=CASE / "slo"))
    return {(a.alert, a.labels["severity"]): a.interval_s for a in replayed_alerts(model, INTERVAL_S)}


def interval_of(key: Key) -> float:
    labels = dict(key)
    return intervals()[(labels["alertname"], labels["severity"])]


def live_firings(server: Server, start: float, end: float) -> dict[Key, list[Firing]]:
    """From ALERTS{alertstate="firing"}: one sample per evaluation of the alert's group
    while firing, so a firing runs from its first sample to the evaluation after its last
    (None: still on)."""
    out: dict[Key, list[Firing]] = {}
    for series in _query(server, f'ALERTS{{alertstate="firing"}}[{int(end - start) + 30}s]', end):
        labels = {k: v for k, v in series["metric"].items() if k not in ("__name__", "alertstate")}
        key = tuple(sorted(labels.items()))
        step = interval_of(key)
        runs: list[list[float]] = []
        for t, _ in series["values"]:
            if runs and float(t) - runs[-1][1] <= step * 1.5:
                runs[-1][1] = float(t)
            else:
                runs.append([float(t), float(t)])
        out[key] = [(a, b + step if b + step <= end else None) for a, b in runs]
    return out


def _alerts_evaluated_after(server: Server, since: float) -> bool:
    """Whether every group holding an alert (not the 30m sums) has run an evaluation begun
    after `since`."""
    groups = [g for g in server.get("/api/v1/rules")["data"]["groups"] if any(r["type"] == "alerting" for r in g["rules"])]
    return bool(groups) and all(timestamp(g["lastEvaluation"]) > since for g in groups)


def _write_rules(target: Path) -> Path:
    tree = api.build_tree(api.load_model(api.Options(spec_dir=CASE / "slo")))
    for rel, data in tree.items():
        if rel.startswith("prometheus/rules/"):
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return target / "prometheus" / "rules"


class Replayed:
    def __init__(
        self, server: Server, start: float, end: float, live: dict[Key, list[Firing]], states: dict[tuple[str, str], str]
    ) -> None:
        self.server, self.start, self.end, self.live, self.states = server, start, end, live, states


def _states(server: Server) -> dict[tuple[str, str], str]:
    """(alertname, severity) -> the rule's state in the rules API (firing, pending, inactive)."""
    return {
        (r["name"], r["labels"]["severity"]): r["state"]
        for g in server.get("/api/v1/rules")["data"]["groups"]
        for r in g["rules"]
        if r["type"] == "alerting"
    }


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replayed]:
    work = tmp_path_factory.mktemp("backtest-live")
    rules = _write_rules(work)
    with ledger_exporter() as (port, start):
        config = {
            "global": {"scrape_interval": f"{SCRAPE_S:g}s", "evaluation_interval": f"{INTERVAL_S:g}s"},
            "rule_files": [str(rules / "*.yaml")],
            "scrape_configs": [
                {"job_name": "ledger", "honor_labels": True, "static_configs": [{"targets": [f"{LOOPBACK}:{port}"]}]}
            ],
        }
        with prometheus(work / "live", config) as live:
            end = start + TO_S
            # every alerting group evaluated past the end of the window: its ALERTS are stored
            wait_until(
                lambda: time.time() > end and _alerts_evaluated_after(live, end), TO_S + 240, "the scenarios", live
            )
            firings = live_firings(live, start, end)
            states = _states(live)
            history = _query(live, f'{{job="ledger"}}[{int(TO_S) + 30}s]', end)
    backfill(openmetrics(history), work / "history", work)
    with prometheus(work / "replay", data_dir=work / "history") as server:
        yield Replayed(server, start, end, firings, states)


def _backtest(r: Replayed, *extra: str) -> Any:
    result = slogen(
        "backtest",
        "--spec",
        str(CASE / "slo"),
        "--prometheus",
        r.server.url,
        "--from",
        f"{r.start:.3f}",
        "--to",
        f"{r.end:.3f}",
        "--evaluation-interval",
        f"{INTERVAL_S:g}s",
        *extra,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_backtest_matches_what_prometheus_fired_live(replayed: Replayed) -> None:
    entries = json.loads(_backtest(replayed, "--format", "json"))
    got = {
        tuple(sorted({**e["labels"], "alertname": e["alert"]}.items())): [(f["start"], f["end"]) for f in e["firings"]]
        for e in entries
    }
    # Prometheus writes a group's ALERTS only once it has restored `for` states, after the
    # group's second evaluation (rules/manager.go, Group.run): for the period group (every
    # 2m30s: the ticket, the absent-data alert) that is minutes after the live start, past
    # this window. Those alerts are compared by their state at the window's end, from the
    # rules API; the groups evaluated every INTERVAL_S (the page, the threshold alerts: the
    # three scenarios) firing by firing.
    slow = {key for key in got if interval_of(key) > INTERVAL_S}
    for key in slow:
        labels = dict(key)
        live_state = replayed.states[(labels["alertname"], labels["severity"])]
        assert (got[key][-1][1] is None) == (live_state == "firing"), (key, got[key], live_state)
    assert sorted(set(got) - slow) == sorted(replayed.live), (sorted(got), sorted(replayed.live))
    deltas = []
    for key, live in replayed.live.items():
        assert len(got[key]) == len(live), (key, got[key], live)
        for (s, e), (ls, le) in zip(got[key], live, strict=True):
            assert (e is None) == (le is None), (key, got[key], live)
            # within one evaluation interval of the alert's group (plus one scrape: a live
            # evaluation may run before that second's scrape is stored)
            tolerance = INTERVAL_S + SCRAPE_S
            deltas += [(s - ls) / tolerance] + ([(e - le) / tolerance] if e is not None and le is not None else [])
    print(f"backtest - live, start and end of each firing (in tolerances): {[round(d, 3) for d in deltas]}")
    assert max(abs(d) for d in deltas) <= 1, (got, replayed.live)


def test_each_scenario_is_exercised(replayed: Replayed) -> None:
    """The comparison above means something: every scenario fired as designed."""
    by = {(e["alert"], e["severity"]): e for e in json.loads(_backtest(replayed, "--format", "json"))}
    page, ticket = by[("SLOErrorBudgetBurn", "critical")], by[("SLOErrorBudgetBurn", "warning")]
    # steady burn, from the start: fires once and is still firing at the end (the page
    # after its 20s hold; the ticket from the period group, at its first evaluation)
    assert [f["end"] for f in page["firings"]] == [None] and [f["end"] for f in ticket["firings"]] == [None]
    assert page["firings"][0]["start"] - replayed.start >= 20 - INTERVAL_S
    assert page["kind"] == "burn" and page["for"] == 20 and page["interval"] == 5 and page["threshold"] is None
    assert ticket["interval"] == 150 and ticket["firings"][0]["start"] - replayed.start <= 150 + INTERVAL_S
    # short spike: one firing, over within the window
    spike = by[("ReadErrors", "critical")]
    assert len(spike["firings"]) == 1 and spike["firings"][0]["end"] is not None
    assert spike["kind"] == "threshold" and spike["threshold"] == 0.2
    # flapping threshold: three crossings, the 10s one shorter than the 15s hold
    queue = by[("QueueDepth", "warning")]
    assert len(queue["firings"]) == 2, queue
    assert queue["labels"]["instance"] == "ledger-0"
    assert ("SLOMetricAbsent", "warning") not in by


def test_the_table_sums_up_each_alert(replayed: Replayed) -> None:
    text = _backtest(replayed)
    print(text)
    lines = text.splitlines()
    assert lines[0].split() == ["ALERT", "SEVERITY", "LABELS", "FIRINGS", "FIRING", "PER", "WEEK", "MEDIAN", "LONGEST"]
    queue = next(line for line in lines if line.startswith("QueueDepth"))
    assert queue.split()[3] == "2"


def test_a_service_not_in_the_spec_is_bad_input(replayed: Replayed) -> None:
    result = slogen("backtest", "--spec", str(CASE / "slo"), "--prometheus", replayed.server.url, "--service", "nope")
    assert result.returncode == 2
    assert result.stderr == f"slogen backtest: no service 'nope' in {CASE / 'slo'} (it has: ledger)\n"


def test_an_empty_prometheus_is_no_data_not_a_quiet_week(tmp_path: Path) -> None:
    with prometheus(tmp_path) as empty:
        result = slogen("backtest", "--spec", str(CASE / "slo"), "--prometheus", empty.url, "--days", "1")
    assert result.returncode == 3, result.stderr
    assert "holds no samples of" in result.stderr and "nothing to replay" in result.stderr
    assert result.stdout == ""


def test_a_prometheus_that_is_down_exits_3() -> None:
    url = f"http://{LOOPBACK}:{free_port()}"
    result = slogen("backtest", "--spec", str(CASE / "slo"), "--prometheus", url)
    assert result.returncode == 3
    assert result.stderr.startswith(f"slogen backtest: {url}: cannot reach Prometheus")


def test_compare_incidents_and_html_on_the_same_history(replayed: Replayed, tmp_path: Path) -> None:
    """The tuning views wired into the command: a tuned copy of the spec (the queue depth's
    level raised out of reach) replayed over the same history, and a known incident (the
    read spike) matched, in each format."""
    tuned = tmp_path / "slo-tuned"
    shutil.copytree(CASE / "slo", tuned)
    ledger = tuned / "ledger.yaml"
    text = ledger.read_text()
    assert "warning: {above: 100, for: 15s}" in text
    ledger.write_text(text.replace("warning: {above: 100, for: 15s}", "warning: {above: 1000000, for: 15s}"))
    incidents = tmp_path / "incidents.yaml"
    spike_start, spike_end = replayed.start + SPIKE[0] - 5, replayed.start + SPIKE[1] + 5
    incidents.write_text(f"incidents:\n  - {{name: read spike, start: {spike_start:.0f}, end: {spike_end:.0f}}}\n")

    compared = json.loads(_backtest(replayed, "--compare", str(tuned), "--format", "json"))
    queue = [a for a in compared["alerts"] if a["alert"] == "QueueDepth"]
    assert len(queue) == 1 and queue[0]["before"]["firings"] == 2 and queue[0]["after"] is None
    tickets = compared["totals"]["tickets_per_week"]
    assert tickets["after"] < tickets["before"]

    caught = json.loads(_backtest(replayed, "--incidents", str(incidents), "--format", "json"))
    spike = next(e for e in caught if e["alert"] == "ReadErrors")
    assert [c["incident"] for c in spike["caught"]] == ["read spike"]

    both = _backtest(replayed, "--compare", str(tuned), "--incidents", str(incidents))
    assert "total tickets" in both and "before (" in both and "after (" in both and "read spike" in both
    html = _backtest(replayed, "--compare", str(tuned), "--incidents", str(incidents), "--format", "html")
    assert html.startswith("<!doctype html>") and "QueueDepth" in html and "read spike" in html
