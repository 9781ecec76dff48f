"""Writing out/ is atomic: a failure while writing leaves the previous tree as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from slogen import api, write

from .conftest import PLAN, snapshot


def test_a_failure_while_writing_leaves_out_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    api.generate(api.Options(spec_dir=PLAN / "slo", out_dir=out, templates=None))
    before = snapshot(out)
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo" / "api.yaml").write_text((PLAN / "slo/api.yaml").read_text().replace("99.9%", "99.5%"))

    real_write_tree = write.write_tree

    def write_half(tree: write.Tree, root: Path) -> Path:
        real_write_tree(dict(list(tree.items())[:3]), root)
        raise OSError("disk full")

    monkeypatch.setattr(api, "write_tree", write_half)
    with pytest.raises(OSError, match="disk full"):
        api.generate(api.Options(spec_dir=tmp_path / "slo", out_dir=out, templates=None))
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "slo"]


def test_swap_replaces_the_whole_tree_and_drops_files_no_longer_generated(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.yaml").write_text("old")
    staged = write.write_tree({"a/b.yaml": b"new"}, write.staging_dir(out))
    write.swap_in(staged, out)
    assert snapshot(out) == {"a/b.yaml": b"new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
