"""Markdown as GitHub renders it: escaped text, code spans and blocks, links, and the
anchors GitHub gives headings (for the alert catalog's table of contents).

Spec text (descriptions, label values, runbook URLs) reaches the catalog: every piece is
escaped here, so a `|`, `*`, `<` or backtick in it cannot break a table, start markup or
inject HTML.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# Backslash escapes the characters that start or end inline markup (a link's `]`, code,
# emphasis, strikethrough) or a table cell; `_` only at a word's edge (GitHub never reads
# an underscore inside a word as emphasis, so metric names stay readable). The catalog
# never starts a line with spec text, so block markup (`#`, `-`, `>`) cannot arise.
_MARKUP = re.compile(r"([\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
# A URL's characters left as they are (RFC 3986 reserved and unreserved, and `%` of an
# existing escape); anything else (space, `<`, `>`, `"`, backticks, braces, non-ASCII,
# parentheses, which would end a Markdown link) is percent-encoded.
_URL_SAFE = ":/?#@!$&'*+,;=%-._~"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def text(value: str) -> str:
    """Plain text on one line: markup characters escaped, HTML's `<` and `&` as entities."""
    one_line = " ".join(value.split())
    return _MARKUP.sub(r"\\\1", one_line.replace("&", "&amp;").replace("<", "&lt;"))


def code(value: str, in_table: bool = False) -> str:
    """An inline code span that holds any text: fenced with more backticks than it holds,
    padded when it starts or ends with a backtick. In a table a bare `|` would split the
    cell: there it is escaped (GitHub reads `\\|` as `|` inside a table's code spans)."""
    one_line = " ".join(value.split("\n"))
    if in_table:
        one_line = one_line.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", one_line)), default=0) if "`" in one_line else 0
    fence = "`" * (longest + 1)
    pad = " " if one_line.startswith("`") or one_line.endswith("`") or not one_line.strip() else ""
    return f"{fence}{pad}{one_line}{pad}{fence}"


def block(value: str, language: str = "") -> str:
    """A fenced code block that no line of its content can close."""
    longest = max((len(run) for run in re.findall(r"^\s*(`{3,})", value, re.M)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{language}\n{value}\n{fence}"


def url(target: str) -> str:
    """A link destination: characters that would end or break the link percent-encoded."""
    return quote(target, safe=_URL_SAFE)


def link(label: str, target: str) -> str:
    """`[label](target)`; the label is already Markdown (escaped text or a code span)."""
    return f"[{label}]({url(target)})"


def is_absolute(target: str) -> bool:
    """A URL with a scheme (https:, mailto:) or a path from a host's root (/wiki/...)."""
    return bool(_SCHEME.match(target)) or target.startswith("/")


def slug(heading: str) -> str:
    """The anchor GitHub derives from a heading's text (github-slugger): lowercased,
    every character but letters, digits, `-`, `_` and spaces dropped, spaces as `-`."""
    kept = "".join(ch for ch in heading.lower() if ch.isalnum() or ch in "-_ ")
    return kept.replace(" ", "-")


class Anchors:
    """Anchors of the headings of one document, assigned in document order as GitHub
    does: a repeated slug gets `-1`, `-2`, ... (skipping any already taken)."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def add(self, heading: str) -> str:
        base = slug(heading)
        result = base
        while result in self._seen:
            self._seen[base] += 1
            result = f"{base}-{self._seen[base]}"
        self._seen[result] = 0
        return result
