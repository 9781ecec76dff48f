"""How long `slogen generate` takes on large specs: 10, 100 and 1,000 SLOs (and more).

    make bench            # or: .venv/bin/python bench/generate.py [--sizes 10,100,1000]

Synthetic specs spread over services (ten SLOs a service, mixed ratio and latency SLIs,
and a threshold alert for every other SLO) are written to a scratch folder; each size
runs `slogen generate` as a separate process, three times, and the best wall time is
reported with SLOs per second and the child's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SLOS_PER_SERVICE = 10


def spec(service: int, count: int) -> str:
    lines = ["version: 1", f"service: svc{service:04d}", f"owner: team{service % 7}", "slos:"]
    for i in range(count):
        if i % 2:
            lines += [
                f"  latency-{i}:",
                "    objective: 99%",
                "    latency:",
                f'      histogram: http_request_duration_seconds{{job="svc{service}", route="/r{i}"}}',
                "      buckets: [0.1, 0.25, 0.5, 1]",
                "      threshold: 250ms",
            ]
        else:
            lines += [
                f"  availability-{i}:",
                "    objective: 99.9%",
                "    ratio:",
                f'      bad: http_requests_total{{job="svc{service}", route="/r{i}", code=~"5.."}}',
                f'      total: http_requests_total{{job="svc{service}", route="/r{i}"}}',
            ]
    lines.append("alerts:")
    for i in range(0, count, 2):
        lines += [
            f"  error-rate-{i}:",
            f"    ratio_of: availability-{i}",
            "    critical: {above: 5%, for: 5m}",
            "    warning: {above: 1%, for: 10m}",
        ]
    return "\n".join(lines) + "\n"


def write_specs(root: Path, slos: int) -> Path:
    folder = root / f"slo-{slos}"
    folder.mkdir()
    services = max(1, slos // SLOS_PER_SERVICE)
    for s in range(services):
        (folder / f"svc{s:04d}.yaml").write_text(spec(s, min(SLOS_PER_SERVICE, slos)))
    return folder


def run(folder: Path, out: Path) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "generator.cli", "generate", "--spec", str(folder), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    print(f"{'SLOs':>6} {'alerts':>6} {'files':>6} {'seconds':>8} {'SLOs/s':>8} {'peak MB':>8}")
    with tempfile.TemporaryDirectory(prefix="slogen-bench-") as scratch:
        root = Path(scratch)
        for slos in sizes:
            folder = write_specs(root, slos)
            best = float("inf")
            peak = 0
            for attempt in range(args.repeat):
                out = root / f"out-{slos}-{attempt}"  # a fresh out/ each time: full writes
                seconds, rss = run(folder, out)
                best = min(best, seconds)
                peak = max(peak, rss)
            files = sum(1 for p in out.rglob("*") if p.is_file())
            print(f"{slos:>6} {slos // 2:>6} {files:>6} {best:>8.2f} {slos / best:>8.0f} {peak / 1024:>8.0f}")


if __name__ == "__main__":
    main()
