"""PromQL selectors: parsed with promql-parser, re-rendered by us, escaped.

promql-parser prints label values back without escaping quotes, so a value such as
`api"} or vector(1) #` would come back out as an injected query. Here every matcher is
rendered from its parsed parts, escaped, and values that only make sense as an attempt
to break out of a selector are refused at load time.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from re import _constants as sre_constants  # type: ignore[attr-defined]  # stdlib regex parser (3.11+)
from re import _parser as sre_parse  # type: ignore[attr-defined]

import promql_parser

from .re2 import re2_problem

# Use with fullmatch: `$` also matches before a trailing newline.
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
MAX_LABEL_VALUE = 1024  # a label value is copied into every series, rule and test of its SLO
# What Grafana replaces in a panel query: $name, ${name...} and [[name]] (its own regex).
# A `$` not followed by a name, such as a regex's end anchor, is left alone.
_GRAFANA_VARIABLE = re.compile(r"\$\w+|\$\{[^}]*\}|\[\[\w+?(?::\w+)?\]\]")

# MatchOp is not hashable: key the table by the enum's integer value.
_OPS = {
    int(promql_parser.MatchOp.Equal): "=",
    int(promql_parser.MatchOp.NotEqual): "!=",
    int(promql_parser.MatchOp.Re): "=~",
    int(promql_parser.MatchOp.NotRe): "!~",
}


@dataclass(frozen=True, order=True)
class Matcher:
    name: str
    op: str  # one of = != =~ !~
    value: str

    def render(self) -> str:
        return f"{self.name}{self.op}{quote(self.value)}"

    def matches(self, value: str) -> bool:
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        hit = re.fullmatch(self.value, value) is not None
        return hit if self.op == "=~" else not hit


@dataclass(frozen=True)
class Selector:
    """A metric name and its label matchers, sorted by label name."""

    metric: str
    matchers: tuple[Matcher, ...] = ()

    def render(self, extra: tuple[Matcher, ...] = (), metric: str | None = None) -> str:
        ms = sorted({*self.matchers, *extra})
        inner = ", ".join(m.render() for m in ms)
        return f"{metric or self.metric}{{{inner}}}" if ms else (metric or self.metric)

    def with_metric(self, metric: str) -> Selector:
        return Selector(metric, self.matchers)

    def equality_labels(self) -> dict[str, str]:
        """The labels absent() gives its result: those of the `=` matchers."""
        return {m.name: m.value for m in self.matchers if m.op == "="}

    def matches(self, metric: str, labels: dict[str, str]) -> bool:
        return metric == self.metric and all(m.matches(labels.get(m.name, "")) for m in self.matchers)


@functools.lru_cache(maxsize=1 << 14)  # the same label values, quoted thousands of times
def quote(value: str) -> str:
    """A PromQL double-quoted string literal for any value."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def parse_selector(text: str) -> Selector:
    """Parse `metric{label="v", ...}`; raise ValueError saying what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError('expected a selector such as http_requests_total{job="api"}')
    try:
        expr = promql_parser.parse(text)
    except ValueError as exc:
        raise ValueError(f"invalid selector {text!r}: {exc}") from None
    if not isinstance(expr, promql_parser.VectorSelector):
        raise ValueError(f'expected a plain series selector such as metric{{label="v"}}, got {text!r}')
    if expr.offset is not None or expr.at is not None:
        raise ValueError(f"offset and @ are not allowed in a selector: {text!r}")
    if expr.matchers.or_matchers:
        raise ValueError(f"`or` inside a selector is not supported: {text!r}")
    name, matchers = _parts(expr)
    if any(m.name == "__name__" for m in matchers):
        raise ValueError(f"match the metric by its name, not by __name__: {text!r}")
    if not name:
        raise ValueError(f"the selector must name a metric: {text!r}")
    for matcher in matchers:
        check_matcher(matcher)
    return Selector(name, tuple(sorted(matchers)))


def is_selector(text: str) -> bool:
    """Whether the text is a plain series selector that parse_selector accepts."""
    try:
        parse_selector(text)
    except ValueError:
        return False
    return True


def is_expression(text: str) -> bool:
    """Whether the text parses as PromQL other than a bare selector."""
    try:
        expr = promql_parser.parse(text)
    except ValueError:
        return False
    return not isinstance(expr, promql_parser.VectorSelector)


def check_events_expression(text: str, placeholder: str) -> None:
    """An expression of events per second: parsed as check_expression does, and an instant
    vector (a range or a string cannot be summed into a recording)."""
    check_expression(text, placeholder)
    node: promql_parser.Expr = promql_parser.parse(text.replace(placeholder, "5m"))
    while isinstance(node, promql_parser.ParenExpr):
        node = node.expr
    if isinstance(node, promql_parser.MatrixSelector | promql_parser.SubqueryExpr | promql_parser.StringLiteral):
        raise ValueError(
            f"an expression of events must give events per second (an instant vector), such as "
            f"sum(rate(x[{placeholder}])), got {text!r}"
        )
    if isinstance(node, promql_parser.NumberLiteral):
        raise ValueError(f"an expression of events must read series, got the number {text!r}")


def _parts(expr: promql_parser.VectorSelector) -> tuple[str, list[Matcher]]:
    """The metric name (also from a lone `__name__="..."`) and the other matchers."""
    name = expr.name or ""
    matchers: list[Matcher] = []
    for parsed in expr.matchers.matchers:
        op = _OPS[int(parsed.op)]  # type: ignore[call-overload]
        if parsed.name == "__name__" and op == "=" and not name:
            name = parsed.value
            continue
        matchers.append(Matcher(parsed.name, op, parsed.value))
    return name, matchers


def expression_selectors(text: str) -> list[Selector]:
    """The series a PromQL expression reads: every selector, plain, in a range or in a
    subquery, without its offset, once each, in order."""
    return _selectors_of(promql_parser.parse(text))


def total_selectors(text: str) -> list[Selector] | None:
    """The series of the denominator of an error-ratio expression (events of every kind),
    found through parentheses, arithmetic with a number (`1 - good / total`), functions
    and aggregations of one expression and subqueries; None when there is no division."""
    node: promql_parser.Expr = promql_parser.parse(text)
    while True:
        if isinstance(node, promql_parser.ParenExpr | promql_parser.SubqueryExpr | promql_parser.AggregateExpr):
            node = node.expr
        elif isinstance(node, promql_parser.Call):
            inner = [
                a for a in node.args if not isinstance(a, promql_parser.NumberLiteral | promql_parser.StringLiteral)
            ]
            if len(inner) != 1:
                return None
            node = inner[0]
        elif isinstance(node, promql_parser.BinaryExpr):
            if str(node.op) == "/":
                return _selectors_of(node.rhs)
            if isinstance(node.lhs, promql_parser.NumberLiteral):
                node = node.rhs
            elif isinstance(node.rhs, promql_parser.NumberLiteral):
                node = node.lhs
            else:
                return None
        else:
            return None


def presence_selectors(text: str) -> list[Selector]:
    """The series an expression of events cannot do without: its first operand through
    `+`, `-`, `or` and `unless` (in `all - (client_errors or vector(0))` the client errors
    may never have happened), both through `*`, `/` and `and`."""
    out: list[Selector] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.ParenExpr | promql_parser.SubqueryExpr | promql_parser.AggregateExpr):
            visit(node.expr)
        elif isinstance(node, promql_parser.Call):
            for arg in node.args:
                visit(arg)
        elif isinstance(node, promql_parser.BinaryExpr):
            visit(node.lhs)
            if str(node.op) not in ("+", "-", "or", "unless"):
                visit(node.rhs)
        elif isinstance(node, promql_parser.MatrixSelector):
            visit(node.vector_selector)
        elif isinstance(node, promql_parser.VectorSelector):
            name, matchers = _parts(node)
            selector = Selector(name, tuple(sorted(matchers)))
            if selector not in out:
                out.append(selector)

    visit(promql_parser.parse(text))
    return out


def _nodes(expr: promql_parser.Expr) -> list[object]:
    """Every node of an expression, depth first."""
    nodes: list[object] = []

    def visit(node: object) -> bool:
        nodes.append(node)
        return True

    promql_parser.walk(expr, visit)
    return nodes


def grouping_labels(text: str) -> list[str]:
    """The labels of every `by (...)` clause of an expression, in order, once each."""
    out: list[str] = []
    for node in _nodes(promql_parser.parse(text)):
        modifier = getattr(node, "modifier", None) if isinstance(node, promql_parser.AggregateExpr) else None
        if modifier is not None and str(modifier.type).endswith("By"):
            out += [label for label in modifier.labels if label not in out]
    return out


def _selectors_of(expr: promql_parser.Expr) -> list[Selector]:
    out: list[Selector] = []
    for node in _nodes(expr):
        if isinstance(node, promql_parser.VectorSelector):
            name, matchers = _parts(node)
            selector = Selector(name, tuple(sorted(matchers)))
            if selector not in out:
                out.append(selector)
    return out


def check_matcher(matcher: Matcher) -> None:
    """A matcher's value is safe to render, and a regex reads the same to Go and Python."""
    check_label_value(matcher.value, regex=matcher.op in ("=~", "!~"))
    if matcher.op in ("=~", "!~"):
        problem = re2_problem(matcher.value)
        if problem:
            raise ValueError(f"invalid regular expression for {matcher.name}: {problem}")
        try:
            re.compile(matcher.value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression for {matcher.name}: {exc}") from None


def check_label_value(value: str, *, regex: bool = False) -> None:
    """Refuse what can only be an attempt to escape a selector or a template."""
    if len(value) > MAX_LABEL_VALUE:
        raise ValueError(f"a label value may be at most {MAX_LABEL_VALUE} characters, got {len(value)}")
    if "{{" in value or "}}" in value:
        raise ValueError(f"a label value may not contain template braces {{{{ }}}}: {value!r}")
    if '"' in value:
        raise ValueError(f"a label value may not contain a double quote: {value!r}")
    if "\n" in value or "\r" in value:
        raise ValueError(f"a label value may not contain a newline: {value!r}")
    if not regex and ("{" in value or "}" in value):
        raise ValueError(f"a label value may not contain a brace: {value!r}")
    variable = _GRAFANA_VARIABLE.search(value)
    if variable:
        raise ValueError(
            f"a label value may not contain {variable.group(0)!r}: Grafana would replace it with a variable's "
            f"value in the dashboards' queries, which then differ from the alert's: {value!r}"
        )


def check_expression(text: str, placeholder: str | None = None) -> None:
    """Parse a raw PromQL expression; `$window` placeholders are tried as 5m."""
    probe = text.replace(placeholder, "5m") if placeholder else text
    if "{{" in text:
        raise ValueError("template braces {{ }} are not allowed in an expression")
    if placeholder and placeholder not in text:
        raise ValueError(f"the expression must use the {placeholder} placeholder for its window")
    try:
        expr = promql_parser.parse(probe)
    except ValueError as exc:
        raise ValueError(f"invalid PromQL: {exc}") from None
    for node in _nodes(expr):
        if isinstance(node, promql_parser.VectorSelector):
            for matcher in _parts(node)[1]:
                check_matcher(matcher)
        elif isinstance(node, promql_parser.Call) and node.func.name == "label_replace" and len(node.args) == 5:
            # Prometheus compiles this regex only when the rule runs: promtool passes it,
            # and a bad one fails every evaluation.
            regex = node.args[4]
            problem = re2_problem(regex.val) if isinstance(regex, promql_parser.StringLiteral) else None
            if problem:
                raise ValueError(f"invalid regular expression in label_replace: {problem}")


# --- label values for synthetic test series -------------------------------------------


def satisfying_value(matcher: Matcher) -> str:
    """A label value that the matcher accepts ("" means: leave the label out)."""
    if matcher.op == "=":
        return matcher.value
    candidates = [""]
    if matcher.op == "=~":
        candidates.insert(0, _regex_example(matcher.value))
    candidates += ["x", "0", "slogen", "200"]
    for candidate in candidates:
        if matcher.matches(candidate):
            return candidate
    raise ValueError(f"cannot find a label value that satisfies {matcher.render()}")


def violating_value(matcher: Matcher) -> str | None:
    """A label value the matcher rejects, or None when every value passes."""
    candidates = ["", "x", "0", "200", "slogen", "other"]
    if matcher.op == "!~":
        candidates.insert(0, _regex_example(matcher.value))
    if matcher.op == "!=":
        candidates.insert(0, matcher.value)
    for candidate in candidates:
        if not matcher.matches(candidate):
            return candidate
    return None


@functools.lru_cache(maxsize=4096)
def _regex_example(pattern: str) -> str:
    """The shortest string the regex obviously matches, or "" when unsure."""
    try:
        return _walk(sre_parse.parse(pattern))
    except (ValueError, re.error, _Unsure):
        return ""


class _Unsure(Exception):
    pass


def _walk(items: sre_parse.SubPattern) -> str:
    out = []
    for op, arg in items:
        if op is sre_constants.LITERAL:
            out.append(chr(arg))
        elif op is sre_constants.ANY:
            out.append("0")
        elif op is sre_constants.IN:
            out.append(_first_in(arg))
        elif op is sre_constants.BRANCH:
            out.append(_walk(arg[1][0]))
        elif op is sre_constants.SUBPATTERN:
            out.append(_walk(arg[-1]))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            low, _high, sub = arg
            out.append(_walk(sub) * max(low, 1))
        elif op is sre_constants.AT:
            continue
        else:
            raise _Unsure(op)
    return "".join(out)


def _first_in(items: list[tuple[object, object]]) -> str:
    for op, arg in items:
        if op is sre_constants.LITERAL:
            return chr(arg)  # type: ignore[arg-type]
        if op is sre_constants.RANGE:
            return chr(arg[0])  # type: ignore[index]
        if op is sre_constants.CATEGORY and arg is sre_constants.CATEGORY_DIGIT:
            return "0"
        if op is sre_constants.CATEGORY and arg is sre_constants.CATEGORY_WORD:
            return "a"
    raise _Unsure("class")
