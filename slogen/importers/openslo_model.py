"""The shapes of OpenSLO v1 documents, checked as OpenSLO's own validator does: unknown
fields are errors, required fields must be there, names are unique per kind.

Source: the OpenSLO specification (github.com/OpenSLO/OpenSLO, README.md, section v1) and
its Go types (pkg/openslo/v1: slo.go, sli.go, alert_policy.go, alert_condition.go,
duration_shorthand.go). Each shape below is {field: required}; a nested shape is checked
where the converter reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import Problem
from ..load import Document, Path_

API_VERSION = "openslo/v1"
KINDS = ("Service", "SLI", "SLO", "DataSource", "AlertPolicy", "AlertCondition", "AlertNotificationTarget")

TOP = {"apiVersion": True, "kind": True, "metadata": True, "spec": True}
METADATA = {"name": True, "displayName": False, "labels": False, "annotations": False}
SPEC: dict[str, dict[str, bool]] = {
    "Service": {"description": False},
    "SLI": {"description": False, "thresholdMetric": False, "ratioMetric": False},
    "SLO": {
        "description": False,
        "service": True,
        "indicator": False,
        "indicatorRef": False,
        "timeWindow": True,
        "budgetingMethod": True,
        "objectives": True,
        "alertPolicies": False,
    },
    "DataSource": {"description": False, "type": True, "connectionDetails": False},
    "AlertPolicy": {
        "description": False,
        "alertWhenNoData": False,
        "alertWhenResolved": False,
        "alertWhenBreaching": False,
        "conditions": True,
        "notificationTargets": True,
    },
    "AlertCondition": {"description": False, "severity": True, "condition": True},
    "AlertNotificationTarget": {"description": False, "target": True},
}
INLINE = {"metadata": True, "spec": True}  # an inline SLI: no apiVersion, no kind
INLINE_KIND = {"kind": True, "metadata": True, "spec": True}  # an inline policy, condition or target
RATIO = {"counter": False, "good": False, "bad": False, "total": False, "rawType": False, "raw": False}
METRIC = {"metricSource": True}
SOURCE = {"metricSourceRef": False, "type": False, "spec": False}
TIME_WINDOW = {"duration": True, "isRolling": False, "calendar": False}
CALENDAR = {"startTime": True, "timeZone": True}
OBJECTIVE = {
    "displayName": False,
    "op": False,
    "value": False,
    "target": False,
    "targetPercent": False,
    "timeSliceTarget": False,
    "timeSliceWindow": False,
    "indicator": False,
    "indicatorRef": False,
    "compositeWeight": False,
}
# kind defaults to burnrate and alertAfter to 0m (README, Notes (AlertCondition)); op is in
# the Go examples only.
CONDITION = {"kind": False, "op": False, "threshold": True, "lookbackWindow": True, "alertAfter": False}

# OpenSLO's duration shorthand: [0-9]+[mhdwMQY]. M, Q and Y are 30, 90 and 365 days, as
# OpenSLO's DurationShorthand.Duration() reads them; slogen writes them in days.
_SHORTHAND = re.compile(r"([0-9]+)([mhdwMQY])")
_DAYS = {"M": 30, "Q": 90, "Y": 365}
MAX_DESCRIPTION = 1050  # "optional up to 1050 characters", every kind
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")  # RFC 1123 label, as OpenSLO's validator


def duration(text: object) -> str | None:
    """The shorthand as a slogen duration (`1M` -> `30d`), or None if it is not one."""
    match = _SHORTHAND.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    value, unit = match.groups()
    if unit in _DAYS:
        return f"{int(value) * _DAYS[unit]}d"
    return f"{int(value)}{unit}"


@dataclass
class Checker:
    """Collects problems: unknown fields, missing ones, wrong types."""

    problems: list[Problem] = field(default_factory=list)

    def refuse(self, doc: Document, path: Path_, why: str) -> None:
        self.problems.append(doc.problem(path, why))

    def fields(self, doc: Document, path: Path_, value: Any, shape: dict[str, bool]) -> bool:
        """Whether value is a mapping with only the shape's fields and all its required ones."""
        if not isinstance(value, dict):
            self.refuse(doc, path, f"expected a mapping with {', '.join(shape)}")
            return False
        ok = True
        for key in value:
            if key not in shape:
                self.refuse(doc, (*path, key), f"unknown field of OpenSLO v1 (expected one of {', '.join(shape)})")
                ok = False
        for key, required in shape.items():
            if required and key not in value:
                self.refuse(doc, path, f"missing required field `{key}`")
                ok = False
        return ok

    def string(self, doc: Document, path: Path_, value: Any) -> str | None:
        if isinstance(value, str) and value:
            return value
        self.refuse(doc, path, "expected a non-empty string")
        return None

    def name(self, doc: Document, path: Path_, value: Any) -> str | None:
        text = self.string(doc, path, value)
        if text is not None and (not _NAME.match(text) or len(text) > 63):
            self.refuse(doc, path, "an OpenSLO name is at most 63 lowercase letters, digits and `-` (RFC 1123)")
            return None
        return text

    def document(self, doc: Document) -> bool:
        """The top level of one document: apiVersion, kind, metadata and its spec's fields."""
        data = doc.data
        if not self.fields(doc, (), data, TOP):
            return False
        if data["apiVersion"] != API_VERSION:
            self.refuse(doc, ("apiVersion",), f"slogen imports {API_VERSION} (got {data['apiVersion']!r})")
            return False
        if data["kind"] not in KINDS:
            self.refuse(doc, ("kind",), f"not an OpenSLO v1 kind slogen imports ({', '.join(KINDS)})")
            return False
        ok = self.metadata(doc, ("metadata",), data["metadata"])
        ok = self.fields(doc, ("spec",), data["spec"], SPEC[data["kind"]]) and ok
        return ok and self.description(doc, ("spec",), data["spec"])

    def description(self, doc: Document, path: Path_, spec: dict[str, Any]) -> bool:
        text = spec.get("description")
        if text is not None and (not isinstance(text, str) or len(text) > MAX_DESCRIPTION):
            self.refuse(
                doc, (*path, "description"), f"a description is a string of at most {MAX_DESCRIPTION} characters"
            )
            return False
        return True

    def metadata(self, doc: Document, path: Path_, value: Any) -> bool:
        if not self.fields(doc, path, value, METADATA):
            return False
        return self.name(doc, (*path, "name"), value["name"]) is not None

    def inline(self, doc: Document, path: Path_, value: Any, kind: str) -> bool:
        """An inline policy, condition or target: kind, metadata and its spec's fields."""
        if not self.fields(doc, path, value, INLINE_KIND):
            return False
        if value["kind"] != kind:
            self.refuse(doc, (*path, "kind"), f"expected {kind} here")
            return False
        ok = self.metadata(doc, (*path, "metadata"), value["metadata"])
        ok = self.fields(doc, (*path, "spec"), value["spec"], SPEC[kind]) and ok
        return ok and self.description(doc, (*path, "spec"), value["spec"])


def labels(chk: Checker, doc: Document, path: Path_, value: Any) -> dict[str, str]:
    """OpenSLO metadata labels (a string or a list of strings per key) as Prometheus
    labels: one value each (a list of one is that value)."""
    out: dict[str, str] = {}
    if not isinstance(value, dict):
        chk.refuse(doc, path, "expected a mapping of label names to values")
        return out
    for key, item in value.items():
        if isinstance(item, list) and len(item) == 1:
            item = item[0]
        if not isinstance(item, str):
            chk.refuse(doc, (*path, key), "a Prometheus label has one string value: give one (not a list)")
            continue
        out[str(key)] = item
    return out
