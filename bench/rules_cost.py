"""What the generated rules cost Prometheus, against the peers' rule shapes, on the same data.

    make bench                                   # with bench/generate.py
    .venv/bin/python bench/rules_cost.py --slos 10 --instances 5 --days 30

One real Prometheus on 127.0.0.1 holds 30 days of request counters for N SLOs (each over
`instances` x 2 series, one sample a minute) with uneven traffic: busy days, quiet nights,
and errors mostly at night. Three rule sets are loaded in turn:

- slogen: the rules `slogen generate` writes for these SLOs (5m rates of bad and all
  events recorded once; longer windows and the period summed from them);
- Sloth's shape: seven error ratios from raw counters, the period as the average of the
  recorded 5m ratios;
- Pyrra's shape: the same windows from raw counters, the period as increase() over the
  whole window on raw counters.

Recorded histories a shape reads (slogen's 5m rates, Sloth's 5m ratio) are backfilled
with `promtool tsdb create-blocks-from rules`. For each set: rule evaluations a minute;
evaluation time per group from /api/v1/rules (every group every 2s, the median of
`--rounds` evaluations; each set measured `--repeat` times, the sets in turn, the median
kept); samples read per evaluation from the query statistics (totalQueryableSamples: no
machine noise), all per minute at the production intervals (1m; slogen's 30m sums and
2m30s period group at theirs); Prometheus' CPU time a production minute, every group at
a thirtieth of its interval, less an idle Prometheus (CPU time does not grow while other
processes hold the cores, as wall-clock evaluation time does); and the period SLI's error
against the true ratio of bad to all events. `--against main` measures the rules of that
revision too, in the same Prometheus.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.harness import backfill_file, binary, prometheus, wait_until  # noqa: E402

WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
TIERS = (
    ("critical", "1h", "5m", 14.4),
    ("critical", "6h", "30m", 6),
    ("warning", "1d", "2h", 3),
    ("warning", "3d", "6h", 1),
)
OBJECTIVE = 0.999
STEP = 60
FUTURE = 20 * 60  # data runs this far past "now", so live evaluations see fresh samples


def load(ts: float) -> tuple[float, float]:
    """(requests per minute per series pair, error ratio) at a time: busy days, quiet
    nights, and errors mostly at night."""
    hour = (ts % 86400) / 3600
    day = max(0.0, math.sin(math.pi * (hour - 6) / 16)) if 6 <= hour <= 22 else 0.0
    rpm = 30 + 570 * day
    error = 0.02 if hour < 6 else 0.0005
    return rpm, error


def selectors(slo: int) -> tuple[str, str]:
    return f'bench_requests_total{{slo="s{slo}", code=~"5.."}}', f'bench_requests_total{{slo="s{slo}"}}'


def write_data(path: Path, slos: int, instances: int, start: int, end: int) -> list[float]:
    """Counters to OpenMetrics (one series after the other); returns the true error
    ratio of each SLO over the last 30 days up to `end`."""
    period_start = end - 30 * 86400
    truth = []
    with path.open("w") as out:
        out.write("# TYPE bench_requests_total gauge\n")
        for slo in range(slos):
            bad_sum = total_sum = 0.0
            for instance in range(instances):
                for code in ("200", "500"):
                    value = 0.0
                    name = f'bench_requests_total{{slo="s{slo}",instance="i{instance}",code="{code}"}}'
                    lines = []
                    for ts in range(start, end + 1, STEP):
                        rpm, error = load(ts)
                        skew = 1 + 0.1 * instance  # instances differ in size
                        step = rpm * skew * (error if code == "500" else 1 - error) * STEP / 60
                        if ts > start:
                            value += step
                            if ts > period_start:
                                total_sum += step
                                bad_sum += step if code == "500" else 0.0
                        lines.append(f"{name} {value:.2f} {ts}\n")
                    out.writelines(lines)
            truth.append(bad_sum / total_sum)
        out.write("# EOF\n")
    return truth


def slogen_rules(work: Path, slos: int, ref: str | None = None) -> list[Path]:
    """The rules `slogen generate` writes for the bench's SLOs: this tree's, or with
    `ref` those of that git revision (extracted with `git archive`, run from there)."""
    source = REPO
    if ref is not None:
        source = work / "ref-tree"
        source.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    spec = work / ("ref-spec" if ref else "spec")
    spec.mkdir()
    lines = ["version: 1", "service: bench", "slos:"]
    for slo in range(slos):
        bad, total = selectors(slo)
        lines += [
            f"  s{slo}:",
            f"    objective: {OBJECTIVE}",
            "    ratio:",
            f"      bad: '{bad}'",
            f"      total: '{total}'",
        ]
    (spec / "bench.yaml").write_text("\n".join(lines) + "\n")
    out = work / ("ref-out" if ref else "slogen-out")
    subprocess.run(
        [sys.executable, "-m", "slogen.cli", "generate", "--spec", str(spec), "--out", str(out)],
        check=True,
        cwd=source,  # `-m` imports slogen from the working directory first
        capture_output=True,
    )
    return sorted((out / "prometheus/rules").glob("*.yaml"))


def _alerts(name: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    budget = 1 - OBJECTIVE
    sel = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    out = []
    for severity in ("critical", "warning"):
        arms = [
            f"(slo:sli_error:ratio_rate{long}{{{sel}}} > {factor * budget:g} and slo:sli_error:ratio_rate{short}{{{sel}}} > {factor * budget:g})"
            for sev, long, short, factor in TIERS
            if sev == severity
        ]
        out.append({"alert": name, "expr": " or ".join(arms), "labels": {**labels, "severity": severity}})
    return out


def sloth_rules(work: Path, slos: int) -> list[Path]:
    """Sloth's shape: every window from raw counters; the period averages 5m ratios."""
    groups = []
    for slo in range(slos):
        bad, total = selectors(slo)
        labels = {"sloth_service": "bench", "sloth_slo": f"s{slo}"}
        sel = ", ".join(f'{k}="{v}"' for k, v in labels.items())
        rules: list[dict[str, Any]] = [
            {
                "record": f"slo:sli_error:ratio_rate{w}",
                "expr": f"sum(rate({bad}[{w}])) / sum(rate({total}[{w}]))",
                "labels": labels,
            }
            for w in WINDOWS
        ]
        groups.append({"name": f"sloth-slo-sli-recordings-s{slo}", "rules": rules})
        period = f"sum_over_time(slo:sli_error:ratio_rate5m{{{sel}}}[30d]) / count_over_time(slo:sli_error:ratio_rate5m{{{sel}}}[30d])"
        meta = [
            {"record": "slo:sli_error:ratio_rate30d", "expr": period, "labels": labels},
            {"record": "slo:objective:ratio", "expr": f"vector({OBJECTIVE})", "labels": labels},
            {
                "record": "slo:period_burn_rate:ratio",
                "expr": f"slo:sli_error:ratio_rate30d{{{sel}}} / {1 - OBJECTIVE:g}",
                "labels": labels,
            },
        ]
        groups.append({"name": f"sloth-slo-meta-recordings-s{slo}", "rules": meta})
        groups.append({"name": f"sloth-slo-alerts-s{slo}", "rules": _alerts("SlothBurn", labels)})
    path = work / "sloth.yaml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return [path]


