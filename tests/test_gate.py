"""`slogen gate` against a real Prometheus: the delivery case's rules (tests/cases/delivery)
loaded, over two hours of backfilled traffic whose recordings were backfilled by promtool
as if Prometheus had evaluated the rules all along. payments burns (the last 30 minutes,
5% of its POSTs fail), ledger is healthy."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from .conftest import slogen
from .harness import Server, backfill, backfill_rules, free_port, prometheus

pytestmark = pytest.mark.e2e
CASE = Path(__file__).parent / "cases" / "delivery"
HISTORY_S = 2 * 3600
INCIDENT_S = 30 * 60
STEP_S = 15
# The deepest chain of recordings: 5m rates <- error ratios and 30m sums <- the period's
# ratio <- the budget left.
RULE_DEPTH = 4


def rates(offset_s: float) -> dict[str, float]:
    """Every counter and its rate per second `offset_s` seconds from now (negative: past)."""
    incident = offset_s >= -INCIDENT_S
    post_errors = 0.05 if incident else 0.0001
    return {
        'http_requests_total{job="payments",method="GET",code="200"}': 20.0,
        'http_requests_total{job="payments",method="POST",code="200"}': 20.0 * (1 - post_errors),
        'http_requests_total{job="payments",method="POST",code="500"}': 20.0 * post_errors,
        'http_requests_total{job="ledger",method="POST",code="200"}': 10.0 * 0.9995,
        'http_requests_total{job="ledger",method="POST",code="500"}': 10.0 * 0.0005,
        'settlement_batches_total{job="ledger"}': 1.0,
        'settlement_batches_failed_total{job="ledger"}': 0.005,
    }


def history(now: float) -> str:
    """OpenMetrics text: each counter from zero, every STEP_S seconds up to `now`, one
    series after the other (OpenMetrics wants a family's samples together)."""
    samples: dict[str, list[str]] = {}
    totals: dict[str, float] = {}
    for t in range(int(now) - HISTORY_S, int(now) + 1, STEP_S):
        for series, rate in rates(t - now).items():
            totals[series] = totals.get(series, 0.0) + rate * STEP_S
            samples.setdefault(series, []).append(f"{series} {totals[series]:.3f} {t}")
    lines: list[str] = []
    for family in sorted({series.split("{")[0] for series in samples}):
        # gauges to the TSDB: OpenMetrics' counter type would want the _total suffix
        lines.append(f"# TYPE {family} gauge")
        for series in sorted(s for s in samples if s.split("{")[0] == family):
            lines += samples[series]
    return "\n".join(lines) + "\n# EOF\n"


def _history_with_recordings(workdir: Path, main_groups_only: bool) -> tuple[Path, Path]:
    """(out, data): the case generated, 20 minutes of traffic backfilled, and the rules'
    recordings over it. Every group is evaluated every 30s, as test_e2e evaluates them live
    every second (the expressions are untouched): promtool was seen to leave out the 30m
    group's sums, and with them the budget left. main_groups_only: the 30m and period
    groups left out, as in the first minutes after the rules are loaded."""
    out = workdir / "out"
    assert slogen("generate", "--spec", str(CASE / "slo"), "--out", str(out)).returncode == 0
    now = time.time()
    data = workdir / "data"
    data.mkdir()
    backfill(history(now), data, workdir)
    backfilled = workdir / "backfilled-rules"
    backfilled.mkdir()
    for path in sorted((out / "prometheus/rules").glob("*.yaml")):
        groups = yaml.safe_load(path.read_text())["groups"]
        if main_groups_only:
            groups = [g for g in groups if not g["name"].endswith((":30m", ":period"))]
        groups = [{**g, "interval": "30s"} if "interval" in g else g for g in groups]
        (backfilled / path.name).write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    backfill_rules(sorted(backfilled.glob("*.yaml")), data, workdir, now - HISTORY_S + 600, now, RULE_DEPTH)
    return out, data


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A Prometheus with the generated rules and their backfilled recordings."""
    workdir = tmp_path_factory.mktemp("gate")
    out, data = _history_with_recordings(workdir, main_groups_only=False)
    config = {"global": {"evaluation_interval": "30s"}, "rule_files": [str(out / "prometheus/rules/*.yaml")]}
    with prometheus(workdir / "live", config, data) as server:
        yield server


@pytest.fixture(scope="module")
def warming(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A Prometheus whose rules were loaded minutes ago: the 5m rates are recorded, the
    period's recordings (the budget left, read from the 30m group's sums) not yet."""
    workdir = tmp_path_factory.mktemp("gate-warming")
    _, data = _history_with_recordings(workdir, main_groups_only=True)
    with prometheus(workdir / "live", data_dir=data) as server:
        yield server


def test_a_known_burn_is_judged_before_the_budget_left_is_recorded(warming: Server) -> None:
    code, out, err = gate(warming.url, "--service", "payments", "--format", "json")
    assert code == 1, err  # a breach is a breach, budget left or not
    report = json.loads(out)
    availability = next(e for e in report["slos"] if e["slo"] == "availability")
    assert availability["breaching"] is True and availability["budget_remaining"] is None
    assert report["missing"] == []
    code, out, err = gate(warming.url, "--service", "ledger")
    assert code == 0, err
    assert "not yet recorded" in out and "healthy" in out


def gate(server_url: str, *args: str) -> tuple[int, str, str]:
    result = slogen("gate", "--spec", str(CASE / "slo"), "--prometheus", server_url, *args)
    return result.returncode, result.stdout, result.stderr


def test_a_burning_service_breaches(loaded: Server) -> None:
    code, out, err = gate(loaded.url, "--service", "payments", "--format", "json")
    assert code == 1, err
    report = json.loads(out)
    assert report["breaching"] is True
    entries = {(e["slo"], json.dumps(e["labels"])): e for e in report["slos"]}
    assert sorted(entries) == [
        ("availability", "{}"),
        ("method-availability", '{"method": "GET"}'),
        ("method-availability", '{"method": "POST"}'),
    ]
    availability = entries[("availability", "{}")]
    # 5% of half the traffic fails: 2.5% against a 0.1% budget, 25x, over 6x (the 6h page)
    assert availability["burn_rate"] == pytest.approx(25, rel=0.02)
    assert availability["breaching"] is True and availability["max_burn_rate"] == 6
    # the period's recordings hold two hours, half an hour of them at 25x: overspent
    assert availability["budget_remaining"] < 0
    # per method at 99%: POST burns 5x, under the lowest page factor (6x); GET nothing
    post = entries[("method-availability", '{"method": "POST"}')]
    assert post["burn_rate"] == pytest.approx(5, rel=0.02) and post["max_burn_rate"] == 6
    assert post["breaching"] is False
    assert entries[("method-availability", '{"method": "GET"}')]["burn_rate"] == 0


def test_the_threshold_and_the_slo_can_be_chosen(loaded: Server) -> None:
    args = ("--service", "payments", "--slo", "method-availability", "--format", "json")
    code, out, _ = gate(loaded.url, *args, "--max-burn-rate", "4")
    assert code == 1
    breaching = {e["labels"]["method"]: e["breaching"] for e in json.loads(out)["slos"]}
    assert breaching == {"GET": False, "POST": True}
    code, out, _ = gate(loaded.url, *args, "--max-burn-rate", "5.5")
    assert code == 0 and json.loads(out)["breaching"] is False


def test_a_healthy_service_passes_with_a_table(loaded: Server) -> None:
    code, out, err = gate(loaded.url, "--service", "ledger")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["SERVICE", "SLO", "LABELS", "BURN"]
    rows = {line.split()[1]: line.split() for line in lines[1:]}
    assert sorted(rows) == ["availability", "settlement"]  # the raw SLI is gated too
    for row in rows.values():
        assert row[0] == "ledger" and row[-1] == "healthy"
        assert float(row[3].rstrip("x")) == pytest.approx(0.5, rel=0.05)
        assert row[5] == "50.0%"  # a steady 0.5x burn leaves half the budget


def test_every_service_at_once_breaches_if_one_does(loaded: Server) -> None:
    code, out, _ = gate(loaded.url, "--format", "json")
    assert code == 1
    assert {e["service"] for e in json.loads(out)["slos"]} == {"payments", "ledger"}


def test_a_window_longer_than_the_history_is_missing_data(loaded: Server) -> None:
    code, out, err = gate(loaded.url, "--service", "ledger", "--window", "1d")
    assert code == 3
    assert "ledger/availability: the recorded history is shorter than the 1d window" in err
    assert out == ""


def test_an_empty_prometheus_is_missing_data(tmp_path: Path) -> None:
    with prometheus(tmp_path) as server:
        code, out, err = gate(server.url, "--service", "payments")
    assert code == 3 and out == ""
    assert "payments/availability: no recent slo:sli_total_events:rate5m in Prometheus" in err


def test_a_prometheus_that_is_down_is_exit_3() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, _, err = gate(url)
    assert code == 3
    assert err == f"slogen gate: {url}: cannot reach Prometheus ([Errno 111] Connection refused)\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--service", "billing"), "--service: no service 'billing' in the spec (known: ledger, payments)"),
        (("--service", "ledger", "--slo", "latency"), "--slo: no SLO 'latency' of service 'ledger' in the spec"),
        (("--window", "7m"), "--window: '7m' must be a multiple of 5m"),
        (
            ("--window", "2d"),
            "--window: '2d' must be a multiple of 5m (the SLIs are recorded as 5m rates) from 5m to 1d",
        ),
        (("--window", "ten"), "--window: not a duration: 'ten'"),
        (("--max-burn-rate", "-2"), "--max-burn-rate: must be a positive burn rate"),
        (("--max-burn-rate", "lots"), "--max-burn-rate: not a number: 'lots'"),
    ],
)
def test_bad_input_is_exit_2_with_a_sentence(args: tuple[str, ...], message: str) -> None:
    # Checked before Prometheus is asked: nothing listens on this port.
    code, out, err = gate(f"http://127.0.0.1:{free_port()}", *args)
    assert code == 2 and out == ""
    assert err.startswith(f"slogen gate: {message}") and "Traceback" not in err


def test_a_url_that_is_not_http_is_exit_2() -> None:
    code, _, err = gate("prometheus:9090")
    assert code == 2
    assert (
        err
        == "slogen gate: --prometheus: the Prometheus URL must be http(s)://host[:port][/path], got 'prometheus:9090'\n"
    )
