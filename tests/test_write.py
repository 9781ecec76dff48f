"""Writing out/: atomic, and slogen only ever replaces what it wrote itself (issue 9).

A manifest, out/.slogen-manifest, lists the files slogen owns; anything else in out/ is
refused and left alone, and so is an --out that holds or sits in the specs."""

from __future__ import annotations

import errno
import grp
import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from slogen import api, owned, write
from slogen.errors import OutputRefused, WriteFailed

from .conftest import REPO, slogen, snapshot

SPEC = REPO / "tests/cases/routing/slo"  # two services, routing: small and complete
MANIFEST = ".slogen-manifest"


def _generate(spec: Path, out: Path, check: bool = False) -> api.Outcome:
    return api.generate(api.Options(spec_dir=spec, out_dir=out, templates=None), check_only=check)


def _copy_spec(dest: Path) -> Path:
    shutil.copytree(SPEC, dest)
    return dest


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


# --- refusals: nothing of the user's is lost ---------------------------------------------


def test_an_out_folder_holding_a_users_file_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    """`--out mydocs` deleted mydocs/notes.txt."""
    (tmp_path / "mydocs").mkdir()
    (tmp_path / "mydocs/notes.txt").write_text("mine\n")
    result = slogen("generate", "--spec", str(SPEC), "--out", "mydocs", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("slogen: mydocs/notes.txt: not written by slogen (")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert snapshot(tmp_path / "mydocs") == {"notes.txt": b"mine\n"}
    assert sorted(os.listdir(tmp_path)) == ["mydocs"], "no staging folder left behind"


def test_a_file_added_to_a_generated_out_is_refused_by_generate_and_check(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert slogen("generate", "--spec", str(SPEC), "--out", str(out)).returncode == 0
    (out / "prometheus/rules/zz-mine.yaml").write_text("groups: []\n")
    (out / "prometheus/rules/a-mine.yaml").write_text("groups: []\n")
    before = snapshot(out)
    for command in (["generate"], ["generate", "--check"]):
        result = slogen(*command, "--spec", str(SPEC), "--out", str(out))
        assert result.returncode == 2, result.stderr
        first = out / "prometheus/rules/a-mine.yaml"
        assert result.stderr.startswith(f"slogen: {first}: not written by slogen (not listed in {out / MANIFEST})")
        assert "(1 more entry is not slogen's either)" in result.stderr
        assert snapshot(out) == before


def test_an_out_holding_the_specs_is_refused_before_anything_else(tmp_path: Path) -> None:
    """`--spec d/slo --out d` deleted the specs themselves."""
    _copy_spec(tmp_path / "d/slo")
    before = snapshot(tmp_path)
    result = slogen("generate", "--spec", "d/slo", "--out", "d", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "slogen: --out d holds the spec folder d/slo: generate would replace the specs; "
        "choose an --out beside the specs (the default is out)\n"
    )
    assert snapshot(tmp_path) == before


def test_out_dot_over_the_specs_is_refused_cleanly(tmp_path: Path) -> None:
    """`--out .` crashed with OSError: [Errno 16] Device or resource busy."""
    _copy_spec(tmp_path / "slo")
    before = snapshot(tmp_path)
    for command in (["generate"], ["generate", "--check"]):
        result = slogen(*command, "--out", ".", cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.startswith("slogen: --out . holds the spec folder slo: generate would replace the specs")
        assert "Traceback" not in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("spec", "out", "says"),
    [
        ("slo", "slo", "is the spec folder"),
        ("slo", "slo/out", "is inside the spec folder slo: its YAML would be read as specs"),
        ("slo", "slo/api.yaml", "is a file, not a folder"),
    ],
)
def test_an_out_that_is_the_specs_is_inside_them_or_is_a_file_is_refused(
    tmp_path: Path, spec: str, out: str, says: str
) -> None:
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo/api.yaml").write_text((SPEC / "web.yaml").read_text())
    before = snapshot(tmp_path)
    result = slogen("generate", "--spec", spec, "--out", out, cwd=tmp_path)
    assert result.returncode == 2
    assert says in result.stderr and len(result.stderr.splitlines()) == 1
    assert snapshot(tmp_path) == before


def test_an_empty_folder_and_a_symlink_slogen_did_not_make_are_foreign(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _generate(SPEC, out)
    (out / "grafana/drafts").mkdir()
    with pytest.raises(OutputRefused, match=r"out/grafana/drafts/: not written by slogen"):
        _generate(SPEC, out)
    (out / "grafana/drafts").rmdir()
    (out / "prometheus/rules/link.yaml").symlink_to(SPEC / "web.yaml")
    with pytest.raises(OutputRefused, match=r"out/prometheus/rules/link.yaml: not written by slogen"):
        _generate(SPEC, out)
    assert (SPEC / "web.yaml").is_file()


# --- the manifest -----------------------------------------------------------------------


def test_the_manifest_lists_every_file_written_sorted_and_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "out"
    outcome = _generate(SPEC, out)
    files = sorted(rel for rel in snapshot(out) if rel != MANIFEST)
    text = (out / MANIFEST).read_text()
    assert [line for line in text.splitlines() if not line.startswith("#")] == files
    assert owned.parse_manifest(owned.manifest_bytes(files)) == set(files)
    assert outcome.tree[MANIFEST] == (out / MANIFEST).read_bytes()


def test_a_file_slogen_no_longer_generates_is_removed_because_it_is_owned(tmp_path: Path) -> None:
    spec = _copy_spec(tmp_path / "slo")
    out = tmp_path / "out"
    _generate(spec, out)
    assert (out / "grafana/web.json").is_file()
    (spec / "web.yaml").unlink()
    outcome = _generate(spec, out)
    assert not (out / "grafana/web.json").exists()
    assert not any("web" in rel for rel in snapshot(out))
    assert "prometheus/rules/web.availability.yaml" in outcome.changed
    assert "prometheus/rules/web.availability.yaml" not in (out / MANIFEST).read_text()


# --- adopting an out/ written before the manifest ---------------------------------------


def _old_out(tmp_path: Path) -> Path:
    """An out/ as the previous slogen left it: no manifest; a dashboard and a rules file
    of a service since removed, and a notification sample from an older spec."""
    out = tmp_path / "out"
    _generate(SPEC, out)
    (out / MANIFEST).unlink()
    board = json.loads((out / "grafana/web.json").read_text())
    board["title"] = "SLOs / gone"
    (out / "grafana/gone.json").write_text(json.dumps(board))
    (out / "prometheus/rules/gone.availability.yaml").write_text("# generated from slo/gone.yaml by slogen; do not edit\n")
    sample = json.loads((out / "alertmanager/tests/notification.json").read_text())
    sample["receiver"] = "older"
    (out / "alertmanager/tests/notification.json").write_text(json.dumps(sample))
    return out


def test_an_out_without_manifest_is_adopted_when_every_file_is_provably_slogens(tmp_path: Path) -> None:
    out = _old_out(tmp_path)
    assert _generate(SPEC, out, check=True).changed  # stale: no manifest yet
    _generate(SPEC, out)
    assert snapshot(out) == snapshot(REPO / "tests/cases/routing/out")


@pytest.mark.parametrize(
    ("rel", "content"),
    [
        ("grafana/mine.json", '{"title": "my own dashboard", "tags": ["slogen"]}'),
        ("prometheus/rules/mine.yaml", "# hand-written, by slogen's side\ngroups: []\n"),
        ("README.txt", "# generated from slo/api.yaml by slogen; do not edit\n"),
    ],
)
def test_an_out_without_manifest_with_a_file_slogen_cannot_prove_is_refused(
    tmp_path: Path, rel: str, content: str
) -> None:
    out = _old_out(tmp_path)
    (out / rel).write_text(content)
    before = snapshot(out)
    with pytest.raises(OutputRefused, match=f"{out / rel}: not written by slogen .it carries no slogen mark"):
        _generate(SPEC, out)
    assert snapshot(out) == before


# --- permissions --------------------------------------------------------------------------


@pytest.mark.parametrize(("mask", "folder", "file"), [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600)])
def test_folders_and_files_get_the_usual_modes_under_the_umask(
    tmp_path: Path, umask: None, mask: int, folder: int, file: int
) -> None:
    """Output folders were 0700 whatever the umask (the staging folder from mkdtemp)."""
    os.umask(mask)
    out = tmp_path / "out"
    _generate(SPEC, out)
    modes = {str(p.relative_to(tmp_path)): p.stat().st_mode & 0o777 for p in [out, *out.rglob("*")]}
    assert {mode for rel, mode in modes.items() if (tmp_path / rel).is_dir()} == {folder}
    assert {mode for rel, mode in modes.items() if (tmp_path / rel).is_file()} == {file}


# --- atomic, by folder or by file ---------------------------------------------------------


def test_a_failure_while_writing_leaves_out_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    _generate(SPEC, out)
    before = snapshot(out)
    spec = _copy_spec(tmp_path / "slo")
    (spec / "web.yaml").write_text((spec / "web.yaml").read_text().replace("99.5%", "99.7%"))

    real_write_file = write.write_file
    written: list[str] = []

    def write_three(root: Path, rel: str, data: bytes) -> None:  # then the disk is full
        if len(written) >= 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(rel)
        real_write_file(root, rel, data)

    monkeypatch.setattr(write, "write_file", write_three)
    with pytest.raises(WriteFailed, match=r"cannot write .*/out: No space left on device; .*/out is left as it was"):
        _generate(spec, out)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "slo"]


def test_out_dot_beside_the_specs_is_written_file_by_file_in_place(tmp_path: Path) -> None:
    """The current directory cannot be renamed away (and the shell would be left in a
    deleted folder): its files are swapped instead, and it stays the same folder."""
    spec = _copy_spec(tmp_path / "slo")
    here = tmp_path / "here"
    here.mkdir()
    inode = here.stat().st_ino
    assert slogen("generate", "--spec", str(spec), "--out", ".", cwd=here).returncode == 0
    (spec / "web.yaml").unlink()
    result = slogen("generate", "--spec", str(spec), "--out", ".", cwd=here)
    assert result.returncode == 0, result.stderr
    assert here.stat().st_ino == inode
    expected = _generate(spec, tmp_path / "fresh").tree
    assert snapshot(here) == expected
    assert not (here / "grafana/web.json").exists()
    assert slogen("generate", "--check", "--spec", str(spec), "--out", ".", cwd=here).returncode == 0


def test_a_mount_point_out_is_written_file_by_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    _generate(SPEC, out)
    (out / "prometheus/rules/web.availability.yaml").write_text("# generated from x by slogen; do not edit\n")
    inode = out.stat().st_ino
    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p) == out)
    _generate(SPEC, out)
    assert out.stat().st_ino == inode
    assert snapshot(out) == snapshot(REPO / "tests/cases/routing/out")


