"""`vmalert -dryRun` on the generated rule files, when vmalert is on PATH: the rules as
VictoriaMetrics' vmalert loads them (its own YAML fields, MetricsQL's parser, Go templates
of the annotations). Without vmalert the stage says it was skipped and why; validate
still runs every other stage."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from . import tools

STAGE = "vmalert -dryRun"
INSTALL = "install it with `apt-get install victoria-metrics` (Debian) to check the rules as vmalert loads them"
# vmalert logs a line per flag before its verdict: keep the verdict, without time and source.
_FATAL = re.compile(r"\bfatal\s+\S+\s+(.*)$")


def available() -> bool:
    return shutil.which("vmalert") is not None


def failing_files(files: list[str], root: Path) -> dict[str, str]:
    """Each rule file vmalert refuses to load, with its reason; one run for all files,
    and file by file only when that one fails (to say which)."""
    if not files or _dry_run(files, root) is None:
        return {}
    found = {rel: _dry_run([rel], root) for rel in files}
    return {rel: reason for rel, reason in sorted(found.items()) if reason is not None}


def _dry_run(files: list[str], root: Path) -> str | None:
    result = tools.run("vmalert", ["-dryRun", *(f"-rule={rel}" for rel in files)], root, timeout=300)
    if result.returncode == 0:
        return None
    verdicts = [m.group(1) for line in result.output.splitlines() if (m := _FATAL.search(line))]
    return "\n".join(verdicts) or result.output
