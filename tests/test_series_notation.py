"""The input-series notation of raw SLIs' and raw alerts' `test:` blocks is checked as
promtool reads it: each verdict here is also promtool's own (it runs on every case)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from slogen.series_notation import MAX_POINTS, series_problem, values_problem

VALUES = [
    ("0+50x40", True),
    ("0x40", True),
    ("0 1 2 _ stale", True),
    ("1e3 -1+2x3 _x3 Inf NaN", True),
    ("inf nan +Inf -Inf", True),
    (".5 5. 1e-3 1E3 +5", True),
    ("0\t+60x40", True),  # two items: 0, then the run +60x40
    ("0x40  1", True),
    ("Inf0", False),  # what the fuzzer wrote
    ("1+x3", False),
    ("stalex3", False),
    ("0x", False),
    ("0+-1x3", False),
    ("1-+1x2", False),
    ("a", False),
]
SERIES = [
    ('a{b="c"}', True),
    ('a_total{job="api", code="500"}', True),
    ("a", True),
    ('a{b=~"c"}', False),
    ("a[5m]", False),
    ("sum(a)", False),
    ('a{b="c"} offset 5m', False),
]


def _promtool_reads(tmp_path: Path, series: str, values: str) -> bool:
    (tmp_path / "r.yaml").write_text("groups: []\n")
    test = tmp_path / "t.yaml"
    test.write_text(
        "rule_files: [r.yaml]\ntests:\n- interval: 1m\n  input_series:\n"
        f"  - series: {series!r}\n    values: {values!r}\n  promql_expr_test: []\n".replace("\\t", "\t")
    )
    return subprocess.run(["promtool", "test", "rules", str(test)], capture_output=True, check=False).returncode == 0


@pytest.mark.parametrize(("values", "readable"), VALUES)
def test_values_are_refused_exactly_when_promtool_cannot_read_them(
    promtool: str, tmp_path: Path, values: str, readable: bool
) -> None:
    assert (values_problem(values) is None) == readable, values_problem(values)
    assert _promtool_reads(tmp_path, 'a{b="c"}', values) == readable


@pytest.mark.parametrize(("series", "readable"), SERIES)
def test_series_are_refused_exactly_when_promtool_cannot_read_them(
    promtool: str, tmp_path: Path, series: str, readable: bool
) -> None:
    assert (series_problem(series) is None) == readable, series_problem(series)
    assert _promtool_reads(tmp_path, series, "0+1x3") == readable


def test_no_values_at_all_is_refused_though_promtool_reads_it(promtool: str, tmp_path: Path) -> None:
    """promtool takes a series without samples; in a test block it can only be a mistake."""
    assert _promtool_reads(tmp_path, 'a{b="c"}', "")
    assert values_problem("") == "give at least one value, such as 0+10x40"


def test_values_that_would_expand_past_a_week_of_minutes_are_refused() -> None:
    assert values_problem(f"0+1x{MAX_POINTS - 1}") is None
    assert values_problem(f"0+1x{MAX_POINTS}") == f"at most {MAX_POINTS} points per series (a week at the tests' one-minute step)"
    assert values_problem("0+1x100000000") is not None  # promtool would hold them all in memory
