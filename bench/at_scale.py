"""What slogen's output costs at scale: the figures of the README's "At scale" section.

    make bench                                   # with bench/generate.py and rules_cost.py
    .venv/bin/python bench/at_scale.py --sizes 50,200 --series 10

1. Counted (no Prometheus) in the files `slogen generate` writes, per SLO of each SLI kind
   (bench/generate.py's specs): recording and alerting rules, rule groups, recorded series,
   and samples the recordings write per minute at the groups' production intervals (1m,
   or the group's own `interval`). Dashboard bytes per service and the overview.
2. Measured on one real Prometheus on 127.0.0.1: it scrapes `--series` request counters
   per SLO every 15 s and evaluates the rules of N ratio SLOs. Every recorded series a rule
   reads over a range (`x[3d]`) holds backfilled history as long as the longest range that
   reads it, at its group's interval, so every evaluation reads full windows as in
   production. Every group runs every 20 s; the CPU time Prometheus spends over a baseline
   (the same scrapes, no rules) is divided per evaluation round, spread over the groups by
   their evaluation times from /api/v1/rules, and weighted to one minute at production
   intervals. (The groups' wall-clock times alone include waiting for a core: on a shared
   machine they are not linear in SLOs; CPU time is.) Memory: the process's anonymous
   resident memory over the baseline. Samples read: query statistics of one SLO's rules.
3. Extrapolated, and labelled so: how many SLOs one Prometheus evaluates comfortably, the
   criterion being at most 10% of one core on rule evaluation (6 s of evaluation a minute),
   assuming cost linear in SLOs (the sizes measured show how linear it is), and what a
   10,000-SLO organisation deploys.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from generate import slo_block  # noqa: E402
from rules_cost import query  # noqa: E402

from slogen.quantity import parse_duration  # noqa: E402
from tests.harness import backfill_file, counter_exporter, prometheus, wait_until  # noqa: E402

KINDS = ("ratio (bad/total)", "ratio (good/bad)", "latency", "raw")
SCRAPE_S = 15
MEASURE_INTERVAL_S = 20
MEASURE_INTERVAL = f"{MEASURE_INTERVAL_S}s"
BUDGET_S_PER_MIN = 6.0  # "comfortable": 10% of one core spent evaluating rules
RANGE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\[([0-9smhdwy]+)\]")


def generate(work: Path, name: str, lines: list[str]) -> Path:
    spec = work / f"{name}-spec"
    spec.mkdir()
    (spec / f"{name}.yaml").write_text("\n".join(lines) + "\n")
    out = work / f"{name}-out"
    command = [sys.executable, "-m", "slogen.cli", "generate", "--spec", str(spec), "--out", str(out)]
    subprocess.run(command, check=True, cwd=REPO, capture_output=True)
    return out


def groups_of(out: Path) -> list[dict[str, Any]]:
    return [g for f in sorted((out / "prometheus/rules").glob("*.yaml")) for g in yaml.safe_load(f.read_text())["groups"]]


def per_minute(group: dict[str, Any]) -> float:
    """Evaluations a minute at the group's production interval (1m unless it sets one)."""
    return 60_000 / parse_duration(group.get("interval", "1m"))


def counted(work: Path) -> list[dict[str, Any]]:
    """Rules, groups, series and samples written a minute for one SLO of each kind."""
    rows = []
    for kind, name in enumerate(KINDS):
        lines = ["version: 1", f"service: svc{kind}", "slos:", *slo_block(0, kind)]
        groups = groups_of(generate(work, f"kind{kind}", lines))
        records = [(g, r) for g in groups for r in g["rules"] if "record" in r]
        rows.append(
            {
                "kind": name,
                "groups": len(groups),
                "records": len(records),
                "alerts": sum(1 for g in groups for r in g["rules"] if "alert" in r),
                "written": sum(per_minute(g) for g, _ in records),  # one series each: no `by`
            }
        )
    return rows


