"""Build a sequence of items in two processes, results in the order of the items.

`generate` builds service after service, and a service's files read nothing of the others
(stream.py). On large specs that build is most of generate's time (issue 12: 1,000 SLOs in
under 1 s, 10,000 in under 10 s) and the machine has two cores: a forked child builds every
other item and hands its results back through a pipe, pickled, while this process builds
the rest and its caller writes them. The child is forked, not spawned: it starts with the
model already loaded and resolved, and nothing is imported again.

Whatever goes wrong in the child (an item that raises, a result that does not pickle, the
child killed), this process builds that item and every later one itself: an error is then
raised here, with its traceback, exactly as in one process, and the results are the same
bytes either way (building is deterministic). Where fork is missing, this runs in one
process.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO, TypeVar

S = TypeVar("S")
T = TypeVar("T")

_OK, _REDO = "ok", "redo"


def ordered_map(build: Callable[[S], T], items: Sequence[S], fork: bool = True) -> Iterator[T]:
    """build(item) for every item, in order; with fork, the odd items in a child process."""
    if not fork or len(items) < 2 or not hasattr(os, "fork"):
        yield from map(build, items)
        return
    read_fd, write_fd = os.pipe()
    gc.freeze()  # the child's collections must not touch (and so copy) every object of the model
    try:
        pid = os.fork()
    except OSError:
        gc.unfreeze()
        os.close(read_fd)
        os.close(write_fd)
        yield from map(build, items)
        return
    if pid == 0:  # pragma: no cover - the child; its work is checked through the parent
        os.close(read_fd)
        _child(build, items, write_fd)
    gc.unfreeze()
    os.close(write_fd)
    yield from _parent(build, items, os.fdopen(read_fd, "rb"), pid)


def _child(build: Callable[[S], T], items: Sequence[S], write_fd: int) -> None:  # pragma: no cover
    """Build the odd items and send each result; never return (os._exit: no atexit, no
    flushing of the parent's buffered output a second time)."""
    code = 0
    try:
        with os.fdopen(write_fd, "wb") as pipe:
            for index in range(1, len(items), 2):
                try:
                    message = pickle.dumps((_OK, build(items[index])), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException:  # noqa: BLE001 - the parent builds it again and raises it there
                    pipe.write(pickle.dumps((_REDO, None)))
                    break
                pipe.write(message)
                pipe.flush()  # the parent may be waiting for this one now
    except BaseException:  # noqa: BLE001 - the parent stopped reading (it closed the pipe)
        code = 1
    finally:
        os._exit(code)


def _parent(build: Callable[[S], T], items: Sequence[S], pipe: BinaryIO, pid: int) -> Iterator[T]:
    """Build the even items here, take the odd ones from the child while it lasts."""
    from_child = True
    try:
        for index, item in enumerate(items):
            if index % 2 == 0 or not from_child:
                yield build(item)
                continue
            received: tuple[T] | None = _receive(pipe)
            if received is None:  # the child failed on this item or is gone: build it here
                from_child = False
                yield build(item)
            else:
                yield received[0]
    finally:
        pipe.close()
        _reap(pid)


def _receive(pipe: BinaryIO) -> tuple[T] | None:
    try:
        status, result = pickle.load(pipe)
    except Exception:  # noqa: BLE001 - EOF or a torn message: the child died
        return None
    return (result,) if status == _OK else None


def _reap(pid: int) -> None:
    """Wait for the child. Whatever it still does is of no use now (it has sent every
    result, or this generator was closed early because its caller failed): stop it."""
    done, _ = os.waitpid(pid, os.WNOHANG)
    if done == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
