"""Write a generated tree into out/ atomically, or compare it with what is there.

The tree is first written whole into a fresh staging folder (the usual failure point:
a full disk, a permission), then swapped in:

- folder swap: out/ is renamed aside and the staging folder renamed into its place
  (two renames; the old tree is removed only after the swap);
- file swap, when out/ itself cannot be renamed (the current directory or one of its
  parents, a mount point, a parent folder we may not write, a rename the system refuses):
  the staging folder is made inside out/, then each owned file is moved aside and each new
  file moved in; a failure moves everything back.

Either way a failure leaves out/ as it was. Only the files slogen owns (slogen.owned) are
ever moved or removed. Folders and files are created under the user's umask, as mkdir and
open would (tempfile.mkdtemp would make 0700 folders, and the staging folder becomes out/).
"""

from __future__ import annotations

import difflib
import errno
import os
import secrets
import shutil
import stat
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from .errors import WriteFailed

Tree = dict[str, bytes]

# The system will not rename out/ itself, but may let us rename the files in it.
_CANNOT_MOVE_FOLDER = {errno.EBUSY, errno.EXDEV, errno.EACCES, errno.EPERM, errno.EINVAL}


def write_file(root: Path, rel: str, data: bytes) -> None:
    """One file under root, its folder already made: every file slogen writes goes here."""
    (root / rel).write_bytes(data)


def _write_batch(root: Path, batch: list[tuple[str, bytes]]) -> None:
    for rel, data in batch:
        write_file(root, rel, data)


def write_parts(root: Path, rel: str, parts: Iterable[bytes]) -> None:
    with open(root / rel, "wb") as out:
        for part in parts:
            out.write(part)


def write_tree(tree: Mapping[str, bytes], root: Path) -> Path:
    """Write every file under the folder `root`."""
    with Staging(root) as staging:
        for rel in sorted(tree):
            staging.add(rel, tree[rel])
    return root


class Staging:
    """Files written under root as they are built, so a large tree never sits whole in
    memory. Creating files waits on the file system, not on Python: a few threads overlap
    those waits (most of the time on large trees, on a real disk). Files go to the threads
    BATCH at a time (one task per file cost more than the write on tmpfs), at most
    IN_FLIGHT batches built and not yet written. Leaving the block waits for every write
    and re-raises the first error."""

    BATCH = 32
    IN_FLIGHT = 4

    def __init__(self, root: Path) -> None:
        self.root = root
        self.names: list[str] = []
        self._folders: set[Path] = set()
        self._pool = ThreadPoolExecutor(max_workers=4)
        self._pending: deque[Future[None]] = deque()
        self._batch: list[tuple[str, bytes]] = []

    def add(self, rel: str, data: bytes) -> None:
        self._make_folder(rel)
        self._batch.append((rel, data))
        self.names.append(rel)
        if len(self._batch) >= self.BATCH:
            self._send()

    def _send(self) -> None:
        batch, self._batch = self._batch, []
        self._pending.append(self._pool.submit(_write_batch, self.root, batch))
        if len(self._pending) > self.IN_FLIGHT:
            self._pending.popleft().result()

    def __enter__(self) -> Staging:
        return self

    def add_parts(self, rel: str, parts: Iterable[bytes]) -> None:
        """A file written part by part, here and now (it is never whole in memory)."""
        self._make_folder(rel)
        write_parts(self.root, rel, parts)
        self.names.append(rel)

    def _make_folder(self, rel: str) -> None:
        folder = (self.root / rel).parent
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)

    def finish(self) -> None:
        """Wait for every write; the first that failed raises here."""
        if self._batch:
            self._send()
        while self._pending:
            self._pending.popleft().result()

    def __exit__(self, kind: object, *exc: object) -> None:
        try:
            if kind is None:  # else the error on its way out is the one to tell
                self.finish()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)


class StagedTree(Mapping[str, bytes]):
    """A tree written to disk, read back a file at a time when asked (owned.inspect compares
    a file of out/ with what slogen writes; the CLI counts the files)."""

    def __init__(self, root: Path, names: Iterable[str]) -> None:
        self.root = root
        self._names = sorted(set(names))
        self._set = frozenset(self._names)

    def __getitem__(self, rel: str) -> bytes:
        if rel not in self._set:
            raise KeyError(rel)
        return (self.root / rel).read_bytes()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, rel: object) -> bool:
        return rel in self._set


def fresh_dir(parent: Path, prefix: str) -> Path:
    """A new empty folder with a unique name, created like `mkdir` (umask applies)."""
    while True:
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue


def _unused_name(parent: Path, prefix: str) -> Path:
    while True:
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        if not os.path.lexists(path):
            return path


