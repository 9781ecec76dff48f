"""Bad input: exit 2, file:line: field: message on stderr, no traceback, out/ untouched.

Each case is a folder tests/errors/<name>/ with slo/ and expected.txt (the exact stderr).
Regenerate an expected file only after reading the new message.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import slogen, snapshot

CASES = Path(__file__).parent / "errors"
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


def _prepare(tmp_path: Path, name: str) -> Path:
    shutil.copytree(CASES / name / "slo", tmp_path / "slo")
    out = tmp_path / "out" / "prometheus"
    out.mkdir(parents=True)
    (out / "previous.yaml").write_text("# what the last good run wrote\n")
    return tmp_path


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_is_reported_with_file_line_and_field_and_nothing_is_written(tmp_path: Path, name: str) -> None:
    work = _prepare(tmp_path, name)
    before = snapshot(work / "out")
    result = slogen("generate", "--spec", "slo", "--out", "out", cwd=work)
    expected = (CASES / name / "expected.txt").read_text()
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr == expected
    assert snapshot(work / "out") == before
    assert sorted(p.name for p in work.iterdir()) == ["out", "slo"], "no staging folder left behind"


@pytest.mark.parametrize("command", [["generate"], ["generate", "--check"], ["validate"], ["explain", "api"]])
def test_every_command_reports_bad_input_the_same_way(tmp_path: Path, command: list[str]) -> None:
    work = _prepare(tmp_path, "objective-too-high")
    result = slogen(*command, "--spec", "slo", cwd=work)
    assert result.returncode == 2
    assert result.stderr.startswith("slo/api.yaml:5: slos.availability.objective: must be between 0% and 100%")


def test_a_missing_spec_folder_is_bad_input(tmp_path: Path) -> None:
    result = slogen("generate", "--spec", "nowhere", "--out", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "nowhere: spec folder not found"
    assert not (tmp_path / "out").exists()


def test_every_error_case_has_an_expected_file() -> None:
    missing = [n for n in NAMES if not (CASES / n / "expected.txt").is_file()]
    assert not missing
