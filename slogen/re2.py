"""What a regex matcher may contain: the part of Go's RE2 syntax that Python reads the same.

Prometheus compiles `=~` and `!~` values with Go's regexp package (RE2 syntax); slogen
compiles them with Python's `re` to build test series. Python accepts much that Go
refuses (lookarounds, backreferences, possessive quantifiers, `(?x)`, `\\Z`, repeat
counts over 1000), so checking with `re.compile` alone let promtool be the first to
complain. This scanner refuses what Go refuses (its rules are in Go's regexp/syntax
package: repeat counts and their nested product at most 1000, flags i, m, s and U only)
and a few things Go takes but Python reads differently, so that the tests slogen writes
mean what Prometheus will run. Each refusal says what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_REPEAT = 1000  # Go: a repeat count, and the product of nested counts, at most 1000
MAX_DEPTH = 100  # Go refuses 1000 nested groups; Python's parser recurses far sooner

# Escapes Go accepts outside and inside a character class (letters and digits only:
# any escaped ASCII punctuation is a literal in both engines).
_ESCAPES = set("afnrtvxdDsSwW0")
_ESCAPES_OUTSIDE_CLASS = _ESCAPES | set("AbB")
_PYTHON_CANNOT = set("zpPQE")  # RE2 escapes Python does not read
_REPEAT = re.compile(r"\{([0-9]+)(,([0-9]*))?\}")
_GROUP_FLAGS = re.compile(r"\(\?([imsU]*(?:-[imsU]*)?)([:)])")


@dataclass
class _Frame:
    """One open group: the largest product of {n,m} counts nested inside it."""

    product: int = 1
    last_atom_product: int = 1


@dataclass
class _Scan:
    pattern: str
    i: int = 0
    stack: list[_Frame] = field(default_factory=lambda: [_Frame()])
    repeated: bool = False  # the last token was a repeat operator (x* x{2} ...)
    lazy: bool = False  # ...followed by `?`


def re2_problem(pattern: str) -> str | None:
    """Why Prometheus (or slogen's reading of the pattern) would not take it, or None."""
    scan = _Scan(pattern)
    try:
        while scan.i < len(pattern):
            _step(scan)
    except _Refused as refused:
        return str(refused)
    return None  # what is left to check (balance, ranges) re.compile reports with a position


class _Refused(Exception):
    pass


def _step(scan: _Scan) -> None:
    pattern, i = scan.pattern, scan.i
    char = pattern[i]
    if char in "*+?" or (char == "{" and _REPEAT.match(pattern, i)):
        _repeat(scan)
        return
    if char == "{" and pattern.startswith("{,", i):
        raise _Refused("{,n} is a literal in Prometheus' regex engine but a repeat in Python's: write {0,n}")
    scan.repeated = scan.lazy = False
    if char == "\\":
        _escape(scan, outside_class=True)
        scan.stack[-1].last_atom_product = 1
    elif char == "[":
        _char_class(scan)
        scan.stack[-1].last_atom_product = 1
    elif char == "(":
        _open_group(scan)
    elif char == ")":
        inner = scan.stack.pop() if len(scan.stack) > 1 else _Frame()
        scan.stack[-1].last_atom_product = inner.product
        scan.i += 1
    else:
        scan.stack[-1].last_atom_product = 1
        scan.i += 1


def _repeat(scan: _Scan) -> None:
    pattern, i = scan.pattern, scan.i
    if pattern[i] == "?" and scan.repeated and not scan.lazy:
        scan.lazy = True  # x*? x{2}? : the lazy form, which Go has too
        scan.i += 1
        return
    if scan.repeated:
        raise _Refused(
            f"a repeat of a repeat ({pattern[max(0, i - 3) : i + 1]!r}: Python's possessive x*+ or x++, or x**) "
            "is not supported by Prometheus' regex engine (RE2): use one operator, or a group such as (x*)+"
        )
    frame = scan.stack[-1]
    match = _REPEAT.match(pattern, i)
    if match:
        low = int(match.group(1))
        high = low if match.group(2) is None else (int(match.group(3)) if match.group(3) else None)
        count = max(low, high or 0)
        if count > MAX_REPEAT or count * frame.last_atom_product > MAX_REPEAT:
            raise _Refused(
                f"repeat count {match.group(0)} is too large for Prometheus' regex engine (RE2): a count, "
                f"or the product of nested counts, is at most {MAX_REPEAT}"
            )
        frame.last_atom_product *= max(count, 1)
        scan.i = match.end()
    else:
        scan.i += 1
    frame.product = max(frame.product, frame.last_atom_product)
    scan.repeated = True


def _escape(scan: _Scan, *, outside_class: bool) -> None:
    pattern, i = scan.pattern, scan.i
    if i + 1 >= len(pattern):
        scan.i += 1
        return
    char = pattern[i + 1]
    allowed = _ESCAPES_OUTSIDE_CLASS if outside_class else _ESCAPES
    if char.isdigit() and char != "0":
        raise _Refused(f"\\{char}: backreferences are not supported by Prometheus' regex engine (RE2)")
    if not char.isascii():
        raise _Refused(f"\\{char}: only ASCII punctuation and RE2's escapes may follow a backslash")
    if char in _PYTHON_CANNOT:
        raise _Refused(
            f"\\{char} is RE2 syntax that Python, which slogen uses to build test series, does not read: "
            "write it another way (Prometheus anchors every regex at both ends)"
        )
    if char.isalnum() and char not in allowed:
        hint = " (leave it out: Prometheus anchors every regex at both ends)" if char == "Z" else ""
        where = "" if outside_class else " inside [...]"
        raise _Refused(f"\\{char}{where} is not an escape Prometheus' regex engine (RE2) knows{hint}")
    scan.i += 2


def _char_class(scan: _Scan) -> None:
    pattern = scan.pattern
    scan.i += 1
    if scan.i < len(pattern) and pattern[scan.i] == "^":
        scan.i += 1
    if scan.i < len(pattern) and pattern[scan.i] == "]":
        scan.i += 1  # a leading ] is a literal
    while scan.i < len(pattern) and pattern[scan.i] != "]":
        if pattern.startswith("[:", scan.i):
            raise _Refused(
                "POSIX classes such as [[:alpha:]] are read differently by Python, which slogen uses to "
                "build test series: write the characters, such as [a-zA-Z]"
            )
        if pattern[scan.i] == "\\":
            _escape(scan, outside_class=False)
        else:
            scan.i += 1
    scan.i += 1


def _open_group(scan: _Scan) -> None:
    pattern, i = scan.pattern, scan.i
    if len(scan.stack) > MAX_DEPTH:
        raise _Refused(f"groups nest more than {MAX_DEPTH} deep")
    if pattern.startswith("(?", i):
        flags = _GROUP_FLAGS.match(pattern, i)
        if pattern.startswith("(?P<", i) or pattern.startswith("(?:", i):
            scan.i += 3
        elif flags:
            if flags.group(2) == ")":  # (?i): flags for the rest of the group, no new group
                scan.i = flags.end()
                return
            scan.i = flags.end()
        else:
            raise _Refused(_group_refusal(pattern[i : i + 4]))
    else:
        scan.i += 1
    scan.stack.append(_Frame())


def _group_refusal(start: str) -> str:
    what = {
        "(?=": "lookahead",
        "(?!": "negative lookahead",
        "(?<=": "lookbehind",
        "(?<!": "negative lookbehind",
        "(?>": "atomic groups",
        "(?#": "comments",
        "(?(": "conditionals",
        "(?P=": "named backreferences",
        "(?<": "named groups without P (write (?P<name>...))",
    }
    for prefix, name in what.items():
        if start.startswith(prefix):
            return f"{start}...: {name}: not supported by Prometheus' regex engine (RE2)"
    return f"{start}...: Prometheus' regex engine (RE2) only knows the flags i, m, s and U (as in (?i) or (?i:...))"
