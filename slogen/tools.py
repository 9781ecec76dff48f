"""The real tools, wrapped: promtool and amtool. Subprocess, parsed output,
a clear message when a binary is missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

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


def run(tool: str, args: list[str], cwd: Path | None = None, timeout: float = 1800) -> Result:
    command = [find(tool), *args]
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    return Result(command, proc.returncode, (proc.stdout + proc.stderr).strip())


def check(tool: str, args: list[str], what: str, cwd: Path | None = None) -> str:
    result = run(tool, args, cwd)
    if result.returncode != 0:
        raise CheckFailed(f"{what} failed ({tool} exit {result.returncode}):\n{result.output}")
    return result.output


def failing_files(tool: str, command: list[str], files: list[str], cwd: Path) -> dict[str, str]:
    """Run `tool COMMAND FILES...` (one process per core, each on a share of the files)
    and return each failing file with the tool's output. promtool writes its verdicts to
    stdout and its failures to stderr, so a failing share is run again file by file to
    say which failed. Paths are relative to cwd, so no scratch path reaches the output."""
    if not files:
        return {}
    workers = max(1, min(os.cpu_count() or 1, len(files)))
    chunks = [files[i::workers] for i in range(workers)]

    def run_chunk(chunk: list[str]) -> dict[str, str]:
        if run(tool, [*command, *chunk], cwd).returncode == 0:
            return {}
        results = {name: run(tool, [*command, name], cwd) for name in chunk}
        return {name: r.output for name, r in results.items() if r.returncode != 0}

    failures: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
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
