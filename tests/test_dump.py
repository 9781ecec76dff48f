"""Our YAML emitter writes what PyYAML (and so Prometheus' and Alertmanager's readers)
loads back as the same data: every generated document, and random strings."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
import yaml

from slogen import api
from slogen.builders.alertmanager import build_alertmanager_config, build_route_tests
from slogen.builders.rules import build_rule_files
from slogen.builders.tests import build_test_files
from slogen.dump import to_yaml

from .conftest import REPO
from .golden import cases

SPECS = [c / "slo" for c in cases()]


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_generated_document_loads_back_equal(spec: Path) -> None:
    model = api.load_model(api.Options(spec_dir=spec, templates=None))
    documents = [{"groups": f["groups"]} for f in build_rule_files(model).values()]
    documents += [f["data"] for f in build_test_files(model).values()]
    if model.routing is not None:
        documents += [build_alertmanager_config(model.routing), build_route_tests(model)]  # type: ignore[list-item]
    for document in documents:
        assert yaml.safe_load(to_yaml(document)) == document


def test_random_strings_survive_as_keys_values_and_list_items() -> None:
    alphabet = string.printable + "äü→\u2028\u2029\x85\x7f\ufeff\x9f\x00\x1b#:-{}[]'\"|>&*!%@`"
    rng = random.Random(20261126)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        document = {text: [text, {text: text}, [text]]} if text else {"k": [text]}
        assert yaml.safe_load(to_yaml(document)) == document, repr(text)


@pytest.mark.parametrize(
    "text", ["yes", "No", "on", "null", "~", "true", "1", "1.5", "0x1f", "1e5", "18:00", "-x", "a: b", "#c", ""]
)
def test_strings_that_look_like_other_types_stay_strings(text: str) -> None:
    assert yaml.safe_load(to_yaml({"v": text})) == {"v": text}