def ratio_spec(slos: int, series: int) -> list[str]:
    lines = ["version: 1", "service: fleet", "slos:"]
    for i in range(slos):
        lines += [
            f"  s{i}:",
            "    objective: 99.9%",
            "    ratio:",
            f"      bad: 'bench_requests_total{{slo=\"s{i}\", code=\"500\"}}'",
            f"      total: 'bench_requests_total{{slo=\"s{i}\"}}'",
        ]
    return lines


def raw_series(slos: int, series: int) -> dict[str, float]:
    """`series` counters per SLO: half the instances answering 200, half 500 (a few)."""
    rates = {}
    for i in range(slos):
        for j in range(series):
            code = "500" if j % 2 else "200"
            rates[f'bench_requests_total{{slo="s{i}", instance="i{j // 2}", code="{code}"}}'] = 0.05 if j % 2 else 20.0
    return rates


def history(groups: list[dict[str, Any]], end: int, path: Path) -> None:
    """Write the OpenMetrics history of every recorded series a rule reads over a range,
    as long as the longest such range, one sample per evaluation of the group that
    records it (streamed: it runs to millions of lines)."""
    longest: dict[str, int] = {}
    for group in groups:
        for rule in group["rules"]:
            for name, span in RANGE.findall(rule["expr"]):
                longest[name] = max(longest.get(name, 0), parse_duration(span) // 1000)
    families: dict[str, list[tuple[str, int]]] = {}
    for group in groups:
        step = int(60 / per_minute(group))
        for rule in group["rules"]:
            if rule.get("record") in longest:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(rule["labels"].items()))
                families.setdefault(rule["record"], []).append((labels, step))
    with path.open("w") as out:
        for name, members in sorted(families.items()):
            out.write(f"# TYPE {name} gauge\n")
            value = 0.05 if "bad" in name else 20.0  # a healthy SLO: no alert fires
            for labels, step in members:
                start = end - longest[name] - 2 * step
                out.writelines(f"{name}{{{labels}}} {value} {ts}\n" for ts in range(start - start % step, end, step))
        out.write("# EOF\n")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):  # not the mapped TSDB blocks: the page cache holds those
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_over(server: Any, seconds: float) -> float:
    """CPU seconds Prometheus spends over a span of time (waited on the clock: the
    quantity measured is a rate over that span)."""
    pid = server.process.pid
    start, begun = cpu_seconds(pid), time.time()
    wait_until(lambda: time.time() - begun >= seconds, seconds + 30, f"{seconds:.0f} s to pass", server, interval=1)
    return (cpu_seconds(pid) - start) / (time.time() - begun) * seconds


def load_rules(server: Any, workdir: Path, config: dict[str, Any], groups: list[dict[str, Any]]) -> None:
    fast = workdir / "measured.yaml"
    fast.write_text(yaml.safe_dump({"groups": [{**g, "interval": MEASURE_INTERVAL} for g in groups]}, sort_keys=False))
    (workdir / "prometheus.yml").write_text(json.dumps({**config, "rule_files": [str(fast)]}))
    urllib.request.urlopen(urllib.request.Request(f"{server.url}/-/reload", method="POST"), timeout=60).read()
    names = {g["name"] for g in groups}
    wait_until(lambda: len([g for g in server.get("/api/v1/rules")["data"]["groups"] if g["name"] in names]) == len(names), 60, "rules to load", server)


def evaluation_times(server: Any, groups: list[dict[str, Any]], rounds: int) -> dict[str, list[float]]:
    """Each group's evaluation times over `rounds` evaluations (the first is left out: it
    runs while the rules load)."""
    names = {g["name"] for g in groups}
    seen: dict[str, str] = {}
    times: dict[str, list[float]] = {n: [] for n in names}

    def enough() -> bool:
        for group in server.get("/api/v1/rules")["data"]["groups"]:
            name, last = group["name"], group["lastEvaluation"]
            if name in names and last[:4] != "0001" and last != seen.get(name):
                if name in seen:
                    times[name].append(float(group["evaluationTime"]))
                seen[name] = last
        return min(len(v) for v in times.values()) >= rounds

    wait_until(enough, 60 + 15 * rounds, f"{rounds} evaluations of every group", server, interval=1)
    return times


