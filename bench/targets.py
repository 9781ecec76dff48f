"""Issue 12's speed targets, measured side by side in one run:

    .venv/bin/python bench/targets.py              # best of 3 (1 at 10,000 SLOs and for validate)
    .venv/bin/python bench/targets.py --repeat 1

generate of 1,000 SLOs under 1 s and of 10,000 SLOs under 10 s and 300 MB peak, out/ on
tmpfs (/dev/shm, which leaves slogen's own time); validate of 1,000 SLOs under 60 s,
every alert still proven by promtool. The specs are bench/generate.py's. Each command
runs in a fresh process: wall seconds, CPU seconds (user + system, the command and every
tool it ran: what a loaded machine does not inflate), and the peak memory of the largest
single process (slogen, or a promtool it ran). The machine's load average before and
after is printed: on a shared machine the wall figures are only as good as it was idle.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import write_specs  # noqa: E402 - the same synthetic specs as bench/generate.py


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    peak_mb: float


def measure(args: list[str]) -> Run:
    """One slogen command in a fresh process; its rusage covers the tools it waited for."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "slogen", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    if proc.returncode != 0:
        raise SystemExit(f"slogen {' '.join(args)} failed ({proc.returncode}):\n{stderr[-3000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def best(runs: int, args: list[str], fresh_out: Path | None = None) -> Run:
    results = []
    for _ in range(runs):
        if fresh_out is not None:
            shutil.rmtree(fresh_out, ignore_errors=True)  # every run writes the whole tree
        results.append(measure(args))
    return min(results, key=lambda r: r.wall)


def row(what: str, measured: str, target: str, met: bool | None) -> str:
    verdict = "" if met is None else ("met" if met else "NOT met")
    return f"{what:<34} {measured:>22} {target:>10} {verdict:>8}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs of generate 1,000 (the best is kept)")
    parser.add_argument("--no-validate", action="store_true", help="leave out validate (minutes)")
    args = parser.parse_args()
    shm = Path("/dev/shm")
    if not shm.is_dir():
        raise SystemExit("no /dev/shm: the targets are measured with out/ on tmpfs")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} cores")
    print(f"{'':<34} {'wall s / cpu s / MB':>22} {'target':>10} {'':>8}")
    with tempfile.TemporaryDirectory(prefix="slogen-targets-") as scratch, tempfile.TemporaryDirectory(dir=shm) as ram:
        for slos, runs, limit_s, limit_mb in ((1000, args.repeat, 1.0, None), (10_000, 1, 10.0, 300.0)):
            spec = write_specs(Path(scratch), slos)
            out = Path(ram) / f"out-{slos}"
            r = best(runs, ["generate", "--spec", str(spec), "--out", str(out)], out)
            measured = f"{r.wall:.2f} / {r.cpu:.2f} / {r.peak_mb:.0f}"
            print(row(f"generate {slos:,} SLOs (tmpfs)", measured, f"< {limit_s:g} s", r.wall < limit_s), flush=True)
            if limit_mb is not None:
                print(row(f"generate {slos:,} SLOs peak memory", f"{r.peak_mb:.0f} MB", f"< {limit_mb:g} MB", r.peak_mb < limit_mb))
            shutil.rmtree(out, ignore_errors=True)
        if not args.no_validate:
            r = best(1, ["validate", "--spec", str(Path(scratch) / "slo-1000")])
            measured = f"{r.wall:.1f} / {r.cpu:.1f} / {r.peak_mb:.0f}"
            print(row("validate 1,000 SLOs", measured, "< 60 s", r.wall < 60), flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
