"""The 30-minute level and the period as Prometheus runs them, over a recorded history.

promtool's unit tests evaluate every group at the test's one interval, so they never see
the 30m sums recorded every 30 minutes nor the period recorded every 2m30s. Here eight days
of raw counters with uneven traffic (tests/levels_history.py) are backfilled into a TSDB,
then every level of the generated recordings with `promtool tsdb create-blocks-from rules`,
one level a pass, each group under its own name at its own production interval (the 5m
level every minute, the 30m sums every 30 minutes, the period group, with the windows
only tickets read, every 2m30s): the TSDB holds
what a Prometheus that ran through those eight days would hold. Every window, the period
SLI, budget remaining and burn rates at given times must then equal the error ratios
computed here from the raw counts (bad and all requests summed separately over each window
as the rules define it); and a real Prometheus, loading the generated rule files as they
are, must fire the one ticket that only the 3-day window can raise, and not the one that
an average of ratios would."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from slogen.quantity import parse_duration

from .conftest import REPO, slogen
from .harness import Server, backfill_file, binary, prometheus, wait_until
from .levels_history import DAY, DAYS, HOUR, MINUTE, History, make_history

pytestmark = pytest.mark.e2e

SPEC = REPO / "tests/levels/slo"
# Relative to each error ratio. The truth is computed from the raw counts as the rules
# define each window, so only float noise is left (measured: at most 9e-14).
TOLERANCE = 1e-9
BUDGET = {"checkout": 0.001, "search": 0.001, "checkout-weekly": 0.005}
PERIOD = {"checkout": 30 * DAY, "search": 30 * DAY, "checkout-weekly": 7 * DAY}
SERIES_OF = {"checkout": "checkout", "search": "search", "checkout-weekly": "checkout"}


# --- backfilling the recorded levels -----------------------------------------------------


def recording_levels(rule_files: list[Path]) -> list[list[tuple[dict[str, Any], dict[str, Any]]]]:
    """[(group, rule)] per level: level 1 reads raw series, level n reads level n-1."""
    rules = [(g, r) for f in rule_files for g in yaml.safe_load(f.read_text())["groups"] for r in g["rules"]]
    records = [(g, r) for g, r in rules if "record" in r]
    names = {r["record"] for _, r in records}
    level: dict[str, int] = {}
    while len(level) < len(names):
        for _, rule in records:
            reads = {n for n in names if re.search(rf"\b{re.escape(n)}\{{", rule["expr"])}
            if rule["record"] not in level and reads <= level.keys():
                level[rule["record"]] = 1 + max((level[n] for n in reads), default=0)
    depth = max(level.values())
    return [[(g, r) for g, r in records if level[r["record"]] == n] for n in range(1, depth + 1)]


def read_over_ranges(rule_files: list[Path]) -> set[str]:
    """Recorded series that other rules read over long ranges: they need the whole history."""
    text = "\n".join(f.read_text() for f in rule_files)
    return set(re.findall(r"sum_over_time\(([a-z_:0-9]+)\{", text))


BLOCK_HOURS = 162  # promtool's blocks (2h times a power of 3): a 1m range query stays under 11,000 points


def backfill_rules(
    url: str, level: list[tuple[dict[str, Any], dict[str, Any]]], start: int, end: int, work: Path, name: str
) -> Path:
    """One promtool rule backfill; each group keeps its name and its own interval (the 5m
    level, which has none, runs every minute as with Prometheus' usual global interval)."""
    groups: dict[str, dict[str, Any]] = {}
    for group, rule in level:
        entry = groups.setdefault(group["name"], {k: v for k, v in group.items() if k != "rules"} | {"rules": []})
        entry["rules"].append(rule)
    # One path for every pass: promtool, as Prometheus, offsets a group's evaluations by a
    # hash of its name and file, so a group keeps its timestamps from level to level, and
    # the period SLI is recorded at the same instant as the period error ratio it reads.
    path = work / "backfill-rules.yaml"
    path.write_text(yaml.safe_dump({"groups": list(groups.values())}, sort_keys=False))
    out = work / f"{name}-blocks"
    interval = max(parse_duration(g.get("interval", "1m")) // 1000 for g in groups.values())
    start, end = within_whole_chunks(start, end, interval)
    _promtool_rules(url, path, start, end, out, BLOCK_HOURS)
    # promtool 2.42 loses an evaluation that falls in the last second before one of its
    # block boundaries (it cuts each block's query at a whole second and starts the next
    # block's at the boundary). Evaluate around each boundary again, with longer blocks
    # that do not end there; a sample written twice is the same sample.
    step = BLOCK_HOURS * HOUR
    for boundary in range(start // step * step + step, end + 1, step):
        hours = BLOCK_HOURS
        while boundary % (hours * HOUR) == 0:
            hours *= 3
        _promtool_rules(url, path, boundary - MINUTE, min(boundary + MINUTE, end), out, hours)
    return out


def within_whole_chunks(start: int, end: int, interval: int) -> tuple[int, int]:
    """promtool 2.42 cuts a rule backfill into one range query per block; when a piece at
    either end of the range is shorter than the group's interval, its first aligned
    evaluation falls after its end, the query fails, and promtool silently writes nothing
    for that whole group (seen for 30m groups whose history began 13 minutes before a
    boundary: the test then failed for half an hour in every 162). Trim such a piece: a
    head shorter than one interval holds no evaluation worth having, and a tail shorter
    than one interval loses at most that interval's last evaluation."""
    step = BLOCK_HOURS * HOUR
    head = start // step * step + step
    if head - start < interval:
        start = head
    tail = end // step * step
    if end - tail < interval:
        end = tail - 1
    return start, end


def _promtool_rules(url: str, rules: Path, start: int, end: int, out: Path, block_hours: int) -> None:
    result = subprocess.run(
        [
            binary("promtool"),
            "tsdb",
            "create-blocks-from",
            "rules",
            f"--url={url}",
            f"--start={start}",
            f"--end={end}",
            f"--output-dir={out}",
            "--eval-interval=1m",
            f"--max-block-duration={block_hours}h",
            str(rules),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@dataclass
class Recorded:
    history: History
    rule_files: list[Path]
    data: Path
    work: Path


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    work = tmp_path_factory.mktemp("levels")
    out = work / "out"
    result = slogen("generate", "--spec", str(SPEC), "--out", str(out))
    assert result.returncode == 0, result.stderr
    rule_files = sorted((out / "prometheus/rules").glob("*.yaml"))
    history = make_history(int(time.time()) // MINUTE * MINUTE)
    (work / "raw.om").write_text(history.openmetrics())
    data = work / "data"
    backfill_file(work / "raw.om", data)
    long = read_over_ranges(rule_files)
    # Only the levels read over long ranges (the 5m rates, the 30m sums) need the whole
    # history; the others are recorded over the last two hours, around the asserted times.
    recent = history.now - 2 * HOUR
    for n, level in enumerate(recording_levels(rule_files), start=1):
        with prometheus(work / f"backfill-{n}", data_dir=data) as server:
            whole = [(g, r) for g, r in level if r["record"] in long]
            blocks = (
                [backfill_rules(server.url, whole, history.start, history.now, work, f"level{n}-whole")]
                if whole
                else []
            )
            short = [(g, r) for g, r in level if r["record"] not in long]
            if short:
                blocks.append(backfill_rules(server.url, short, recent, history.now, work, f"level{n}-recent"))
        for folder in blocks:  # into the data folder once that Prometheus is gone
            for block in folder.iterdir():
                shutil.move(str(block), data / block.name)
    yield Recorded(history, rule_files, data, work)


# --- the assertions ------------------------------------------------------------------------


def value_at(server: Server, expr: str, at: int) -> float:
    query = urllib.parse.urlencode({"query": expr, "time": str(at)})
    result = server.get(f"/api/v1/query?{query}")["data"]["result"]
    assert len(result) == 1, (expr, at, result)
    return float(result[0]["value"][1])


def times(server: Server, selector: str, at: float, within: str) -> list[int]:
    """When the series was recorded (ms) in the `within` before `at` (a range query keeps times)."""
    query = urllib.parse.urlencode({"query": f"{selector}[{within}]", "time": str(at)})
    result = server.get(f"/api/v1/query?{query}")["data"]["result"]
    assert len(result) == 1, (selector, at, result)
    return [round(float(t) * 1000) for t, _ in result[0]["values"]]


def _selector(name: str, slo: str) -> str:
    return f'{name}{{service="shop", slo="{slo}"}}'


def windows_of(rule_files: list[Path], slo: str) -> dict[str, int]:
    """Every window the SLO's rules record an error ratio for, the period included:
    {"1h": 3600, ...}."""
    text = next(f for f in rule_files if f.name == f"shop.{slo}.yaml").read_text()
    labels = set(re.findall(r"record: slo:sli_error:ratio_rate(\w+)", text))
    return {label: parse_duration(label) // 1000 for label in labels}


def current_burn_window(rule_files: list[Path], slo: str) -> str:
    """The window the current burn rate reads (the shortest page window): "1h"."""
    path = next(f for f in rule_files if f.name == f"shop.{slo}.yaml")
    rules = [r for g in yaml.safe_load(path.read_text())["groups"] for r in g["rules"]]
    expr = next(r["expr"] for r in rules if r.get("record") == "slo:current_burn_rate:ratio")
    match = re.search(r"slo:sli_error:ratio_rate(\w+)\{", expr)
    assert match, expr
    return match.group(1)


def expected_values(server: Server, recorded: Recorded, slo: str, at: int) -> dict[str, tuple[float, float]]:
    """{recorded series: (true value, tolerance)} as last recorded at or before `at`, from
    the raw counts, over the windows as the rules define them and at the times the history
    was evaluated (read back from the TSDB: when each level was recorded)."""
    history, series, budget, period = recorded.history, SERIES_OF[slo], BUDGET[slo], PERIOD[slo]
    everything = f"{DAYS + 1}d"
    rates = times(server, _selector("slo:sli_total_events:rate5m", slo), history.now, everything)
    sums = times(server, _selector("slo:sli_bad_events:rate5m_sum30m", slo), history.now, everything)

    def ratio(label: str, window: int, when: float = at) -> float:
        end = times(server, _selector(f"slo:sli_error:ratio_rate{label}", slo), when, "5m")[-1]
        return history.rule_ratio(series, rates, sums, end, window)

    out: dict[str, tuple[float, float]] = {}
    windows = windows_of(recorded.rule_files, slo)
    for label, window in windows.items():
        r = ratio(label, window)
        out[f"slo:sli_error:ratio_rate{label}"] = (r, TOLERANCE * r)
    r = ratio(f"{period // DAY}d", period)
    out["slo:period_sli:ratio"] = (1 - r, TOLERANCE * r)
    out["slo:period_burn_rate:ratio"] = (r / budget, TOLERANCE * r / budget)
    out["slo:period_error_budget_remaining:ratio"] = (1 - r / budget, TOLERANCE * r / budget)
    burn = current_burn_window(recorded.rule_files, slo)
    # Recorded in the period group, from the last window its group's run could read.
    burnt = times(server, _selector("slo:current_burn_rate:ratio", slo), at, "5m")[-1] / 1000
    r = ratio(burn, windows[burn], burnt)
    out["slo:current_burn_rate:ratio"] = (r / budget, TOLERANCE * r / budget)
    return out


@pytest.fixture(scope="module")
def server(recorded: Recorded) -> Iterator[Server]:
    """A real Prometheus on the recorded history with the generated rule files as they are:
    the 30m and period groups at their own intervals. The 5m level has no interval of its
    own (it runs at the global one, 1m in most setups): 5s here, so that it has run once
    within seconds; it only reads what the history holds."""
    config = {
        "global": {"evaluation_interval": "5s"},
        "rule_files": [str(f) for f in recorded.rule_files],
    }
    with prometheus(recorded.work / "live", config, recorded.data) as live:
        yield live


ASSERTED = (25 * MINUTE, 0)  # before "now": in an error burst, and just after one


@pytest.mark.parametrize("slo", sorted(BUDGET))
def test_windows_and_period_equal_the_truth_from_the_raw_counts(recorded: Recorded, server: Server, slo: str) -> None:
    history = recorded.history
    for before in ASSERTED:
        at = history.now - before
        for name, (want, tolerance) in expected_values(server, recorded, slo, at).items():
            got = value_at(server, _selector(name, slo), at)
            assert abs(got - want) <= tolerance, f"{slo} {name} at now-{before // 60}m: {got} != {want}"
        # The windows read from the 30m sums also equal the bad and all requests counted
        # over their nominal span: traffic-weighted, and the sums tile time (both ends of
        # these windows see the same traffic here, so the sums' lag cancels out).
        for label in ("3d", "7d"):
            if label in windows_of(recorded.rule_files, slo):
                want = history.ratio(SERIES_OF[slo], at, parse_duration(label) // 1000)
                got = value_at(server, _selector(f"slo:sli_error:ratio_rate{label}", slo), at)
                assert abs(got - want) <= TOLERANCE * want, f"{slo} {label} at now-{before // 60}m: {got} != {want}"


def test_each_level_was_recorded_and_runs_at_its_production_interval(recorded: Recorded, server: Server) -> None:
    """The history holds each level at its group's own interval, and the live Prometheus
    runs the 30m and period groups at theirs (the 5m level at the global interval)."""
    everything, now = f"{DAYS + 1}d", recorded.history.now
    for slo, period in PERIOD.items():
        for name, within, step in (
            ("slo:sli_total_events:rate5m", everything, 60_000),
            ("slo:sli_total_events:rate5m_sum30m", everything, 1_800_000),
            (f"slo:sli_error:ratio_rate{period // DAY}d", "2h", 150_000),
        ):
            recorded_times = times(server, _selector(name, slo), now, within)
            assert {b - a for a, b in itertools.pairwise(recorded_times)} == {step}, (slo, name)
    # Every window at its own group's interval: the windows pages read every minute, the
    # windows only tickets read (with the period and the tickets) every 2m30s.
    steps: dict[int, set[str]] = {}
    for path in recorded.rule_files:
        slo = path.name.removeprefix("shop.").removesuffix(".yaml")
        for group in yaml.safe_load(path.read_text())["groups"]:
            step = parse_duration(group.get("interval", "1m"))
            for rule in group["rules"]:
                name = rule.get("record", "")
                if name.startswith("slo:sli_error:ratio_rate"):
                    recorded_times = times(server, _selector(name, slo), now, "2h")
                    assert {b - a for a, b in itertools.pairwise(recorded_times)} == {step}, (slo, name)
                    steps.setdefault(step, set()).add(name.removeprefix("slo:sli_error:ratio_rate"))
    assert steps == {
        60_000: {"5m", "30m", "1h", "6h", "7m", "14m", "1h24m"},
        150_000: {"2h", "1d", "3d", "30d", "28m", "5h36m", "16h48m", "7d"},
    }
    intervals = {g["name"]: g["interval"] for g in server.get("/api/v1/rules")["data"]["groups"]}
    assert intervals == {
        **{f"slogen:shop:{slo}": 5 for slo in BUDGET},
        **{f"slogen:shop:{slo}:30m": 1800 for slo in BUDGET},
        **{f"slogen:shop:{slo}:period": 150 for slo in BUDGET},
    }


def test_the_scenario_puts_the_3d_window_on_both_sides_of_the_ticket_threshold(recorded: Recorded) -> None:
    """What the live test below relies on, from the raw counts: both 30-day SLOs burn above
    1x over 6h and below 3x over 1d and 2h, so only the 3d/6h arm of the ticket decides;
    checkout's 3d ratio is above 1x and search's below, though search's average of 5m error
    ratios (each minute alike, as Sloth's period) is above."""
    h, now = recorded.history, recorded.history.now
    for series in ("checkout", "search"):
        assert h.ratio(series, now, 6 * HOUR) > 0.001 * 1.3
        assert h.ratio(series, now, DAY) < 0.003 * 0.7 and h.ratio(series, now, 2 * HOUR) < 0.003 * 0.7
    assert h.ratio("checkout", now, 3 * DAY) > 0.001 * 1.3
    assert h.ratio("search", now, 3 * DAY) < 0.001 * 0.9
    last = (now - h.start) // MINUTE
    ratios = [
        b / t
        for b, t in zip(
            h.bad["search"][last - 3 * DAY // MINUTE + 1 : last + 1],
            h.total["search"][last - 3 * DAY // MINUTE + 1 : last + 1],
            strict=True,
        )
    ]
    assert sum(ratios) / len(ratios) > 0.001 * 3


def test_the_ticket_that_only_the_3d_window_raises_fires_live(server: Server) -> None:
    """The generated rules, evaluated by Prometheus at their own intervals over the
    recorded history: checkout's ticket fires, search's does not, nothing pages."""

    def evaluated() -> bool:
        groups = server.get("/api/v1/rules")["data"]["groups"]
        main = [g for g in groups if g["name"] in {f"slogen:shop:{slo}" for slo in BUDGET}]
        return len(main) == len(BUDGET) and all(not g["lastEvaluation"].startswith("0001") for g in main)

    wait_until(evaluated, 30, "the 5m level of every SLO to be evaluated", server)

    def tickets_evaluated() -> bool:
        # The tickets run in the period group, every 2m30s: Prometheus starts a group at
        # an offset within its interval (a hash of its name and file), up to 2m30s in.
        groups = server.get("/api/v1/rules")["data"]["groups"]
        period = [g for g in groups if g["name"] in {f"slogen:shop:{slo}:period" for slo in BUDGET}]
        return len(period) == len(BUDGET) and all(not g["lastEvaluation"].startswith("0001") for g in period)

    wait_until(tickets_evaluated, 200, "the period group of every SLO to be evaluated", server, interval=1)
    alerts = [{**a["labels"], "state": a["state"]} for a in server.get("/api/v1/alerts")["data"]["alerts"]]
    assert alerts == [
        {
            "alertname": "SLOErrorBudgetBurn",
            "owner": "web",
            "service": "shop",
            "severity": "warning",
            "slo": "checkout",
            "state": "firing",
        }
    ]