def pyrra_rules(work: Path, slos: int) -> list[Path]:
    """Pyrra's shape: windows from raw counters; the period with increase() over 30d."""
    groups = []
    for slo in range(slos):
        bad, total = selectors(slo)
        labels = {"pyrra_slo": f"s{slo}"}
        sel = f'pyrra_slo="s{slo}"'
        increase = [
            {
                "record": "bench_requests:increase30d",
                "expr": f"sum by (code) (increase({total}[30d]))",
                "labels": labels,
            },
            {
                "record": "slo:sli_error:ratio_rate30d",
                "expr": f'sum(bench_requests:increase30d{{{sel}, code=~"5.."}}) / sum(bench_requests:increase30d{{{sel}}})',
                "labels": labels,
            },
        ]
        groups.append({"name": f"pyrra-increase-s{slo}", "rules": increase})
        burn: list[dict[str, Any]] = [
            {
                "record": f"slo:sli_error:ratio_rate{w}",
                "expr": f"sum(rate({bad}[{w}])) / sum(rate({total}[{w}]))",
                "labels": labels,
            }
            for w in WINDOWS
        ]
        groups.append({"name": f"pyrra-burnrate-s{slo}", "rules": burn + _alerts("PyrraBurn", labels)})
    path = work / "pyrra.yaml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return [path]


def query(url: str, expr: str, at: float) -> tuple[list[Any], int]:
    params = urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}", "stats": "all"})
    with urllib.request.urlopen(f"{url}/api/v1/query?{params}", timeout=120) as response:
        data = json.load(response)["data"]
    return data["result"], int(data.get("stats", {}).get("samples", {}).get("totalQueryableSamples", 0))