def replace(tree: Mapping[str, bytes], out_dir: Path, owned: Iterable[str]) -> None:
    """Make out/ hold exactly `tree`, replacing the files slogen owns there."""
    out = out_dir.resolve()
    if folder_swappable(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        staged = fresh_dir(out.parent, f".{out.name}.new-")
        try:
            if out.is_dir():
                take_identity(out, staged)
            write_tree(tree, staged)
            if swap_folder(staged, out):
                return
        finally:
            shutil.rmtree(staged, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    staged = fresh_dir(out, ".slogen-new-")
    try:
        write_tree(tree, staged)
        swap_files(staged, out, owned, tree)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def take_identity(old: Path, new: Path) -> None:
    """The new out/ keeps the old one's mode and group (a shared folder, setgid, stays
    shared). Set before writing: files and folders made inside then get that group as they
    would inside the old out/."""
    st = old.stat()
    try:
        os.chown(new, -1, st.st_gid)
        os.chmod(new, stat.S_IMODE(st.st_mode))
    except PermissionError:
        pass  # a group we are not in: keep the umask's defaults


def folder_swappable(out: Path) -> bool:
    """Renaming out/ is atomic, but not possible for a mount point, and wrong for the
    current directory (the shell would be left in a deleted folder)."""
    if not out.exists():
        return True
    if os.path.ismount(out):
        return False
    try:
        if Path.cwd().is_relative_to(out):
            return False
    except FileNotFoundError:
        pass  # the current directory was deleted: it is not out/
    return os.access(out.parent, os.W_OK | os.X_OK)


def swap_folder(staged: Path, out: Path) -> bool:
    """Replace out/ by the staged folder; False (nothing changed) if out/ cannot be moved."""
    old = None
    if out.exists():
        old = _unused_name(out.parent, f".{out.name}.old-")
        try:
            os.rename(out, old)
        except OSError as err:
            if err.errno in _CANNOT_MOVE_FOLDER:
                return False
            raise
    try:
        os.rename(staged, out)
    except BaseException:  # Ctrl-C between the two renames too: out/ must come back
        if old is not None:
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return True


def swap_files(staged: Path, out: Path, owned: Iterable[str], new: Iterable[str]) -> None:
    """Move the owned files aside, the staged ones in; on any failure, undo both."""
    backup = fresh_dir(out, ".slogen-old-")
    made: list[Path] = []  # folders created for new files, removed again on failure
    aside: list[str] = []
    placed: list[str] = []
    try:
        for rel in sorted(owned):
            if os.path.lexists(out / rel):
                _make_parents(backup / rel, [])
                os.rename(out / rel, backup / rel)
                aside.append(rel)
        for rel in sorted(new):
            _make_parents(out / rel, made)
            os.rename(staged / rel, out / rel)
            placed.append(rel)
    except BaseException:
        for rel in reversed(placed):
            os.unlink(out / rel)
        for folder in reversed(made):
            os.rmdir(folder)
        for rel in reversed(aside):
            os.rename(backup / rel, out / rel)
        raise
    finally:
        shutil.rmtree(backup, ignore_errors=True)
    _prune_empty(out, aside)


def _make_parents(path: Path, made: list[Path]) -> None:
    missing = [p for p in reversed(path.parents) if not p.exists()]
    for folder in missing:
        folder.mkdir()
        made.append(folder)


def _prune_empty(out: Path, removed: Iterable[str]) -> None:
    """Remove the folders that held only files slogen no longer writes, deepest first."""
    folders = {parent for rel in removed for parent in Path(rel).parents if parent != Path(".")}
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        path = out / folder
        if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
            path.rmdir()


def write_failed(out: Path, err: OSError) -> WriteFailed:
    where = f" ({err.filename})" if err.filename else ""
    return WriteFailed(f"cannot write {out}: {err.strerror or err}{where}; {out} is left as it was")


def diff_trees(old: Tree, new: Tree, label: str = "out") -> str:
    """A unified diff of two trees, file by file, in sorted order."""
    chunks: list[str] = []
    for rel in sorted(set(old) | set(new)):
        a, b = old.get(rel), new.get(rel)
        if a == b:
            continue
        a_lines = a.decode("utf-8", "replace").splitlines(keepends=True) if a is not None else []
        b_lines = b.decode("utf-8", "replace").splitlines(keepends=True) if b is not None else []
        chunks.extend(
            difflib.unified_diff(
                a_lines,
                b_lines,
                fromfile=f"{label}/{rel}" if a is not None else "/dev/null",
                tofile=f"{label}/{rel} (generated)" if b is not None else "/dev/null",
            )
        )
    return "".join(chunks)
