"""How long the backtest's tuning views take, and how large the HTML report grows.

    .venv/bin/python bench/backtest_report.py                 # 10, 100 and 1,000 alerts
    .venv/bin/python bench/backtest_report.py --sizes 100 --firings 200

Synthetic entries: N alerts over a week, each with --firings evenly spaced firings,
compared with a copy that fires half as often, matched against 20 incidents. The views' own time, in this
process (the backtest's replay against Prometheus is not part of it); best of --repeat.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from slogen.backtest_incidents import Incident
from slogen.backtest_report import compare, compare_table, html_report, incidents_table, match_incidents

START, END = 1_794_787_200.0, 1_795_392_000.0  # 2026-11-16 to 2026-11-23 UTC


def entries(alerts: int, firings: int, every: int = 1) -> list[dict[str, Any]]:
    step = (END - START) / firings
    out = []
    for i in range(alerts):
        labels = {
            "owner": "bench",
            "service": f"svc-{i % 50}",
            "slo": f"slo-{i}",
            "severity": ("critical", "warning")[i % 2],
        }
        spans = [{"start": START + k * step, "end": START + k * step + step / 3} for k in range(0, firings, every)]
        out.append({"alert": "SLOErrorBudgetBurn", "labels": labels, "severity": labels["severity"], "firings": spans})
    return out


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--firings", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    known = [Incident(f"incident {k}", START + k * 30_000, START + k * 30_000 + 1800) for k in range(20)]
    print(f"{'alerts':>7} {'firings':>8} {'compare':>9} {'incidents':>10} {'html':>8} {'html size':>10}")
    for size in (int(s) for s in args.sizes.split(",")):
        print(measure(size, args.firings, args.repeat, known))


def measure(size: int, firings: int, repeat: int, known: list[Incident]) -> str:
    now, tuned = entries(size, firings), entries(size, firings, every=2)
    t_cmp = best(repeat, lambda: compare_table(compare(now, tuned, START, END)))
    t_inc = best(repeat, lambda: incidents_table(match_incidents(now, known, start=START, end=END)))
    page = html_report(now, START, END, after=tuned, incidents=known)
    t_html = best(repeat, lambda: html_report(now, START, END, after=tuned, incidents=known))
    megabytes = len(page.encode()) / 1e6
    return f"{size:>7} {size * firings:>8} {t_cmp:>8.3f}s {t_inc:>9.3f}s {t_html:>7.3f}s {megabytes:>8.2f}MB"


if __name__ == "__main__":
    main()
