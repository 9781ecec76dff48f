"""Golden trees: tests/cases/<name>/{slo,out} compared whole (tests/cases/plan is the launch
plan). Whether the repository's own out/ is up to date with its slo/ is the team's check:
`make test` runs `slogen generate --check` on it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import PLAN, slogen, snapshot
from .golden import build, cases


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_golden_tree_matches_byte_for_byte(case: Path) -> None:
    expected = snapshot(case / "out")
    got = build(case)
    assert sorted(got) == sorted(expected), "files differ: run `make golden` and review"
    for rel in got:
        assert got[rel] == expected[rel], f"{rel} differs: run `make golden` and review"


def test_check_reports_a_stale_out_folder_with_a_diff(tmp_path: Path) -> None:
    spec = tmp_path / "slo"
    spec.mkdir()
    (spec / "api.yaml").write_text((PLAN / "slo" / "api.yaml").read_text())
    assert slogen("generate", "--spec", str(spec), "--out", str(tmp_path / "out")).returncode == 0
    (spec / "api.yaml").write_text(
        (PLAN / "slo" / "api.yaml").read_text().replace("objective: 99.9%", "objective: 99.5%")
    )
    before = snapshot(tmp_path / "out")
    result = slogen("generate", "--check", "--spec", str(spec), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "+    expr: vector(0.005)" in result.stdout and "-    expr: vector(0.001)" in result.stdout
    assert "is stale" in result.stderr
    assert snapshot(tmp_path / "out") == before


def test_output_is_identical_under_different_hash_seeds(tmp_path: Path) -> None:
    trees = []
    for seed in ("0", "1", "4242"):
        out = tmp_path / f"out-{seed}"
        result = slogen("generate", "--out", str(out), env={"PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        trees.append(snapshot(out))
    assert trees[0] == trees[1] == trees[2]
    assert trees[0] == snapshot(PLAN / "out")


def test_every_golden_case_has_its_output() -> None:
    for case in cases():
        assert (case / "out").is_dir(), f"{case.name}: run `make golden`"


def test_generate_leaves_no_staging_folders(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for _ in range(2):
        assert slogen("generate", "--out", str(out)).returncode == 0
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_output_does_not_depend_on_the_working_directory(tmp_path: Path) -> None:
    """Run from elsewhere with absolute paths: the headers still say slo/api.yaml."""
    result = slogen("generate", "--spec", str(PLAN / "slo"), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert snapshot(tmp_path / "out") == snapshot(PLAN / "out")
