"""The README's full examples are real: they load, generate and pass promtool and amtool."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import REPO, slogen


def _block(starting: str) -> str:
    readme = (REPO / "README.md").read_text()
    return next(b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if b.startswith(starting))


def test_the_readme_examples_validate(promtool: str, tmp_path: Path) -> None:
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo" / "api.yaml").write_text(_block("# slo/api.yaml"))
    (tmp_path / "slo" / "alerting.yaml").write_text(_block("version: 1\nsmtp:"))
    result = slogen("validate", "--spec", "slo", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "promtool test rules: passed (10 files)" in result.stdout
    assert "amtool check-config: passed (1 file)" in result.stdout
