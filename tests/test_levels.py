"""The 30-minute level and the period as Prometheus runs them, over a recorded history.

promtool's unit tests evaluate every group at the test's one interval, so they never see
the 30m sums recorded every 30 minutes nor the period recorded every 2m30s. Here eight days
of raw counters with uneven traffic are backfilled into a TSDB, then every level of the
generated recordings with `promtool tsdb create-blocks-from rules`, one level a pass, each
group at its own production interval (the 5m level every minute, the 30m sums every 30
minutes, the period every 2m30s): the TSDB holds what a Prometheus that ran through those
eight days would hold. Windows, period SLI, budget remaining and burn rates at given times
must then equal the traffic-weighted error ratios computed here from the raw counts; and a
real Prometheus, loading the generated rule files as they are, must fire the one ticket
that only the 3-day window can raise, and not the one that an average of ratios would."""

from __future__ import annotations

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

from .conftest import REPO, slogen
from .harness import Server, backfill_file, binary, prometheus, wait_until

pytestmark = pytest.mark.e2e

SPEC = REPO / "tests/levels/slo"
MINUTE = 60
HOUR = 3600
DAY = 86400
DAYS = 8  # covers the 7-day period and the 3-day window with a day to spare
FUTURE = 10 * MINUTE  # raw samples past "now": the live 5m rates see a full window
# Relative to each error ratio. Measured differences were about 1e-14 (float noise),
# except for a 30-day period over 8 days of history: about 1.5e-4, from the first minutes
# of the counters, whose rates Prometheus extrapolates.
TOLERANCE = 1e-9
CLIPPED_TOLERANCE = 1e-3
BUDGET = {"checkout": 0.001, "search": 0.001, "checkout-weekly": 0.005}
PERIOD = {"checkout": 30 * DAY, "search": 30 * DAY, "checkout-weekly": 7 * DAY}
SERIES_OF = {"checkout": "checkout", "search": "search", "checkout-weekly": "checkout"}


def load(series: str, day: int, hour: float) -> tuple[float, float]:
    """(requests a minute, error ratio) of a series at an hour of a day of the history
    (day 7 is today; "now" is 14:00 of it). Busy days and quiet nights; errors mostly at
    night, more of them for checkout than for search, and a bad morning today. Errors come
    in bursts, the first 10 minutes of every half hour: 30-minute sums that did not tile
    time (a gap, an overlap) would weigh them wrongly."""
    if 8 <= hour < 20:
        rpm, error = 600.0, 0.002 if day == 7 and hour < 12 else 0.0003
    else:
        rpm, error = 30.0, 0.02 if series == "checkout" else 0.008
    burst = round(hour * 60) % 30 < 10
    return rpm, error * 3 if burst else 0.0


@dataclass
class History:
    """Raw counts a minute: index i holds the requests between minute i-1 and minute i."""

    start: int  # the first sample's time; "now" is start + DAYS days
    bad: dict[str, list[float]]
    total: dict[str, list[float]]

    @property
    def now(self) -> int:
        return self.start + DAYS * DAY

    def ratio(self, series: str, end: int, window: int) -> float:
        """The traffic-weighted error ratio over (end - window, end], clipped to the history."""
        last = (end - self.start) // MINUTE
        first = max(1, last - window // MINUTE + 1)
        return sum(self.bad[series][first : last + 1]) / sum(self.total[series][first : last + 1])

    def openmetrics(self) -> str:
        lines = ["# TYPE shop_requests_total gauge"]  # a gauge: OpenMetrics counters want _total
        for series in sorted(self.bad):
            for code, counts in (("200", _good(self, series)), ("500", self.bad[series])):
                value = 0.0
                for i, count in enumerate(counts):
                    value += count
                    ts = self.start + i * MINUTE
                    lines.append(f'shop_requests_total{{slo="{series}",code="{code}"}} {value!r} {ts}')
        return "\n".join(lines) + "\n# EOF\n"


def _good(history: History, series: str) -> list[float]:
    return [t - b for t, b in zip(history.total[series], history.bad[series], strict=True)]


def make_history(now: int) -> History:
    start = now - DAYS * DAY
    day0 = now - 7 * DAY - 14 * HOUR  # midnight of day 0
    minutes = DAYS * DAY // MINUTE + FUTURE // MINUTE + 1
    history = History(start, {}, {})
    for series in ("checkout", "search"):
        bad, total = [0.0], [0.0]
        for i in range(1, minutes):
            day, second = divmod(start + (i - 1) * MINUTE - day0, DAY)  # the minute's start
            rpm, error = load(series, day, second / HOUR)
            total.append(rpm)
            bad.append(rpm * error)
        history.bad[series], history.total[series] = bad, total
    return history


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


def backfill_rules(
    url: str, level: list[tuple[dict[str, Any], dict[str, Any]]], start: int, end: int, work: Path, name: str
) -> Path:
    """One promtool rule backfill; each group keeps its name and its own interval (the 5m
    level, which has none, runs every minute as with Prometheus' usual global interval)."""
    groups: dict[str, dict[str, Any]] = {}
    for group, rule in level:
        entry = groups.setdefault(group["name"], {k: v for k, v in group.items() if k != "rules"} | {"rules": []})
        entry["rules"].append(rule)
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"groups": list(groups.values())}, sort_keys=False))
    out = work / f"{name}-blocks"
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
            "--max-block-duration=168h",  # a range query at 1m stays under 11,000 points
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


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
    recent = history.now - 2 * HOUR  # the asserted times are in the last hour
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


