"""The real tools, wrapped: promtool and amtool. Subprocess, parsed output,
a clear message when a binary is missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .errors import CheckFailed, ToolMissing

INSTALL_HINT = {
    "promtool": "install it with `apt-get install prometheus` (Debian) or put Prometheus' promtool on PATH",
    "amtool": "install it with `apt-get install prometheus-alertmanager` (Debian) or put amtool on PATH",
}


@dataclass(frozen=True)
class Result:
    command: list[str]
    returncode: int
    output: str


def find(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ToolMissing(f"{tool} not found: {INSTALL_HINT.get(tool, 'install it and put it on PATH')}")
    return path


# promtool's unit tests open a fresh TSDB for every test case: tens of MB allocated and
# garbage a moment later. Under Go's default (GOGC=100) it spent over a quarter of its CPU
# collecting that garbage. Collecting only as the heap nears GOMEMLIMIT cut its CPU time by
# about 28% for at most ~230 MB per process (measured on 30 test files). A user's own GOGC
# or GOMEMLIMIT wins.
GO_GC_ENV = {"GOGC": "off", "GOMEMLIMIT": "200MiB"}


def _environment(scratch: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if "GOGC" not in env and "GOMEMLIMIT" not in env:
        env.update(GO_GC_ENV)
    if scratch is not None:
        env["TMPDIR"] = scratch
    return env


# Each of promtool's test cases opens its TSDB in a fresh folder under TMPDIR and removes it
# after. On a VM's disk, those file system calls doubled the wall time of `promtool test
# rules` (same CPU: 60 test files, 16-20 s on /tmp, 7.5-10.6 s on tmpfs). So the test
# databases go to tmpfs when there is one with room to spare; a user's TMPDIR wins.
RAM_DISK = Path("/dev/shm")
RAM_DISK_FREE = 1 << 30  # a test case's database takes a few MB; leave a small /dev/shm alone


@contextmanager
def test_scratch() -> Iterator[str | None]:
    """A folder on tmpfs for promtool's test databases (removed after), or None: TMPDIR as is."""
    if "TMPDIR" in os.environ or not _roomy(RAM_DISK):
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="slogen-promtool-", dir=RAM_DISK) as scratch:
        yield scratch


def _roomy(folder: Path) -> bool:
    try:
        stat = os.statvfs(folder)
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK) and stat.f_bavail * stat.f_frsize >= RAM_DISK_FREE


def run(
    tool: str, args: list[str], cwd: Path | None = None, timeout: float = 1800, scratch: str | None = None
) -> Result:
    command = [find(tool), *args]
    proc = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=_environment(scratch)
    )
    return Result(command, proc.returncode, (proc.stdout + proc.stderr).strip())


def check(tool: str, args: list[str], what: str, cwd: Path | None = None) -> str:
    result = run(tool, args, cwd)
    if result.returncode != 0:
        raise CheckFailed(f"{what} failed ({tool} exit {result.returncode}):\n{result.output}")
    return result.output


T = TypeVar("T")
R = TypeVar("R")


def in_parallel(call: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """call(item) for every item, one tool process per core at a time; answers in the
    items' order, so reports stay the same from run to run."""
    workers = max(1, min(os.cpu_count() or 1, len(items)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(call, items))


CHUNKS_PER_WORKER = 4  # a promtool start costs ~20 ms; a share of 1,500 test files ~10 s


def failing_files(tool: str, command: list[str], files: list[str], cwd: Path) -> dict[str, str]:
    """Run `tool COMMAND FILES...` (one process per core at a time, each on a share of the
    files) and return each failing file with the tool's output. promtool writes its
    verdicts to stdout and its failures to stderr, so a failing share is run again file by
    file to say which failed. Paths are relative to cwd, so no scratch path reaches the
    output. Shares are small (CHUNKS_PER_WORKER per core): files differ in cost, and a
    core left idle at the end by one long share, or a failing share run again, costs less."""
    if not files:
        return {}
    workers = max(1, min(os.cpu_count() or 1, len(files)))
    shares = min(len(files), workers * CHUNKS_PER_WORKER)
    chunks = [files[i::shares] for i in range(shares)]
    failures: dict[str, str] = {}
    with test_scratch() as scratch, ThreadPoolExecutor(max_workers=workers) as pool:

        def run_chunk(chunk: list[str]) -> dict[str, str]:
            if run(tool, [*command, *chunk], cwd, scratch=scratch).returncode == 0:
                return {}
            results = {name: run(tool, [*command, name], cwd, scratch=scratch) for name in chunk}
            return {name: r.output for name, r in results.items() if r.returncode != 0}

        for found in pool.map(run_chunk, chunks):
            failures.update(found)
    return dict(sorted(failures.items()))


def amtool_route_test(config: str, labels: dict[str, str], receivers: list[str], cwd: Path) -> str | None:
    """None when the labels reach exactly these receivers, else amtool's answer."""
    args = [f"--config.file={config}", f"--verify.receivers={','.join(receivers)}"]
    args += [f"{k}={v}" for k, v in sorted(labels.items())]
    result = run("amtool", ["config", "routes", "test", *args], cwd)
    return None if result.returncode == 0 else result.output


def used_templates(config_text: str) -> list[str]:
    """The named templates an Alertmanager config calls, each once, sorted."""
    return sorted(set(re.findall(r'{{-?\s*template\s+\\?"([^"\\]+)\\?"', config_text)))


def amtool_template_render(glob: str, name: str, data: str, cwd: Path) -> str | None:
    """None when the template renders, else amtool's answer."""
    args = [f"--template.glob={glob}", f'--template.text={{{{ template "{name}" . }}}}', f"--template.data={data}"]
    result = run("amtool", ["template", "render", *args], cwd)
    return None if result.returncode == 0 else result.output
