"""The real promtool on every generated tree: rules load, and every generated unit test
(one file per SLO and per alert) passes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .conftest import PLAN, REPO
from .golden import CASES, cases

TREES = [c / "out" for c in cases()]


def _run(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("tree", TREES, ids=lambda p: str(p.relative_to(REPO)))
def test_promtool_check_rules_passes(promtool: str, tree: Path) -> None:
    rules = sorted(str(p.relative_to(tree)) for p in (tree / "prometheus/rules").rglob("*.yaml"))
    assert rules
    result = _run(promtool, "check", "rules", "--lint-fatal", *rules, cwd=tree)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("tree", TREES, ids=lambda p: str(p.relative_to(REPO)))
def test_promtool_test_rules_passes(promtool: str, tree: Path) -> None:
    tests = sorted(str(p.relative_to(tree)) for p in (tree / "prometheus/tests").rglob("*.test.yaml"))
    assert tests
    result = _run(promtool, "test", "rules", *tests, cwd=tree)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rules_file_has_a_test_file() -> None:
    for tree in TREES:
        rules = {
            p.relative_to(tree / "prometheus/rules").with_suffix("")
            for p in (tree / "prometheus/rules").rglob("*.yaml")
        }
        tests = {
            Path(str(p.relative_to(tree / "prometheus/tests")).removesuffix(".test.yaml"))
            for p in (tree / "prometheus/tests").rglob("*.test.yaml")
        }
        assert rules == tests, tree


def test_a_broken_rule_is_caught_by_the_generated_tests(promtool: str, tmp_path: Path) -> None:
    """The generated tests are not vacuous: raise the page threshold and they fail."""
    import shutil

    tree = tmp_path / "out"
    shutil.copytree(PLAN / "out", tree)
    rules = tree / "prometheus/rules/api.availability.yaml"
    rules.write_text(rules.read_text().replace("/ 0.001 > 6\n", "/ 0.001 > 60\n"))
    result = _run(promtool, "test", "rules", "prometheus/tests/api.availability.test.yaml", cwd=tree)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "FAILED" in output
    expected_line = next(line for line in output.splitlines() if line.strip().startswith("exp:"))
    assert 'severity="critical"' in expected_line  # the critical alert that no longer fired


def test_cases_folder_exists() -> None:
    assert CASES.is_dir()