def backfill_recordings(url: str, rules: list[dict[str, Any]], start: int, end: int, work: Path, interval: str) -> Path:
    """Recorded series over the history, evaluated by promtool against what the
    Prometheus at `url` holds (promtool cannot chain recordings: one level a pass)."""
    path = work / f"backfill-rules-{interval}.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "backfill", "rules": rules}]}, sort_keys=False))
    out = work / f"backfill-blocks-{interval}"
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
            f"--eval-interval={interval}",
            "--max-block-duration=168h",  # 7 days: a range query at 60s stays under 11,000 points
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"rule backfill failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return out


def production_interval(group: dict[str, Any]) -> float:
    """Minutes between evaluations in production: 1m, or the group's own interval."""
    from slogen.quantity import parse_duration

    return parse_duration(group.get("interval", "1m")) / 60_000


def measure(url: str, files: list[Path], work: Path, name: str, at: float, rounds: int) -> dict[str, Any]:
    """Load one rule set (every group evaluated every 2s), average each group's
    evaluation time over `rounds` evaluations, count samples per rule."""
    groups = [g for f in files for g in yaml.safe_load(f.read_text())["groups"]]
    fast = work / f"{name}-measured.yaml"
    fast.write_text(yaml.safe_dump({"groups": [{**g, "interval": "2s"} for g in groups]}, sort_keys=False))
    config = {"global": {"evaluation_interval": "2s"}, "rule_files": [str(fast)]}
    (work / "prometheus.yml").write_text(json.dumps(config))
    urllib.request.urlopen(urllib.request.Request(f"{url}/-/reload", method="POST"), timeout=30).read()
    wait_until(lambda: _rules(url, {g["name"] for g in groups}), 60, f"the {name} rules to load")
    times: dict[str, list[float]] = {}
    seen: dict[str, str] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (len(times) < len(groups) or min(len(v) for v in times.values()) < rounds):
        for group in _rules(url, {g["name"] for g in groups}) or []:
            if group["lastEvaluation"] != seen.get(group["name"]) and group["lastEvaluation"][:4] != "0001":
                seen[group["name"]] = group["lastEvaluation"]
                times.setdefault(group["name"], []).append(float(group["evaluationTime"]))
        time.sleep(0.5)
    seconds_per_minute = mean_seconds_per_minute = samples_per_minute = evaluations_per_minute = 0.0
    for group in groups:
        # The median: a shared machine stalls a process now and then, and one stall
        # would move a mean of a few evaluations by more than the shapes differ. The
        # mean (what this bench reported before) is kept for comparison.
        runs = times.get(group["name"], [0.0])
        per_minute = 1 / production_interval(group)
        seconds_per_minute += statistics.median(runs) * per_minute
        mean_seconds_per_minute += statistics.mean(runs) * per_minute
        evaluations_per_minute += len(group["rules"]) * per_minute
        for rule in group["rules"]:
            _, samples = query(url, rule["expr"], at)
            samples_per_minute += samples * per_minute
    return {
        "rules": sum(len(g["rules"]) for g in groups),
        "evaluations_per_minute": evaluations_per_minute,
        "samples_per_minute": samples_per_minute,
        "seconds_per_minute": seconds_per_minute,
        "mean_seconds_per_minute": mean_seconds_per_minute,
    }


