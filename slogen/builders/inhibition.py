"""Which alerts inhibit which: the inhibit_rules of the generated Alertmanager config,
applied to a list of alert label sets (as the alert catalog shows them)."""

from __future__ import annotations

import re
from collections import defaultdict

from .. import model as m
from .alertmanager import build_alertmanager_config

# As alertmanager.matcher writes them: name, operator, a double-quoted value.
_MATCHER = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)"((?:[^"\\]|\\.)*)"$')


def matches(matchers: list[str], labels: dict[str, str]) -> bool:
    """Whether a label set satisfies every matcher (a missing label is the empty string,
    and regexes are anchored, as in Alertmanager)."""
    for text in matchers:
        found = _MATCHER.match(text)
        if found is None:
            raise ValueError(f"unexpected matcher in the generated config: {text}")
        name, op, raw = found.groups()
        value = re.sub(r"\\(.)", lambda g: "\n" if g.group(1) == "n" else g.group(1), raw)
        have = labels.get(name, "")
        ok = have == value if op in ("=", "!=") else re.fullmatch(value, have) is not None
        if ok == (op in ("!=", "!~")):
            return False
    return True


def inhibited_by(routing: m.Routing, alerts: list[dict[str, str]]) -> dict[int, list[int]]:
    """Index of an alert -> indexes of the alerts that inhibit it while they fire. Per
    inhibit rule, only alerts that share its `equal` labels are compared (a handful each),
    so 10,000 SLOs stay linear; an alert never inhibits itself."""
    out: dict[int, list[int]] = defaultdict(list)
    for rule in build_alertmanager_config(routing).get("inhibit_rules", []):
        buckets: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i, labels in enumerate(alerts):
            buckets[tuple(labels.get(k, "") for k in rule.get("equal", []))].append(i)
        for bucket in buckets.values():
            sources = [i for i in bucket if matches(rule.get("source_matchers", []), alerts[i])]
            targets = [i for i in bucket if matches(rule.get("target_matchers", []), alerts[i])]
            for target in targets:
                out[target] += [s for s in sources if s != target and s not in out[target]]
    return dict(out)