def recorded_at(server: Server, selector: str, at: int, within: str) -> int:
    """When the series was last recorded, at or before `at` (a range query keeps times)."""
    query = urllib.parse.urlencode({"query": f"{selector}[{within}]", "time": str(at)})
    result = server.get(f"/api/v1/query?{query}")["data"]["result"]
    assert len(result) == 1, (selector, at, result)
    return int(float(result[0]["values"][-1][0]))


def _selector(name: str, slo: str) -> str:
    return f'{name}{{service="shop", slo="{slo}"}}'


def windows_of(slo: str) -> dict[str, int]:
    """The windows asserted: the 30-day SLOs' 1d and 3d (the 3d one reads the 30m sums) and
    the shortest window of each, which the current burn rate reads."""
    if PERIOD[slo] == 30 * DAY:
        return {"1h": HOUR, "1d": DAY, "3d": 3 * DAY}
    return {"14m": 14 * MINUTE}


def expected_values(server: Server, history: History, slo: str, at: int) -> dict[str, tuple[float, float]]:
    """{recorded series: (true value, tolerance)} as recorded at or before `at`, from the
    raw counts. A window ends when it was last recorded; one read from the 30m sums ends at
    the last sum before that (up to 30 minutes earlier)."""
    series, budget, period = SERIES_OF[slo], BUDGET[slo], PERIOD[slo]

    def ratio(name: str, window: int) -> float:
        end = recorded_at(server, _selector(name, slo), at, "5m")
        if window > DAY:
            end = recorded_at(server, _selector("slo:sli_bad_events:rate5m_sum30m", slo), end, "1d")
        return history.ratio(series, end, window)

    out: dict[str, tuple[float, float]] = {}
    for label, window in windows_of(slo).items():
        name = f"slo:sli_error:ratio_rate{label}"
        r = ratio(name, window)
        out[name] = (r, TOLERANCE * r)
    period_ratio = f"slo:sli_error:ratio_rate{period // DAY}d"
    r = ratio(period_ratio, period)
    tolerance = TOLERANCE if period < DAYS * DAY else CLIPPED_TOLERANCE  # a 30-day period over 8 days
    out[period_ratio] = (r, tolerance * r)
    out["slo:period_sli:ratio"] = (1 - r, tolerance * r)
    out["slo:period_burn_rate:ratio"] = (r / budget, tolerance * r / budget)
    out["slo:period_error_budget_remaining:ratio"] = (1 - r / budget, tolerance * r / budget)
    shortest = min(windows_of(slo).items(), key=lambda item: item[1])
    r = ratio(f"slo:sli_error:ratio_rate{shortest[0]}", shortest[1])
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


@pytest.mark.parametrize("slo", sorted(BUDGET))
def test_windows_and_period_equal_the_traffic_weighted_truth(recorded: Recorded, server: Server, slo: str) -> None:
    history = recorded.history
    for at in (history.now - 30 * MINUTE, history.now):
        for name, (want, tolerance) in expected_values(server, history, slo, at).items():
            got = value_at(server, _selector(name, slo), at)
            assert abs(got - want) <= tolerance, f"{slo} {name} at now-{(history.now - at) // 60}m: {got} != {want}"


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