def measure(work: Path, sizes: list[int], series: int, rounds: int, warmup: int) -> list[dict[str, Any]]:
    largest = max(sizes)
    out = generate(work, "fleet", ratio_spec(largest, series))
    groups = groups_of(out)
    per_slo = {f"s{i}": [g for g in groups if g["rules"][0]["labels"].get("slo") == f"s{i}"] for i in range(largest)}
    end = int(time.time()) // 60 * 60
    source = work / "history.om"
    history(groups, end, source)
    data = work / "data"
    backfill_file(source, data)
    source.unlink()
    results = []
    with counter_exporter(raw_series(largest, series)) as port:
        config = {
            "global": {"scrape_interval": f"{SCRAPE_S}s", "evaluation_interval": MEASURE_INTERVAL},
            "scrape_configs": [{"job_name": "bench", "honor_labels": True, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}],
        }
        workdir = work / "prometheus"
        extra = ["--web.enable-lifecycle", "--query.max-samples=500000000"]
        with prometheus(workdir, config, data, extra) as server:
            started = time.time()
            # rate(x[5m]) reads full windows only after five minutes of scrapes
            wait_until(lambda: time.time() - started > warmup, warmup + 60, "five minutes of scrapes", server, interval=5)
            baseline = rss_kib(server.process.pid)
            span = 2 * MEASURE_INTERVAL_S * rounds
            idle = cpu_over(server, span)  # scraping and the TSDB alone, no rules
            for size in sorted(sizes):
                chosen = [g for i in range(size) for g in per_slo[f"s{i}"]]
                load_rules(server, workdir, config, chosen)
                times = evaluation_times(server, chosen, rounds)
                wall = {g["name"]: sum(times[g["name"]]) / len(times[g["name"]]) for g in chosen}
                wall_per_min = sum(wall[g["name"]] * per_minute(g) for g in chosen)
                # CPU of one evaluation of every group, over the idle cost; spread over
                # the groups by their wall times, then weighted to production intervals.
                per_round = (cpu_over(server, span) - idle) / (span / MEASURE_INTERVAL_S)
                cpu_per_min = per_round * wall_per_min / sum(wall.values())
                head = server.get("/api/v1/status/tsdb")["data"]["headStats"]["numSeries"]
                rss = (rss_kib(server.process.pid) - baseline) / 1024
                results.append({"slos": size, "wall": wall_per_min, "cpu": cpu_per_min, "rss_mib": rss, "head": head})
                print(f"  {size} SLOs: {cpu_per_min:.3f} CPU s, {wall_per_min:.3f} s of group evaluation a minute", flush=True)
            at = time.time()
            read = sum(query(server.url, r["expr"], at)[1] * per_minute(g) for g in per_slo["s0"] for r in g["rules"])
    for row in results:
        row["read"] = read
    return results


def dashboards(work: Path) -> dict[str, int]:
    """Bytes of the service dashboard at the row form's limit, of a bounded one (100 SLOs,
    no threshold alerts), and of the overview of an organisation of 100 services."""
    sizes = {}
    for slos in (20, 100):
        lines = ratio_spec(slos, 2)
        out = generate(work, f"board{slos}", lines)
        sizes[f"service, {slos} SLOs"] = (out / "grafana/fleet.json").stat().st_size
    org = work / "org-spec"
    org.mkdir()
    for service in range(100):
        spec = ["version: 1", f"service: svc{service}", "slos:", *slo_block(service, 0)]
        (org / f"svc{service}.yaml").write_text("\n".join(spec) + "\n")
    subprocess.run([sys.executable, "-m", "slogen.cli", "generate", "--spec", str(org), "--out", str(work / "org-out")], check=True, cwd=REPO, capture_output=True)
    sizes["overview, 100 services"] = (work / "org-out/grafana/overview.json").stat().st_size
    return sizes


