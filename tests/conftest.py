"""Shared helpers: run the real CLI in a subprocess, find the real tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# The launch plan as a fixture: the default folder of slogen() below. The repository's own
# slo/ and out/ belong to the team that uses slogen; the tool's tests never read them.
PLAN = REPO / "tests" / "cases" / "plan"


def slogen(*args: str, cwd: Path = PLAN, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `slogen ARGS` as a user would: a separate process, exit code and streams."""
    return subprocess.run(
        [sys.executable, "-m", "slogen.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture(scope="session")
def promtool() -> str:
    """promtool must be installed (make test installs it): a missing tool fails, never skips."""
    path = shutil.which("promtool")
    assert path, "promtool not found: run `make test` (installs Debian's prometheus) or apt-get install prometheus"
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