SPEEDUP = 30  # the CPU measurement runs every group up to 30 times as often as in production


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used: /proc/<pid>/stat, fields 14 and 15."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _missed(url: str, path: Path) -> float:
    """Evaluations Prometheus skipped in the groups of one rule file (it was still busy)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as response:
        lines = response.read().decode().splitlines()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith("prometheus_rule_group_iterations_missed_total{") and f'"{path};' in line
    )


def cpu_per_minute(url: str, pid: int, files: list[Path], work: Path, name: str, seconds: float) -> float:
    """CPU seconds Prometheus spends a production minute on a rule set: every group at its
    production interval / speedup for `seconds`, its CPU time less that of as long with no
    rules, divided by the production minutes run. CPU time, unlike a wall-clock evaluation
    time, does not grow while other processes hold the cores; but an evaluation skipped
    because the last one still ran costs nothing, so the speedup halves until none is."""
    groups = [g for f in files for g in yaml.safe_load(f.read_text())["groups"]]
    speedup = SPEEDUP
    while True:
        used = []
        path = work / f"{name}-cpu-{speedup}.yaml"
        scaled = [{**g, "interval": f"{production_interval(g) * 60_000 / speedup:.0f}ms"} for g in groups]
        for rules in ([], scaled):
            path.write_text(yaml.safe_dump({"groups": rules}, sort_keys=False))
            config = {"global": {"evaluation_interval": "1m"}, "rule_files": [str(path)]}
            (work / "prometheus.yml").write_text(json.dumps(config))
            urllib.request.urlopen(urllib.request.Request(f"{url}/-/reload", method="POST"), timeout=30).read()
            time.sleep(2)  # past the first evaluations' start-up
            before = _cpu_seconds(pid)
            time.sleep(seconds)
            used.append(_cpu_seconds(pid) - before)
        if not _missed(url, path) or speedup == 1:
            return (used[1] - used[0]) / (seconds * speedup / 60)
        speedup = max(1, speedup // 2)


def _rules(url: str, names: set[str]) -> list[dict[str, Any]] | None:
    with urllib.request.urlopen(f"{url}/api/v1/rules", timeout=30) as response:
        groups = [g for g in json.load(response)["data"]["groups"] if g["name"] in names]
    return groups if len(groups) == len(names) else None


def period_expressions(files: list[Path], slos: int, label: str) -> list[str]:
    """Each SLO's 30-day error ratio as its rule set records it."""
    groups = [g for f in files for g in yaml.safe_load(f.read_text())["groups"]]
    rules = {
        r["labels"].get(label): r["expr"]
        for g in groups
        for r in g["rules"]
        if r.get("record") == "slo:sli_error:ratio_rate30d"
    }
    return [rules[f"s{slo}"] for slo in range(slos)]


def pyrra_periods(slos: int) -> list[str]:
    """Pyrra's period: its increase30d recording, inlined (it is not recorded here)."""
    return [f"sum(increase({bad}[30d])) / sum(increase({total}[30d]))" for bad, total in map(selectors, range(slos))]


def period_errors(url: str, expressions: list[str], at: float, truth: list[float]) -> list[float]:
    """Relative error of each SLO's period SLI against the true ratio of bad to all events."""
    out = []
    for expr, true_ratio in zip(expressions, truth, strict=True):
        result, _ = query(url, expr, at)
        out.append(float(result[0]["value"][1]) / true_ratio - 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slos", type=int, default=10)
    parser.add_argument("--instances", type=int, default=25, help="series pairs (200/500) per SLO: 50 series")
    parser.add_argument("--days", type=int, default=33, help="history; the period is 30 days")
    parser.add_argument("--rounds", type=int, default=9, help="evaluations per group (their median counts)")
    parser.add_argument("--repeat", type=int, default=3, help="measurements of each set, interleaved (median)")
    parser.add_argument("--cpu-seconds", type=float, default=40, help="how long each set's CPU time is measured")
    parser.add_argument("--against", metavar="REF", help="also measure the rules of this git revision (e.g. main)")
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} (1 min)", flush=True)
    with tempfile.TemporaryDirectory(prefix="slogen-rules-cost-") as scratch:
        work = Path(scratch)
        now = int(time.time()) // 60 * 60
        end = now + FUTURE
        start = end - args.days * 86400
        t0 = time.perf_counter()
        truth = write_data(work / "data.om", args.slos, args.instances, start, end)
        data = work / "data"
        backfill_file(work / "data.om", data)
        (work / "data.om").unlink()
        series = args.slos * args.instances * 2
        print(
            f"data: {args.slos} SLOs x {series // args.slos} series, {args.days} days at {STEP}s "
            f"({series * args.days * 86400 // STEP:,} samples), ready in {time.perf_counter() - t0:.0f}s",
            flush=True,
        )
        shapes = {"slogen": slogen_rules(work, args.slos)}
        if args.against:
            shapes[f"slogen@{args.against}"] = slogen_rules(work, args.slos, args.against)
        shapes |= {"sloth": sloth_rules(work, args.slos), "pyrra": pyrra_rules(work, args.slos)}
        backfill_levels(shapes, data, work, start, end)
        print(f"recorded histories backfilled in {time.perf_counter() - t0:.0f}s", flush=True)
        (work / "p2").mkdir()
        with prometheus(
            work / "p2", data_dir=data, extra=["--web.enable-lifecycle", "--query.max-samples=500000000"]
        ) as server:
            # prometheus() wrote its config in p2/; point reloads at it
            results = measure_all(server.url, shapes, work / "p2", end, args.rounds, args.repeat)
            for name, files in shapes.items():
                cpu = cpu_per_minute(server.url, server.process.pid, files, work / "p2", name, args.cpu_seconds)
                results[name]["cpu_per_minute"] = cpu
            accuracy = {
                name: period_errors(server.url, period_expressions(files, args.slos, "slo"), end, truth)
                for name, files in shapes.items()
                if name.startswith("slogen")
            }
            accuracy["sloth"] = period_errors(
                server.url, period_expressions(shapes["sloth"], args.slos, "sloth_slo"), end, truth
            )
            accuracy["pyrra"] = period_errors(server.url, pyrra_periods(args.slos), end, truth)
    print(f"load: {os.getloadavg()[0]:.2f} (1 min)")
    print_table(results, accuracy)
    print(f"\ntrue 30d error ratios: {', '.join(f'{t:.5f}' for t in truth[:3])}{', ...' if len(truth) > 3 else ''}")


