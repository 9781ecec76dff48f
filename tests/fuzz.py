"""Mutations of valid spec folders, for the property-based fuzzer (tests/test_fuzz.py).

A case is a valid spec folder of tests/cases/*/slo; one of its files is mutated one to
three times, either as data (a value replaced by a hostile one, a key dropped, renamed or
added) or as text (a key line repeated, a character inserted, a value nested very deep).
The result is written as YAML, as a user would have written it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

CASES = Path(__file__).parent / "cases"

# Values that broke, or could break, a spec: numbers at and past every edge, durations,
# percentages, template and Grafana syntax, secrets, regexes Go's RE2 refuses, quotes,
# braces and newlines in label values, and the YAML 1.1 words that look like booleans.
HOSTILE_STRINGS = (
    "", " ", "nan", "NaN%", ".nan", "inf", "+Inf", ".inf", "-.inf", "1e309", "1e-400", "-1", "0", "0%",
    "100%", "101%", "99.99", "99.9%", "1e3", "0x10", "300y", "292y", "1ms", "0s", "5m", "45m", "1h", "-5m",
    "1y", "10000w", "250ms", "{{ query \"up\" }}", "{{ $value }}", "$__range", "${x}", "[[x]]",
    'x"} or vector(1) #', "a{b}", "a\nb", "a\n", "\t", "\x00", "\x1b[31m", "\u202e", "日本", "🔥",
    "5{1001}", "(?x)a", "(?<=a)b", "\\Z", "a++", "(a", ".*", "", "no", "on", "yes", "off", "~", "null",
    "https://hooks.slack.com/services/T000/B000/XXXX", "0123456789abcdef0123456789abcdef",
    "https://u:pw@example.com/", "/etc/x", "monday:friday", "friday:monday", "24:00", "25:00",
    "smtp.example.com", "http_requests_total", 'up{job="x"}', 'x{le="0.25"}', "overview", "slogen-overview",
    "service", "severity", "owner", "slo", "le", "__name__", "critical", "warning",
)


def _long_strings() -> st.SearchStrategy[str]:
    return st.builds(lambda n, c: c * n, st.integers(100, 200_000), st.sampled_from(["a", "é", "{", "9"]))


SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 2**63, 0.1, 1e-300, 1e300, math.inf, -math.inf, math.nan]),
    st.booleans(),
    st.none(),
    st.text(max_size=40),
    _long_strings(),
)
VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=12), inner, max_size=4)
    ),
    max_leaves=8,
)
# Values a user could well mean, per field: at the edges of what is valid, so that more
# mutants pass the validators and reach the builders and the real tools.
_SELECTORS = (
    "m", 'm{a=~"x|y"}', 'm{a!="", b=~".+"}', 'a:b:c{x="y"}', 'm{a=~"(?i)x"}', 'm{a="日本"}', 'm{a="$x"}',
    'm{a=~"^x$"}', 'm{a!~"5.."}', 'm_total{job="a b", le="1"}', 'm{a=""}', 'm{a="\\\\"}', 'm{a=~"x{2,3}"}',
)
# Event expressions (Sloth's form) in an SLO's ratio, valid and nearly so.
_EVENT_EXPRESSIONS = (
    "sum(rate(m[$window]))", 'rate(m{a="x"}[$window])', "sum(rate(m[$window])) - (sum(rate(n[$window])) or vector(0))",
    "m[$window]", "sum(rate(m[5m]))", "increase(m[$window]) / 300", "sum(rate(m[{{.window}}]))", "1",
    'sum by (a) (rate(m{a=~"x|y"}[$window]))', "sum(rate(m[$window:1m]))", "rate(m[$window]) +",
)  # fmt: skip
FIELD_VALUES: dict[str, tuple[Any, ...]] = {
    "objective": ("99.999%", "50%", "0.9999", "99.99999%", "0.1%", 0.95, "1e-3", "99.9 %"),
    "window": ("1h", "2h", "1d", "7d", "90d", "365d", "61m", "5m", "1m", "10m", "1w", "4w", "1y"),
    "for": ("0s", "1m", "1h", "1d", "30s", "59s", "7d"),
    "above": (0, 1e-9, "0.001%", "100%", "1ms", 1000000, 0.5, "99%", "2.5"),
    "below": (0, 1e-9, "0.001%", "100%", "1ms", 1000000, 0.5, "99%", "2.5"),
    "at_least": (0, 1e-9, "100%", 0.5, "1s"),
    "at_most": (0, 1e-9, "100%", 0.5, "1s"),
    "threshold": ("1", "2.5", "0.05", "500ms", "1s", "5"),
    "buckets": ([1], [0.001, 1000], [0.1, 0.2, 0.3], ["1ms", "1s"], [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
    "quantile": (0.5, 0.999, 0.001, 0.9),
    "by": (
        ["route"], ["a", "b"], ["instance"], [], ["le"], ["job"], ["code"], ["datasource"], ["slo"], ["a", "a"],
        ["region"], ["instance", "region"], ["slogen_probe"],  # a grouped probe's own label, and its fallback
    ),
    "labels": ({"tier": "é"}, {"x": "$__range"}, {"team": "a b"}, {}, {"a": ""}, {"k": "v" * 200}),
    "description": ("é" * 300, "a\tb", "100% of {x}", "50 % done $x", "<b>html</b>", "a:b: c"),
    "runbook": ("https://x/y?a=b&c=d#e", "#anchor", "relative/path.md", "http://例え.jp/", "#", "a b"),
    "owner": ("team-a", "Team.B", "x" * 60, "1"),
    "service": ("a", "a-b_c", "x" * 32, "0", "overview"),
    "bad": _SELECTORS + _EVENT_EXPRESSIONS,
    "good": _SELECTORS + _EVENT_EXPRESSIONS,
    "total": _SELECTORS + _EVENT_EXPRESSIONS,
    "metric": (
        *_SELECTORS, "up", 'probe_success{job="blackbox", instance="https://x.example"}', 'up{job=~".+"}',
        'probe_success{region=~"eu-.+"}', 'probe_success{region="eu"}', 'up{slogen_probe="x", instance="y"}',
    ),
    "histogram": _SELECTORS,
    "gauge": _SELECTORS,
    "capacity": _SELECTORS,
    "measure": ("good", "bad"),
    "group_by": (["service"], ["..."], [], ["alertname", "owner"]),
    "group_wait": ("0s", "1s", "10m", "1d"),
    "group_interval": ("1s", "10m", "1d"),
    "repeat_interval": ("1m", "1h", "30d"),
    "channel": ("#a", "#é", "@user", "#" + "c" * 80),
    "to": ("a@b.c", "a@b.c, d@e.f", "é@例え.jp"),
    # a route's list, a page/ticket severity value, or a custom tier's kind
    "severity": (["critical"], ["warning"], ["critical", "warning"], ["P1", "P3"], "P1", "critical", "page", "ticket"),
    # alerting: (issue 10, item 2)
    "name": ("SLOErrorBudgetBurn", "SLOMetricAbsent", "A", "x" * 128, "ErrorRate", "_a", "a:b"),
    "long": ("5m", "10m", "1h", "3d", "28d", "1y", "61s"),
    "short": ("5m", "4m", "1h", "30m", "6h"),
    "factor": (0.5, 1, 14.4, 1000, 1e-9, "14.4"),
    "absent": (True, False, {"for": "0s"}, {"for": "1d"}, {"for": "3m"}),
    "annotations": ({"playbook": "https://x/y"}, {"summary": "x"}, {"a": "é" * 300}, {}),
    "tiers": (
        [{"severity": "page", "long": "1h", "short": "5m", "factor": 14.4}],
        [{"severity": "ticket", "long": "1d", "short": "2h", "factor": 3, "for": "1h"}],
    ),
    "match": ({"slo": "availability"}, {"owner": "x"}, {"service": "é"}),
    "url": ("http://127.0.0.1:1/x", "https://x.example/a?b=c"),
    # slogen.yaml's targets (issue 12, item 1) and the prometheus-operator settings, at
    # the edges of Kubernetes' name and label syntax
    "targets": (
        ["prometheus", "prometheus-operator"], ["prometheus-operator"], ["prometheus", "thanos", "mimir"],
        ["prometheus", "argo-rollouts"], ["flagger"], ["prometheus", "flagger", "flagger"], ["argo"],
    ),
    "namespace": ("monitoring", "a", "x" * 63, "x" * 64, "a-", "Monitoring", "kube.system", "flagger-system", ""),
    "rule_labels": (
        {"release": "kube-prometheus-stack"}, {"example.com/team": "a.b_c"}, {"a/b/c": "x"}, {"x": ""},
        {"x": "-a"}, {"x" * 63: "y" * 63}, {"x" * 64: "y"}, {"e.com/": "x"},
    ),
    "dashboard_labels": ({"grafana_dashboard": "1"}, {"grafana_dashboard": 1}, {}, {"sidecar": "y" * 64}),
    "alertmanager": ("main", "a" * 50, "a" * 51, "Main", "a.b", "a-", ""),
    # canary analysis (issue 13, item 2): service `canary:` and the delivery targets' settings
    "label": ("version", "rollouts-pod-template-hash", "app", "le", "__name__", "é", "x" * 200),
    "max_burn_rate": (0, -1, 1e-9, 14.4, "6", 1e9, "2x"),
    "prometheus_url": ("http://p:9090", "p:9090", "https://p.example/prom/", "http://a b", "ftp://x", "x" * 300),
}
TEXT_INSERTS = ("\t", "{", "}", "[", "]", ":", "- ", "&a ", "*a", "\n---\n", "%", "!!python/object ", '"', "'", "#", "\\")


@dataclass(frozen=True)
class Mutant:
    files: dict[str, bytes]  # relative path -> content, the mutated file among them
    mutated: str
    log: tuple[str, ...]  # what was done, for the failure message

    def write(self, folder: Path) -> Path:
        for rel, data in self.files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        return folder


def seed_folders() -> list[Path]:
    return sorted(p / "slo" for p in CASES.iterdir() if (p / "slo").is_dir())


def _nodes(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path in the data, the root's children first."""
    out: list[tuple[Any, ...]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            out.append((*path, key))
            out.extend(_nodes(value, (*path, key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out.append((*path, i))
            out.extend(_nodes(value, (*path, i)))
    return out


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _mutate_data(draw: st.DrawFn, data: Any, log: list[str]) -> Any:
    paths = _nodes(data)
    if not paths:
        return draw(VALUES)
    action = draw(st.sampled_from(["field", "field", "field", "field", "replace", "tweak", "drop", "rename", "add"]))
    fields = [p for p in paths if isinstance(p[-1], str) and p[-1] in FIELD_VALUES]
    path = draw(st.sampled_from(fields if action == "field" and fields else paths))
    parent, last = _parent(data, path), path[-1]
    if action == "field" and last in FIELD_VALUES:
        parent[last] = draw(st.sampled_from(FIELD_VALUES[str(last)]))
    elif action in ("field", "tweak"):
        parent[last] = _tweak(draw, parent[last])
    elif action == "replace":
        parent[last] = draw(VALUES)
    elif action == "drop":
        del parent[last]
    elif action == "rename" and isinstance(parent, dict):
        parent[draw(st.sampled_from([*HOSTILE_STRINGS[:20], "objectve", "ratio_off", "windw", "for_"]))] = parent.pop(
            last
        )
    elif action == "add" and isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=12))] = draw(VALUES)
    elif isinstance(parent, list):
        parent.insert(last, draw(VALUES))
    log.append(f"{action} at {list(path)}")
    return data


def _tweak(draw: st.DrawFn, value: Any) -> Any:
    """A near miss of the value as written: more often valid, so that odd values reach
    the builders and the real tools, not only the validators."""
    if isinstance(value, bool) or value is None:
        return not value
    if isinstance(value, int | float):
        return draw(st.sampled_from([value * 10, value / 10, -value, value + 1e-9, 0, value * 1000, value - 1]))
    if isinstance(value, str):
        at = draw(st.integers(0, len(value)))
        return value[:at] + draw(st.sampled_from([*HOSTILE_STRINGS, "0", "9", ".", "%", "ms", "d", "y"])) + value[at:]
    return draw(VALUES)


def _mutate_text(draw: st.DrawFn, text: str, log: list[str]) -> str:
    lines = text.splitlines(keepends=True)
    action = draw(st.sampled_from(["repeat-line", "insert", "nest"]))
    at = draw(st.integers(0, max(0, len(lines) - 1)))
    if action == "repeat-line" and lines:
        lines.insert(at, lines[at])
    elif action == "insert":
        offset = draw(st.integers(0, len(text)))
        log.append(f"insert at offset {offset}")
        return text[:offset] + draw(st.sampled_from(TEXT_INSERTS)) + text[offset:]
    else:
        depth = draw(st.sampled_from([50, 500, 5000]))
        line = lines[at] if lines else ""
        key = line.split(":", 1)[0] if ":" in line else "extra"
        lines[at] = f"{key}: {'[' * depth}1{']' * depth}\n"
    log.append(f"{action} at line {at + 1}")
    return "".join(lines)


@st.composite
def mutants(draw: st.DrawFn) -> Mutant:
    folder = draw(st.sampled_from(seed_folders()))
    files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.yaml"))}
    mutated = draw(st.sampled_from(sorted(files)))
    log = [f"{folder.parent.name}/{mutated}"]
    data = yaml.safe_load(files[mutated])
    text = None
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        if text is None and draw(st.integers(0, 5)) > 0:
            data = _mutate_data(draw, data, log)
            continue
        if text is None:
            text = _dump(data)
        text = _mutate_text(draw, text, log)
    body = _dump(data) if text is None else text
    return Mutant({**files, mutated: body.encode("utf-8", "surrogatepass")}, mutated, tuple(log))


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1_000_000)
