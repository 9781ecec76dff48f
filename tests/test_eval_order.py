"""Generated unit tests evaluate their rule groups in one fixed order.

promtool 2.42 evaluates every loaded group at every step, in Go's random map order unless
the test file sets `group_eval_order`; it does not check that the names listed exist, and
a group left out sorts with the first one listed. So every generated test file must name
every group of the rule files it loads, exactly, each once, producers before readers."""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REPO, slogen
from .golden import cases

LEVELS_SPEC = REPO / "tests/levels/slo"
TREES = [c / "out" for c in cases()]  # the plan among them


@pytest.fixture(scope="module")
def levels_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("levels") / "out"
    result = slogen("generate", "--spec", str(LEVELS_SPEC), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def _groups(test_file: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(test_file.read_text())
    return [g for f in data["rule_files"] for g in yaml.safe_load((test_file.parent / f).read_text())["groups"]]


def _reads(group: dict[str, Any], name: str) -> bool:
    return any(re.search(rf"\b{re.escape(name)}\{{", r["expr"]) for r in group["rules"])


def _check_order(test_file: Path) -> None:
    order = yaml.safe_load(test_file.read_text())["group_eval_order"]
    groups = _groups(test_file)
    assert sorted(order) == sorted(g["name"] for g in groups), f"{test_file}: every group, exactly, each once"
    position = {name: i for i, name in enumerate(order)}
    for producer, reader in itertools.permutations(groups, 2):
        names = {r["record"] for r in producer["rules"] if "record" in r}
        if not any(_reads(reader, n) for n in names):
            continue
        # The 5m level and the 30m sums read each other: the 5m level (no interval of
        # its own) goes first. Otherwise the producer goes first.
        mutual = any(_reads(producer, r["record"]) for r in reader["rules"] if "record" in r)
        if not mutual or "interval" not in producer:
            assert position[producer["name"]] < position[reader["name"]], (
                f"{test_file.name}: {producer['name']} must be evaluated before {reader['name']}"
            )


@pytest.mark.parametrize("tree", TREES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_generated_test_pins_every_group_in_dependency_order(tree: Path) -> None:
    files = sorted((tree / "prometheus/tests").glob("*.test.yaml"))
    assert files
    for test_file in files:
        _check_order(test_file)


def test_the_levels_fixture_pins_its_groups_too(levels_tree: Path) -> None:
    files = sorted((levels_tree / "prometheus/tests").glob("*.test.yaml"))
    assert len(files) == 3
    for test_file in files:
        _check_order(test_file)
    assert yaml.safe_load((levels_tree / "prometheus/tests/shop.checkout.test.yaml").read_text())[
        "group_eval_order"
    ] == ["slogen:shop:checkout", "slogen:shop:checkout:30m", "slogen:shop:checkout:period"]


# Steady traffic of 10 requests a second, and the first errors in the last minute: only
# the 5m rate recorded at 59m has errors. In the pinned order (the 5m level, then the 30m
# sums, then the period group) the 30m sum of 59m includes that rate, and the period and
# the 3-day window (a ticket's window, in the period group) read that sum: both show the
# errors. Any other order evaluates the period group before the 30m sums of 59m, or the
# sums before the 5m rate of 59m, and loses the errors, so the test passes in the pinned
# order only.
ORDER_SENSITIVE_INPUT = [
    {"series": 'shop_requests_total{slo="checkout", code="200"}', "values": "0+600x65"},
    {"series": 'shop_requests_total{slo="checkout", code="500"}', "values": "0x58 120x6"},
]


def _order_sensitive_file(generated: Path, order: list[str]) -> dict[str, Any]:
    labels = '{owner="web", service="shop", slo="checkout"}'
    data = yaml.safe_load(generated.read_text())
    test = {
        "name": "the period and the 3-day window see the errors of their own instant",
        "interval": "1m",
        "input_series": ORDER_SENSITIVE_INPUT,
        "promql_expr_test": [
            {  # the period's error ratio is above 0 ...
                "expr": "slo:sli_error:ratio_rate30d > bool 0",
                "eval_time": "59m",
                "exp_samples": [{"labels": labels, "value": 1}],
            },
            {  # ... and so is the 3-day window's, which reads the same sums
                "expr": "slo:sli_error:ratio_rate3d > bool 0",
                "eval_time": "59m",
                "exp_samples": [{"labels": labels, "value": 1}],
            },
        ],
    }
    return {
        "rule_files": data["rule_files"],
        "evaluation_interval": data["evaluation_interval"],
        "group_eval_order": order,
        "tests": [test],
    }


def _run(promtool: str, test_file: Path, content: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    test_file.write_text(yaml.safe_dump(content, sort_keys=False))
    return subprocess.run(
        [promtool, "test", "rules", test_file.name], cwd=test_file.parent, capture_output=True, text=True, check=False
    )


def test_the_pinned_order_gives_the_same_numbers_every_run_and_another_order_would_not(
    promtool: str, levels_tree: Path
) -> None:
    generated = levels_tree / "prometheus/tests/shop.checkout.test.yaml"
    pinned = yaml.safe_load(generated.read_text())["group_eval_order"]
    probe = generated.with_name("order.test.yaml")
    for _ in range(5):
        result = _run(promtool, probe, _order_sensitive_file(generated, pinned))
        assert result.returncode == 0, result.stdout + result.stderr
    # Without the pin promtool picks one of these orders at random: each fails the test.
    for order in itertools.permutations(pinned):
        if list(order) == pinned:
            continue
        result = _run(promtool, probe, _order_sensitive_file(generated, list(order)))
        assert result.returncode == 1 and "FAILED" in result.stderr, (order, result.stdout + result.stderr)
