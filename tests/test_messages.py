"""Files in another tool's format are named for what they are, whatever their shape."""

from __future__ import annotations

from typing import Any

import pytest

from slogen.messages import foreign_format


@pytest.mark.parametrize(
    ("data", "start"),
    [
        ({"apiVersion": "sloth.slok.dev/v1", "kind": "PrometheusServiceLevel"}, "this is a Sloth spec (apiVersion"),
        ({"version": "prometheus/v1", "service": "api", "slos": []}, "this is a Sloth spec (version"),
        ({"apiVersion": "pyrra.dev/v1alpha1", "kind": "ServiceLevelObjective"}, "this is a Pyrra spec"),
        ({"apiVersion": "openslo.com/v2alpha", "kind": "SLO"}, "this is an OpenSLO spec"),
        ({"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule"}, "this is a Kubernetes manifest"),
        ({"groups": [{"name": "x", "rules": []}]}, "this is a Prometheus rules file"),
        ({"route": {"receiver": "x"}, "receivers": [{"name": "x"}]}, "this is an Alertmanager config"),
    ],
    ids=["sloth crd", "sloth", "pyrra", "openslo v2", "prometheusrule", "rules file", "alertmanager config"],
)
def test_a_file_of_another_format_is_named(data: dict[str, Any], start: str) -> None:
    message = foreign_format(data)
    assert message is not None and message.startswith(start)


@pytest.mark.parametrize(
    "data",
    [
        {"version": 1, "service": "api", "slos": {}},
        {"version": 1, "receivers": {}, "routes": []},
        {"version": 1, "grafana": {}},
        ["a", "list"],
    ],
    ids=["service", "routing", "settings", "not a mapping"],
)
def test_slogen_files_are_not_taken_for_another_format(data: Any) -> None:
    assert foreign_format(data) is None