def backfill_levels(shapes: dict[str, list[Path]], data: Path, work: Path, start: int, end: int) -> None:
    """The recorded histories the shapes read, one level a pass, at their production intervals."""

    def recordings(shape: str, names: tuple[str, ...]) -> list[dict[str, Any]]:
        groups = [g for f in shapes[shape] for g in yaml.safe_load(f.read_text())["groups"]]
        return [r for g in groups for r in g["rules"] if r.get("record") in names]

    levels = [
        (
            "1m",
            recordings("slogen", ("slo:sli_bad_events:rate5m", "slo:sli_total_events:rate5m"))
            + recordings("sloth", ("slo:sli_error:ratio_rate5m",)),
        ),
        ("30m", recordings("slogen", ("slo:sli_bad_events:rate5m_sum30m", "slo:sli_total_events:rate5m_sum30m"))),
    ]
    for level, (interval, rules) in enumerate(levels):
        with prometheus(work / f"p-backfill-{level}", data_dir=data) as server:
            blocks = backfill_recordings(server.url, rules, start + 600 + level * 1800, end, work, interval)
        for block in blocks.iterdir():  # into the data folder once that Prometheus is gone
            shutil.move(str(block), data / block.name)


def measure_all(
    url: str, shapes: dict[str, list[Path]], work: Path, at: float, rounds: int, repeat: int
) -> dict[str, dict[str, Any]]:
    """Each set measured `repeat` times, the sets in turn (load on a shared machine comes
    and goes: interleaved, each set sees it alike); evaluation time is the median."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in shapes}
    for _ in range(repeat):
        for name, files in shapes.items():
            runs[name].append(measure(url, files, work, name, at, rounds))
    return {
        name: {
            **found[0],
            "seconds_per_minute": statistics.median(r["seconds_per_minute"] for r in found),
            "mean_seconds_per_minute": statistics.median(r["mean_seconds_per_minute"] for r in found),
        }
        for name, found in runs.items()
    }


def print_table(results: dict[str, dict[str, Any]], accuracy: dict[str, list[float]]) -> None:
    base = results["slogen"]
    print()
    print(
        f"{'shape':<12} {'rules':>6} {'evals/min':>10} {'samples/min':>13} {'vs slogen':>10} "
        f"{'eval s/min':>11} {'vs slogen':>10} {'period SLI error (mean, worst)':>32}"
    )
    for name, r in results.items():
        errors = accuracy[name]
        mean = sum(abs(e) for e in errors) / len(errors)
        worst = max(errors, key=abs)
        print(
            f"{name:<12} {r['rules']:>6} {r['evaluations_per_minute']:>10.1f} "
            f"{r['samples_per_minute']:>13,.0f} {r['samples_per_minute'] / base['samples_per_minute']:>9.1f}x "
            f"{r['seconds_per_minute']:>11.4f} {r['seconds_per_minute'] / base['seconds_per_minute']:>9.1f}x "
            f"{mean * 100:>14.2f}% {worst * 100:>+14.2f}%"
        )
    means = ", ".join(
        f"{name} {r['mean_seconds_per_minute']:.4f} ({r['mean_seconds_per_minute'] / base['mean_seconds_per_minute']:.1f}x)"
        for name, r in results.items()
    )
    print(f"\neval s/min from the mean of each group's evaluations instead of their median: {means}")
    cpu = ", ".join(
        f"{name} {r['cpu_per_minute']:.4f} ({r['cpu_per_minute'] / base['cpu_per_minute']:.1f}x)"
        for name, r in results.items()
    )
    print(f"Prometheus CPU s/min (groups at up to 1/{SPEEDUP} of their intervals, less an idle Prometheus): {cpu}")


if __name__ == "__main__":
    main()
