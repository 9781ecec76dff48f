"""The spec fuzzer: random mutations of valid specs end in exit 0 with output that promtool
and amtool accept (`slogen validate`), or in exit 2 with every problem at file:line and
out/ untouched. Never a traceback, an internal error (exit 3), a hang, or a changed out/.

Profiles (HYPOTHESIS_PROFILE): `ci` (the default) runs a fixed, derandomised set of
examples, the same on every run; `long` (make fuzz) runs many more, freshly random each
time, and keeps failures in .hypothesis/ to replay them.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings

from slogen.cli import main

from .conftest import snapshot
from .fuzz import Mutant, mutants

settings.register_profile(
    "ci",
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "3000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# `file:line: ...`, as every problem is printed; then one summary line.
PROBLEM = re.compile(r"^[^\s:][^:]*:\d+(:\d+)?: ")
SUMMARY = re.compile(r"^slogen: \d+ problem\(s\) in the spec; nothing was written$")
# A hang is a bug: no example takes a fraction of this, even on a loaded machine.
HANG_SECONDS = 120


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    def hang(signum: int, frame: object) -> None:
        raise AssertionError(f"hung for more than {seconds}s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _previous_tree(work: Path, seed: Path) -> Path:
    """out/ as the last good run of the unmutated specs left it."""
    out = work / "out"
    result = CliRunner().invoke(main, ["generate", "--spec", str(seed), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@given(mutant=mutants())
def test_a_mutated_spec_is_generated_and_proven_or_refused_at_file_and_line(mutant: Mutant, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    work = tmp_path_factory.mktemp("fuzz")
    seed = work / "seed"
    shutil.copytree(Path(__file__).parent / "cases" / mutant.log[0].split("/")[0] / "slo", seed)
    out = _previous_tree(work, seed)
    before = snapshot(out)
    spec = mutant.write(work / "slo")
    runner = CliRunner()
    with _deadline(HANG_SECONDS):
        result = runner.invoke(main, ["generate", "--spec", str(spec), "--out", str(out)])
    what = "\n".join(mutant.log)
    event(f"generate exit {result.exit_code}")  # --hypothesis-show-statistics: how many reach the tools
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{what}\ncrashed: {result.exception!r}\n{result.output}"
    )
    assert "Traceback" not in result.output, f"{what}\n{result.output}"
    if result.exit_code == 2:
        lines = result.output.splitlines()
        problems = [ln for ln in lines if not ln.startswith("warning: ")]
        assert problems and SUMMARY.match(problems[-1]), f"{what}\n{result.output}"
        for line in problems[:-1]:
            assert PROBLEM.match(line), f"{what}\nnot at file:line: {line!r}\n{result.output}"
        assert snapshot(out) == before, f"{what}\nout/ changed on bad input"
        return
    assert result.exit_code == 0, f"{what}\nexit {result.exit_code}\n{result.output}"
    with _deadline(HANG_SECONDS):
        checked = runner.invoke(main, ["validate", "--spec", str(spec)])
    if checked.exit_code == 1 and _only_a_users_own_test_failed(mutant, checked.output):
        return
    assert checked.exit_code == 0, f"{what}\ngenerated, but the real tools refuse it:\n{checked.output[-3000:]}"


def _only_a_users_own_test_failed(mutant: Mutant, report: str) -> bool:
    """The one refusal that is right: the generated test of a raw SLI, a raw alert or event
    expressions, which runs the user's own `test:` series, fails because the mutant no
    longer makes them err (or stay quiet) as their names say (a mutated series, or an objective of 0.1% that the
    "erroring" series no longer breach). Only promtool can evaluate the user's expression
    on them: its failing test is the test doing its job, at the item's line."""
    if re.search(r"slogen: 1 of \d+ checks failed: promtool test rules\Z", report.rstrip()) is None:
        return False
    failing = re.findall(r"^  \S+:\d+: [^/\s]+/(\S+): out/prometheus/tests/", report, re.M)
    raw = set()
    for body in mutant.files.values():
        data = yaml.safe_load(body)
        if isinstance(data, dict):
            for section, key in (("slos", "raw"), ("alerts", "expr")):
                items = data.get(section)
                if isinstance(items, dict):
                    raw |= {name for name, item in items.items() if isinstance(item, dict) and key in item}
            slos = data.get("slos")
            if isinstance(slos, dict):  # event expressions run the user's `test:` series too
                raw |= {
                    name
                    for name, item in slos.items()
                    if isinstance(item, dict) and isinstance(item.get("ratio"), dict) and "test" in item["ratio"]
                }
    return bool(failing) and all(item in raw for item in failing)
