"""The real tools, wrapped: promtool (and later amtool). Subprocess, parsed output,
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


def promtool_check_rules(files: list[Path], cwd: Path | None = None) -> str:
    if not files:
        return ""
    return check("promtool", ["check", "rules", *map(str, files)], "promtool check rules", cwd)


def promtool_test_rules(files: list[Path], cwd: Path | None = None) -> str:
    """One promtool per core, each on a share of the files (tests are independent)."""
    if not files:
        return ""
    workers = max(1, min(os.cpu_count() or 1, len(files)))
    chunks = [files[i::workers] for i in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outputs = list(
            pool.map(
                lambda chunk: check("promtool", ["test", "rules", *map(str, chunk)], "promtool test rules", cwd), chunks
            )
        )
    return "\n".join(outputs)


def amtool_check_config(config: Path) -> str:
    return check("amtool", ["check-config", str(config)], "amtool check-config")


def amtool_route_test(config: Path, labels: dict[str, str], receivers: list[str]) -> None:
    args = [f"--config.file={config}", f"--verify.receivers={','.join(receivers)}"]
    args += [f"{k}={v}" for k, v in sorted(labels.items())]
    result = run("amtool", ["config", "routes", "test", *args])
    if result.returncode != 0:
        raise CheckFailed(f"amtool config routes test: {labels} should reach {','.join(receivers)}:\n{result.output}")


def used_templates(config_text: str) -> list[str]:
    """The named templates an Alertmanager config calls, each once, sorted."""
    return sorted(set(re.findall(r'{{-?\s*template\s+\\?"([^"\\]+)\\?"', config_text)))


def amtool_template_render(glob: str, name: str, data: Path) -> str:
    args = [f"--template.glob={glob}", f'--template.text={{{{ template "{name}" . }}}}', f"--template.data={data}"]
    return check("amtool", ["template", "render", *args], f"amtool template render {name}")
