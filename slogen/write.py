"""Write a generated tree into out/ atomically, or compare it with what is there.

The tree is written into a fresh folder beside out/, then swapped in with two renames:
a failure at any point before the swap leaves out/ exactly as it was.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

Tree = dict[str, bytes]


def write_tree(tree: Tree, root: Path) -> Path:
    """Write every file under the folder `root`. Creating files waits on the file system,
    not on Python: a few threads overlap those waits (most of the time on large trees)."""
    for folder in sorted({(root / rel).parent for rel in tree}):
        folder.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in pool.map(lambda item: (root / item[0]).write_bytes(item[1]), sorted(tree.items())):
            pass  # re-raises the first error
    return root


def staging_dir(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))


def swap_in(staged: Path, out: Path) -> None:
    """Replace out/ by the staged folder; the old tree is removed only after the swap."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rmdir(old)
        os.rename(out, old)
    try:
        os.rename(staged, out)
    except OSError:
        if old is not None:
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_tree(root: Path) -> Tree:
    if not root.is_dir():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


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