def test_when_the_system_refuses_to_rename_out_its_files_are_swapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bind mount (a Docker volume) looks like a plain folder but renames fail EBUSY."""
    out = tmp_path / "out"
    _generate(SPEC, out)
    (out / "grafana/web.json").write_text("{}")
    (out / "grafana/gone.json").write_text("{}")
    with (out / MANIFEST).open("a") as manifest:
        manifest.write("grafana/gone.json\n")
    real_rename = os.rename

    def busy(src: str | Path, dst: str | Path) -> None:
        if Path(src) == out:
            raise OSError(errno.EBUSY, "Device or resource busy", str(src))
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", busy)
    _generate(SPEC, out)
    assert snapshot(out) == snapshot(REPO / "tests/cases/routing/out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failure_during_a_file_swap_puts_every_file_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    _generate(SPEC, out)
    spec = _copy_spec(tmp_path / "slo")
    (spec / "web.yaml").write_text((spec / "web.yaml").read_text().replace("99.5%", "99.7%"))
    before = snapshot(out)
    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p) == out)
    real_rename, calls = os.rename, []

    def fail_late(src: str | Path, dst: str | Path) -> None:
        calls.append(src)
        if len(calls) == 20:  # owned files are aside, some new ones are in
            raise OSError(errno.EIO, "Input/output error", str(src))
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", fail_late)
    with pytest.raises(WriteFailed, match="Input/output error"):
        _generate(spec, out)
    assert len(calls) > 20
    assert snapshot(out) == before
    assert sorted(os.listdir(out)) == sorted(os.listdir(REPO / "tests/cases/routing/out"))


def test_an_interrupt_between_the_two_renames_of_a_folder_swap_puts_out_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    _generate(SPEC, out)
    spec = _copy_spec(tmp_path / "slo")
    (spec / "web.yaml").write_text((spec / "web.yaml").read_text().replace("99.5%", "99.7%"))
    before = snapshot(out)
    real_rename, interrupted = os.rename, []

    def interrupt_second(src: str | Path, dst: str | Path) -> None:
        if Path(dst) == out and not interrupted:  # the staged folder moving in; once
            interrupted.append(src)
            raise KeyboardInterrupt
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", interrupt_second)
    with pytest.raises(KeyboardInterrupt):
        _generate(spec, out)
    assert interrupted and ".out.new-" in str(interrupted[0])
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "slo"]


def test_a_missing_spec_folder_under_out_dot_is_reported_as_missing(tmp_path: Path) -> None:
    result = slogen("generate", "--spec", "nowhere", "--out", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "nowhere: spec folder not found"
    assert os.listdir(tmp_path) == []


def test_a_shared_out_folder_keeps_its_mode_and_group_across_generate(tmp_path: Path) -> None:
    """A team's out/ made group-shared (setgid, group-writable) stayed 0755 and the
    user's group after the folder swap."""
    out = tmp_path / "out"
    _generate(SPEC, out)
    # another group than ours where we may give one (root, as CI runs); else our own
    group = grp.getgrnam("daemon").gr_gid if os.geteuid() == 0 else os.getegid()
    os.chown(out, -1, group)
    os.chmod(out, 0o2770)
    spec = _copy_spec(tmp_path / "slo")
    (spec / "web.yaml").write_text((spec / "web.yaml").read_text().replace("99.5%", "99.7%"))
    _generate(spec, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o2770 and out.stat().st_gid == group
    rules = next((out / "prometheus/rules").iterdir())
    assert rules.stat().st_gid == group, "files inside get the shared group, as in the old out/"
