"""The real tools, wrapped: promtool (and later amtool). Subprocess, parsed output,
a clear message when a binary is missing."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import CheckFailed, ToolMissing

INSTALL_HINT = {
    "promtool": "install it with `apt-get install prometheus` (Debian) or put Prometheus' promtool on PATH",
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
    if not files:
        return ""
    return check("promtool", ["test", "rules", *map(str, files)], "promtool test rules", cwd)
