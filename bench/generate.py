"""How long `slogen generate` and `slogen validate` take on large specs.

    make bench                         # 10, 100, 1,000 and 10,000 SLOs
    .venv/bin/python bench/generate.py --sizes 10,100 --validate-max 100

Synthetic specs over 100 services (fewer when there are fewer SLOs): SLIs of every kind
in turn (ratio bad/total, ratio good/bad, latency, raw) and a threshold alert for every
other SLO (error ratio, p99 latency, gauge over capacity). Each command runs in a fresh
process; the best of --repeat runs is reported, with that process's peak memory.
`generate` is timed writing out/ to this machine's disk and to tmpfs (/dev/shm), which
separates slogen's own time from the disk's (file creation is slow on some VMs), and
`generate --check` (CI's guard: compare, write nothing) on the tree it wrote.
`validate` (promtool on every rule and test, amtool, dashboards) runs up to
--validate-max SLOs: it takes about 0.1 s per SLO on two cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVICES = 100
HERE = Path(__file__).resolve().parent


def slo_block(service: int, i: int) -> list[str]:
    job = f"svc{service}"
    kind = i % 4
    name = ["availability", "checkout", "latency", "queue"][kind] + f"-{i}"
    head = [f"  {name}:", "    objective: " + ["99.9%", "99.5%", "99%", "95%"][kind]]
    if kind == 0:
        return head + [
            "    ratio:",
            f'      bad: http_requests_total{{job="{job}", route="/r{i}", code=~"5.."}}',
            f'      total: http_requests_total{{job="{job}", route="/r{i}"}}',
        ]
    if kind == 1:
        return head + [
            "    ratio:",
            f'      good: payments_total{{job="{job}", flow="f{i}", outcome="ok"}}',
            f'      bad: payments_total{{job="{job}", flow="f{i}", outcome="failed"}}',
        ]
    if kind == 2:
        return head + [
            "    latency:",
            f'      histogram: http_request_duration_seconds{{job="{job}", route="/r{i}"}}',
            "      buckets: [0.1, 0.25, 0.5, 1, 2.5]",
            "      threshold: 500ms",
        ]
    failed, done = f'jobs_failed_total{{job="{job}", queue="q{i}"}}', f'jobs_total{{job="{job}", queue="q{i}"}}'
    return head + [
        "    raw:",
        f"      error_ratio: sum(rate({failed}[$window])) / sum(rate({done}[$window]))",
        "      test:",
        f"        erroring: [{{series: '{failed}', values: '0+60x20'}}, {{series: '{done}', values: '0+100x20'}}]",
        f"        healthy: [{{series: '{failed}', values: '0+0x20'}}, {{series: '{done}', values: '0+100x20'}}]",
    ]


def alert_block(service: int, i: int) -> list[str]:
    job = f"svc{service}"
    kind = i % 4
    if kind == 0:
        return [
            f"  error-rate-{i}:",
            f"    ratio_of: availability-{i}",
            "    critical: {above: 5%, for: 5m}",
            "    warning: {above: 1%, for: 10m}",
        ]
    if kind == 2:
        return [
            f"  p99-{i}:",
            "    quantile: 0.99",
            f'    histogram: http_request_duration_seconds{{job="{job}", route="/r{i}"}}',
            "    critical: {above: 1s, for: 10m}",
        ]
    return [
        f"  pool-{i}:",
        f'    gauge: db_pool_in_use_connections{{job="{job}", pool="p{i}"}}',
        f'    capacity: db_pool_max_connections{{job="{job}", pool="p{i}"}}',
        "    critical: {at_least: 90%, for: 5m}",
    ]


def spec(service: int, first: int, count: int) -> str:
    lines = ["version: 1", f"service: svc{service:04d}", f"owner: team{service % 7}", "slos:"]
    for i in range(first, first + count):
        lines += slo_block(service, i)
    alerts = [line for i in range(first, first + count, 2) for line in alert_block(service, i)]
    return "\n".join(lines + (["alerts:", *alerts] if alerts else [])) + "\n"


def write_specs(root: Path, slos: int) -> Path:
    folder = root / f"slo-{slos}"
    folder.mkdir()
    services = min(SERVICES, slos)
    per, extra = divmod(slos, services)
    first = 0
    for s in range(services):
        count = per + (1 if s < extra else 0)
        (folder / f"svc{s:04d}.yaml").write_text(spec(s, first, count))
        first += count
    return folder


def run(args: list[str], scratch: Path) -> tuple[float, float, str]:
    """(seconds, peak MB, stdout) of one slogen command in a fresh process."""
    rss = scratch / "rss"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(HERE / "_measure.py"), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SLOGEN_RSS_FILE": str(rss)},
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"slogen {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return seconds, int(rss.read_text()) / 1024, proc.stdout


def best(runs: int, command: list[str], scratch: Path, fresh_out: Path | None = None) -> tuple[float, float, str]:
    results = []
    for _ in range(runs):
        if fresh_out is not None:
            shutil.rmtree(fresh_out, ignore_errors=True)  # every run writes the whole tree
        results.append(run(command, scratch))
    return min(results, key=lambda r: r[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--validate-max", type=int, default=1000, help="largest size to run validate on")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    header = (
        f"{'SLOs':>6} {'svcs':>5} {'files':>6} {'generate s':>10} {'(tmpfs) s':>10} {'--check s':>9} {'SLOs/s':>7} {'peak MB':>8}"
        f" {'validate s':>10} {'peak MB':>8}"
    )
    print(header)
    with tempfile.TemporaryDirectory(prefix="slogen-bench-") as scratch_name:
        scratch = Path(scratch_name)
        for slos in sizes:
            folder = write_specs(scratch, slos)
            repeat = args.repeat if slos <= 1000 else 1
            out = scratch / f"out-{slos}"
            gen_s, gen_mb, _ = best(repeat, ["generate", "--spec", str(folder), "--out", str(out)], scratch, out)
            files = sum(1 for p in out.rglob("*") if p.is_file())
            check_s, _, _ = best(repeat, ["generate", "--check", "--spec", str(folder), "--out", str(out)], scratch)
            tmpfs = "-"
            if shm is not None:
                with tempfile.TemporaryDirectory(dir=shm) as ram:
                    ram_out = Path(ram) / "out"
                    tmp_s, _, _ = best(
                        repeat, ["generate", "--spec", str(folder), "--out", str(ram_out)], scratch, ram_out
                    )
                    tmpfs = f"{tmp_s:.2f}"
            validate = ("-", "-")
            if slos <= args.validate_max:
                val_s, val_mb, _ = best(1, ["validate", "--spec", str(folder)], scratch)
                validate = (f"{val_s:.1f}", f"{val_mb:.0f}")
            services = min(SERVICES, slos)
            print(
                f"{slos:>6} {services:>5} {files:>6} {gen_s:>10.2f} {tmpfs:>10} {check_s:>9.2f} {slos / gen_s:>7.0f} {gen_mb:>8.0f}"
                f" {validate[0]:>10} {validate[1]:>8}",
                flush=True,
            )
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