def report(kinds: list[dict[str, Any]], measured: list[dict[str, Any]], boards: dict[str, int], series: int) -> None:
    print("\nPer SLO (counted in the generated rules; an SLO without `by`):")
    print("| SLI kind | rule groups | recording rules | alerting rules | recorded series | samples written/min |")
    print("|---|---:|---:|---:|---:|---:|")
    for k in kinds:
        print(f"| {k['kind']} | {k['groups']} | {k['records']} | {k['alerts']} | {k['records']} | {k['written']:.1f} |")
    big = max(measured, key=lambda r: r["slos"])
    print(f"\nMeasured on one Prometheus ({series} raw series per ratio SLO, scraped every {SCRAPE_S}s):")
    print("| SLOs | CPU s/min | per SLO, ms/min | group eval s/min (wall) | per SLO, ms/min | head series | memory over baseline, MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in measured:
        print(
            f"| {r['slos']} | {r['cpu']:.3f} | {1000 * r['cpu'] / r['slos']:.2f} | {r['wall']:.3f} | "
            f"{1000 * r['wall'] / r['slos']:.2f} | {r['head']:,} | {r['rss_mib']:.0f} |"
        )
    per_slo = big["cpu"] / big["slos"]
    small = min(measured, key=lambda r: r["slos"])
    # Memory per SLO between the two sizes: the fixed cost of loading any rules cancels out.
    kib = 1024 * (big["rss_mib"] - small["rss_mib"]) / max(1, big["slos"] - small["slos"])
    print(f"memory per SLO between {small['slos']} and {big['slos']} SLOs: {kib:.0f} KiB")
    print(f"samples read per minute per SLO (query statistics, one SLO): {big['read']:,.0f}")
    comfortable = int(BUDGET_S_PER_MIN / per_slo)
    ratio = next(k for k in kinds if k["kind"].startswith("ratio"))
    print(f"\nExtrapolated (linear in SLOs, from {big['slos']}): {comfortable:,} SLOs in {BUDGET_S_PER_MIN:.0f} CPU s of evaluation a minute (10% of one core)")
    print("\nDashboards (bytes):")
    for name, size in boards.items():
        print(f"  {name}: {size:,}")
    n = 10_000
    print(f"\nA {n:,}-SLO organisation of ratio SLOs (extrapolated):")
    print(f"  rules: {n * (ratio['records'] + ratio['alerts']):,} ({n * ratio['records']:,} recording), rule groups: {n * ratio['groups']:,}")
    print(f"  recorded series: {n * ratio['records']:,}, samples written/min: {n * ratio['written']:,.0f}, read/min: {n * big['read']:,.0f}")
    print(f"  rule evaluation: {n * per_slo:,.0f} CPU s a minute: {math.ceil(n / comfortable)} Prometheus servers or ruler shards at 10% of a core each")
    print(f"  memory for the rules and recorded series: about {n * kib / 1024 / 1024:.1f} GiB over the raw series")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="50,200", help="SLO counts measured on Prometheus")
    parser.add_argument("--series", type=int, default=10, help="raw series per SLO")
    parser.add_argument("--rounds", type=int, default=3, help="evaluations averaged per group")
    parser.add_argument("--warmup", type=int, default=5 * 60 + SCRAPE_S, help="seconds of scrapes first (rate(x[5m]) full)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="slogen-at-scale-") as scratch:
        work = Path(scratch)
        kinds = counted(work)
        boards = dashboards(work)
        print("measuring on Prometheus (about 15 minutes) ...", flush=True)
        measured = measure(work, [int(s) for s in args.sizes.split(",")], args.series, args.rounds, args.warmup)
    report(kinds, measured, boards, args.series)


if __name__ == "__main__":
    main()
