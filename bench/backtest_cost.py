"""What `slogen backtest` costs: a week of history replayed from raw series.

    .venv/bin/python bench/backtest_cost.py --slos 10 --instances 5 --days 7

One real Prometheus on 127.0.0.1 holds `days` + 3 days (the longest burn window, read
before the week starts) of bench/rules_cost.py's request counters (one sample a minute).
`slogen backtest` replays every generated alert of those SLOs over the last `days` days
at the production interval (1m). Printed: the wall time of the whole replay, and per
kind of alert the query time and the samples Prometheus read (query statistics,
totalQueryableSamples: free of machine noise) for one SLO.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
import rules_cost  # noqa: E402

from slogen.api import Options, load_model  # noqa: E402
from slogen.backtest import replay  # noqa: E402
from slogen.backtest_rules import replayed_alerts  # noqa: E402
from slogen.promapi import Client  # noqa: E402
from tests.harness import backfill_file, prometheus  # noqa: E402

DAY = 86_400


def range_stats(url: str, expr: str, start: float, end: float, step: float) -> tuple[float, int]:
    """Seconds and samples read of one range query (under 11,000 points: one request)."""
    params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}", "stats": "all"}
    began = time.monotonic()
    with urllib.request.urlopen(f"{url}/api/v1/query_range?{urllib.parse.urlencode(params)}", timeout=600) as r:
        data = json.load(r)["data"]
    return time.monotonic() - began, int(data["stats"]["samples"]["totalQueryableSamples"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slos", type=int, default=10)
    parser.add_argument("--instances", type=int, default=5)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    now = int(time.time()) // 60 * 60
    start = now - (args.days + 3) * DAY
    with tempfile.TemporaryDirectory(prefix="slogen-bench-backtest-") as scratch:
        work = Path(scratch)
        data = work / "data.om"
        rules_cost.write_data(data, args.slos, args.instances, start, now)
        backfill_file(data, work / "tsdb")
        rules_cost.slogen_rules(work, args.slos)  # writes work/spec
        with prometheus(work / "prom", data_dir=work / "tsdb") as server:
            client = Client(server.url, timeout=600)
            began = time.monotonic()
            entries = replay(work / "spec", client, now - args.days * DAY, now)
            total = time.monotonic() - began
            print(f"{args.slos} SLOs x {args.instances * 2} series, {args.days} days at 1m: replay took {total:.1f}s")
            print(f"  {len(entries)} alert label sets fired")
            model = load_model(Options(spec_dir=work / "spec"))
            seen: set[tuple[str, str]] = set()
            for alert in replayed_alerts(model, 60.0):
                key = (alert.kind, alert.labels.get("severity", ""))
                if alert.slo != "s0" or key in seen:
                    continue
                seen.add(key)
                seconds, samples = range_stats(server.url, alert.expr, now - args.days * DAY, now, alert.interval_s)
                print(f"  {alert.kind:9} {key[1]:8} one SLO: {seconds:6.2f}s, {samples:>13,} samples read")


if __name__ == "__main__":
    main()
