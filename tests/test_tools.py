"""The tool runner behind `validate`: many files per promtool call, split in shares over
the cores, yet a failure still names its own file; answers come back in a fixed order."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from slogen import tools

from .conftest import REPO

CASE = REPO / "tests/cases/variety/out"


def _rule_files(tmp_path: Path) -> tuple[Path, list[str]]:
    """The variety case's rule files, three copies of each: more files than shares."""
    shutil.copytree(CASE, tmp_path / "out")
    root = tmp_path / "out"
    for path in sorted((root / "prometheus/rules").glob("*.yaml")):
        for copy in ("a", "b"):
            shutil.copy(path, path.with_name(f"{path.stem}-{copy}.yaml"))
    return root, sorted(p.relative_to(root).as_posix() for p in (root / "prometheus/rules").glob("*.yaml"))


def test_one_broken_file_among_many_shares_is_named_alone(promtool: str, tmp_path: Path) -> None:
    root, files = _rule_files(tmp_path)
    assert len(files) > 2 * tools.CHUNKS_PER_WORKER  # more files than shares: shares hold several
    broken = files[len(files) // 2]
    (root / broken).write_text((root / broken).read_text().replace("expr: ", "expr: sum(rate(", 1))
    failures = tools.failing_files("promtool", ["check", "rules"], files, root)
    assert list(failures) == [broken]
    assert "unclosed left parenthesis" in failures[broken]


def test_every_file_passing_reports_nothing(promtool: str, tmp_path: Path) -> None:
    root, files = _rule_files(tmp_path)
    assert tools.failing_files("promtool", ["check", "rules"], files, root) == {}


def test_answers_come_back_in_the_order_of_the_items() -> None:
    items = list(range(50))
    assert tools.in_parallel(lambda i: i * i, items) == [i * i for i in items]
    assert tools.in_parallel(lambda i: i, []) == []


def test_go_garbage_collection_is_relaxed_unless_the_user_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOGC", raising=False)
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    env = tools._environment()
    assert (env["GOGC"], env["GOMEMLIMIT"]) == ("off", "200MiB")
    monkeypatch.setenv("GOGC", "50")
    env = tools._environment()
    assert env["GOGC"] == "50" and "GOMEMLIMIT" not in env
