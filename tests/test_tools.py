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


def test_promtool_test_databases_go_to_a_scratch_folder_on_tmpfs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMPDIR", raising=False)
    assert tools._roomy(tools.RAM_DISK), "this machine has a roomy /dev/shm"
    with tools.test_scratch() as scratch:
        assert scratch is not None and Path(scratch).parent == tools.RAM_DISK and Path(scratch).is_dir()
        assert tools._environment(scratch)["TMPDIR"] == scratch
    assert not Path(scratch).exists()


def test_a_users_tmpdir_or_a_small_tmpfs_is_left_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with tools.test_scratch() as scratch:
        assert scratch is None and tools._environment(scratch)["TMPDIR"] == str(tmp_path)
    monkeypatch.delenv("TMPDIR")
    monkeypatch.setattr(tools, "RAM_DISK_FREE", 1 << 62)  # more room than any machine has
    with tools.test_scratch() as scratch:
        assert scratch is None and "TMPDIR" not in tools._environment(scratch)


def test_promtool_opens_its_test_databases_where_it_is_told(promtool: str, tmp_path: Path) -> None:
    """The scratch folder is where promtool writes: pointed at a folder that is missing, it fails."""
    test = next(p.relative_to(CASE).as_posix() for p in sorted((CASE / "prometheus/tests").glob("*.test.yaml")))
    assert tools.run("promtool", ["test", "rules", test], CASE, scratch=str(tmp_path)).returncode == 0
    missing = tools.run("promtool", ["test", "rules", test], CASE, scratch=str(tmp_path / "missing"))
    assert missing.returncode != 0
