"""The README's full spec example is real: it loads, generates and passes promtool."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import REPO, slogen


def test_the_readme_spec_example_validates(promtool: str, tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    example = next(
        block for block in re.findall(r"```yaml\n(.*?)```", readme, re.S) if block.startswith("# slo/api.yaml")
    )
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo" / "api.yaml").write_text(example)
    result = slogen("validate", "--spec", "slo", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "promtool test rules: 8 files OK" in result.stdout
