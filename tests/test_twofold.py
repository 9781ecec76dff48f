"""Two processes build the services of a large spec (slogen/twofold.py): the same bytes in
the same order as one process, and every way the child can fail ends as one process would."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from slogen import api, stream, twofold
from slogen.errors import SpecError

from .conftest import snapshot
from .golden import build, cases


def _children() -> set[int]:
    """This process's children, running or not yet reaped (a zombie is listed too). Read
    from /proc: waiting on any child could reap another test's server."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == os.getpid():
            found.add(int(stat.parent.name))
    return found


@pytest.fixture(autouse=True)
def _no_children_left() -> Iterator[None]:
    """Every test here ends with the child it forked stopped and reaped."""
    before = _children()
    yield
    assert _children() <= before


def _where(item: int) -> tuple[int, int]:
    return item * item, os.getpid()


def test_results_come_in_order_and_the_odd_items_from_another_process() -> None:
    got = list(twofold.ordered_map(_where, list(range(7))))
    assert [value for value, _ in got] == [i * i for i in range(7)]
    assert {pid for i, (_, pid) in enumerate(got) if i % 2 == 0} == {os.getpid()}
    children = {pid for i, (_, pid) in enumerate(got) if i % 2 == 1}
    assert len(children) == 1 and os.getpid() not in children


def test_without_fork_everything_is_built_here() -> None:
    got = list(twofold.ordered_map(_where, list(range(4)), fork=False))
    assert {pid for _, pid in got} == {os.getpid()}


def _fails_on_three(item: int) -> tuple[int, int]:
    if item == 3:
        raise ValueError(f"item {item} in {os.getpid()}")
    return _where(item)


def test_an_error_in_the_child_is_raised_here_as_in_one_process() -> None:
    got = []
    with pytest.raises(ValueError, match=f"item 3 in {os.getpid()}$"):
        for result in twofold.ordered_map(_fails_on_three, list(range(6))):
            got.append(result)
    assert [value for value, _ in got] == [0, 1, 4]


def _killed_on_three(item: int) -> tuple[int, int]:
    if item == 3 and os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    return _where(item)


PARENT = os.getpid()


def test_a_child_killed_midway_leaves_the_rest_to_this_process() -> None:
    got = list(twofold.ordered_map(_killed_on_three, list(range(8))))
    assert [value for value, _ in got] == [i * i for i in range(8)]
    assert got[1][1] != PARENT  # the child built item 1 before it was killed
    assert {pid for _, pid in got[3:]} == {PARENT}


def test_closing_early_stops_and_reaps_the_child() -> None:
    results = twofold.ordered_map(_where, list(range(1000)))
    assert next(results)[0] == 0
    assert next(results)[0] == 1
    results.close()


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_two_processes_build_every_golden_tree_byte_for_byte(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "TWOFOLD_FROM", 0)
    forks = []
    real = twofold.ordered_map
    monkeypatch.setattr(twofold, "ordered_map", lambda *a, **k: forks.append(1) or real(*a, **k))
    assert build(case) == snapshot(case / "out")
    model = api.load_model(api.Options(spec_dir=case / "slo", out_dir=case / "out", templates=None))
    assert forks == ([1] if model.settings.operator is None else [])  # the operator's case: one process


def test_spec_problems_found_in_both_processes_are_all_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test a service's SLO cannot prove is a problem raised after the last service, with
    every service's problems: those found in the child come back with the others."""
    (tmp_path / "slo").mkdir()
    for name in ("cache", "search", "queue"):
        (tmp_path / "slo" / f"{name}.yaml").write_text(BROKEN.format(service=name))
    serial = _problems(tmp_path, monkeypatch, 10**9)
    twofold_ = _problems(tmp_path, monkeypatch, 0)
    assert twofold_ == serial and len(serial) == 3


# tests/errors/by-groups-never-meet: found while the tests are built, so in either process.
BROKEN = """version: 1
service: {service}
alerts:
  hit-rate:
    ratio:
      good: cache_hit_total{{cache="project_list"}}
      bad: cache_miss_total{{cache="job_read"}}
    measure: good
    by: [cache]
    warning: {{below: 60%, for: 15m}}
"""


def _problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int) -> list[str]:
    monkeypatch.setattr(stream, "TWOFOLD_FROM", threshold)
    model = api.load_model(api.Options(spec_dir=tmp_path / "slo", out_dir=tmp_path / "out", templates=None))
    with pytest.raises(SpecError) as err:
        api.build_tree(model)
    return [str(p) for p in err.value.problems]
