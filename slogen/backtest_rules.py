"""The alerts `slogen backtest` replays, each as one PromQL expression over raw series.

Generated alerts read recorded series (`slo:sli_error:ratio_rate1h{service=..., slo=...}`),
which a backfilled history does not hold, and which another spec folder would record
differently. So every recorded selector is replaced by the expression of the recording
rule that writes it, recursively, on the parsed expression (promql-parser's transform),
never by pasting text:

- `rec{...}` becomes `label_replace(...(<rule's expr>)..., "label", "value", "", "")`,
  one label_replace per static label of the rule (what Prometheus adds when it records);
- `rec{...}[1h]` becomes the subquery `(<that>)[1h:<the rule's group interval>]`, the
  samples the recording would have written, every interval, over the range.

The result is printed with promql-parser's prettify (which escapes label values; its plain
str() does not) and parsed back as a check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import promql_parser

from . import conventions as c
from . import model as m
from .builders.rules import build_absent_alerts, build_rule_files
from .promql import quote
from .quantity import format_duration, parse_duration

_PLACEHOLDER = "__slogen_backtest_inline__"
_EQUAL = int(promql_parser.MatchOp.Equal)


class NotReplayable(Exception):
    """An alert reads a series that no generated rule records and that is no raw series."""


@dataclass(frozen=True)
class Recording:
    record: str
    expr: str
    labels: tuple[tuple[str, str], ...]
    interval_s: float


@dataclass(frozen=True)
class ReplayedAlert:
    """One generated alerting rule, ready to replay: its expression over raw series."""

    alert: str
    expr: str  # inlined: reads raw series only
    labels: dict[str, str]  # the rule's static labels
    for_s: float
    interval_s: float
    kind: str  # burn | threshold | absent
    threshold: float | None
    service: str
    slo: str


def replayed_alerts(model: m.Model, evaluation_interval_s: float, service: str | None = None) -> list[ReplayedAlert]:
    """Every alerting rule `generate` would write (of one service, or all), inlined."""
    files = build_rule_files(model)
    recordings: dict[str, list[Recording]] = {}
    for item in files.values():
        for group in item["groups"]:
            interval = _interval_s(group, evaluation_interval_s)
            for rule in group["rules"]:
                if "record" in rule:
                    labels = tuple(sorted(rule.get("labels", {}).items()))
                    recordings.setdefault(rule["record"], []).append(
                        Recording(rule["record"], rule["expr"], labels, interval)
                    )
    inliner = _Inliner(recordings)
    out: list[ReplayedAlert] = []
    for svc in model.services:
        if service is not None and svc.name != service:
            continue
        items: list[m.SLO | m.ThresholdAlert] = [*svc.slos, *svc.alerts]
        for entity in items:
            groups = files[c.rules_file(svc.name, entity.id)]["groups"]
            out += _alerts_of(entity, groups, inliner, evaluation_interval_s)
    return out


def _interval_s(group: dict[str, Any], default_s: float) -> float:
    interval = group.get("interval")
    return parse_duration(interval) / 1000 if interval else default_s


def _alerts_of(
    entity: m.SLO | m.ThresholdAlert, groups: list[dict[str, Any]], inliner: _Inliner, default_s: float
) -> list[ReplayedAlert]:
    absent = {rule["expr"] for rule in build_absent_alerts(entity)}
    levels = list(entity.levels) if isinstance(entity, m.ThresholdAlert) else []
    out = []
    for group in groups:
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            threshold: float | None = None
            if rule["expr"] in absent:
                kind = "absent"
            elif isinstance(entity, m.SLO):
                kind = "burn"
            else:
                kind = "threshold"
                threshold = float(levels.pop(0).value)  # level rules come in the order of the levels
            out.append(
                ReplayedAlert(
                    alert=rule["alert"],
                    expr=inliner.inline(rule["expr"]),
                    labels=dict(rule.get("labels", {})),
                    for_s=parse_duration(rule["for"]) / 1000 if "for" in rule else 0.0,
                    interval_s=_interval_s(group, default_s),
                    kind=kind,
                    threshold=threshold,
                    service=entity.service,
                    slo=entity.id,
                )
            )
    return out


class _Inliner:
    def __init__(self, recordings: dict[str, list[Recording]]) -> None:
        self.recordings = recordings
        self.memo: dict[Recording, promql_parser.Expr] = {}

    def inline(self, expr: str) -> str:
        text: str = self._inlined(promql_parser.parse(expr)).prettify()
        # promql-parser's printing is ours to trust only once it parses back to itself.
        if promql_parser.parse(text).prettify() != text:
            raise NotReplayable(f"cannot print the inlined expression of {expr!r} faithfully")
        return text

    def _inlined(self, expr: promql_parser.Expr) -> promql_parser.Expr:
        # Replacements are built before transform runs: promql-parser crashes when a
        # transform is started inside another's callback. Ranges first (a matrix selector
        # must keep a vector selector inside), then the plain selectors left.
        ranges: dict[str, promql_parser.Expr] = {}
        vectors: dict[str, promql_parser.Expr] = {}

        def collect(node: promql_parser.Expr) -> None:
            if isinstance(node, promql_parser.MatrixSelector):
                rule = self._rule_of(node.vector_selector)
                if rule is not None:
                    ranges[_key(node)] = self._subquery(rule, node.range)
            elif isinstance(node, promql_parser.VectorSelector):
                rule = self._rule_of(node)
                if rule is not None:
                    vectors[_key(node)] = self._recorded(rule)

        promql_parser.walk(expr, collect)
        if ranges:
            expr = promql_parser.transform(
                expr, post_visit=lambda n: ranges.get(_key(n)) if isinstance(n, promql_parser.MatrixSelector) else None
            )
        if vectors:
            expr = promql_parser.transform(
                expr, post_visit=lambda n: vectors.get(_key(n)) if isinstance(n, promql_parser.VectorSelector) else None
            )
        return expr

    def _rule_of(self, selector: promql_parser.VectorSelector) -> Recording | None:
        """The recording rule that writes what the selector reads; None for a raw series."""
        name = selector.name or ""
        if name not in self.recordings:
            if ":" in name:  # the naming of recorded series: never a raw metric
                raise NotReplayable(f"{selector.prettify()} reads a series no generated rule records")
            return None
        if selector.offset is not None or selector.at is not None:
            raise NotReplayable(f"{selector.prettify()}: offset and @ are not replayed")
        wanted = {(mt.name, mt.value) for mt in selector.matchers.matchers if mt.name != "__name__"}
        if any(int(mt.op) != _EQUAL for mt in selector.matchers.matchers):  # type: ignore[call-overload]
            raise NotReplayable(f"{selector.prettify()}: only = matchers on recorded series are replayed")
        found = [r for r in self.recordings[name] if wanted <= set(r.labels)]
        if len(found) != 1:
            raise NotReplayable(f"{selector.prettify()} matches {len(found)} generated recording rules, not one")
        return found[0]

    def _recorded(self, rule: Recording) -> promql_parser.Expr:
        """The rule's expression with the labels Prometheus gives what it records."""
        if rule not in self.memo:
            text = f"({_PLACEHOLDER})"
            for label, value in rule.labels:
                text = f'label_replace({text}, {quote(label)}, {quote(value)}, "", "")'
            inner = self._inlined(promql_parser.parse(rule.expr))
            self.memo[rule] = _fill(promql_parser.parse(text), inner)
        return self.memo[rule]

    def _subquery(self, rule: Recording, window: timedelta) -> promql_parser.Expr:
        window_ms = int(window.total_seconds() * 1000)
        step_ms = int(rule.interval_s * 1000)
        shell = promql_parser.parse(f"({_PLACEHOLDER})[{format_duration(window_ms)}:{format_duration(step_ms)}]")
        return _fill(shell, self._recorded(rule))


def _fill(shell: promql_parser.Expr, inner: promql_parser.Expr) -> promql_parser.Expr:
    def put(node: promql_parser.Expr) -> promql_parser.Expr | None:
        return inner if isinstance(node, promql_parser.VectorSelector) and node.name == _PLACEHOLDER else None

    return promql_parser.transform(shell, post_visit=put)


def _key(node: promql_parser.Expr) -> str:
    # prettify escapes label values: equal texts are equal selectors (and ranges)
    return str(node.prettify())
