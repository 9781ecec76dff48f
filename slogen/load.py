"""Read `slo/*.yaml` safely, keeping the line of every node for error messages.

Refused on purpose: files over 1 MB and nesting over 20 levels (bounded before any
recursion can run out of stack), strings that `usertext` refuses (checked here, once, for
every field), aliases (a 340-byte alias bomb expands to tens of MB; the composer
shares one node for an anchor and its aliases, so a node met twice is an alias),
duplicate keys (PyYAML would keep the last silently) and YAML 1.1 booleans such as
`no`/`on` (read here as strings: `country: no` stays "no").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, SpecError
from .usertext import MAX_DEPTH, MAX_FILE_BYTES, text_problem

Path_ = tuple[str | int, ...]


# libyaml's composer when PyYAML has it (10x faster on large specs), else PyYAML's own.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """Safe loading with YAML 1.2 booleans; aliases are refused while converting."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
for _first in "tTfF":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).insert(0, ("tag:yaml.org,2002:bool", _BOOL))


@dataclass
class Document:
    """One spec file: its data as plain Python and the line of every node."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)  # a key's value: where the value starts
    key_lines: dict[Path_, int] = field(default_factory=dict)  # a mapping key: the key's own line
    spec_path: str = ""  # the same on every machine: <spec folder name>/<relative path>

    def line_of(self, path: Path_) -> int:
        """The line of the deepest node on `path` that exists (1-based)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1

    def key_line(self, path: Path_) -> int:
        """The line of a mapping key (`availability:`), where what it names starts."""
        return self.key_lines.get(tuple(path)) or self.line_of(path)

    def problem(self, path: Path_, message: str) -> Problem:
        return Problem(self.file, self.line_of(path), dotted(path), message)


def dotted(path: Path_) -> str:
    """`slos.availability.objective`, `routes[1]`; a key that is not a plain name is
    quoted, with what would not print escaped, so a message stays on one line."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = part if _PLAIN_KEY.fullmatch(part) else _quoted(part)
            out += f".{key}" if out else key
    return out


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


def _quoted(text: str) -> str:
    escaped = (
        "\\" + ch if ch in '"\\' else ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )
    return '"' + "".join(escaped) + '"'


def load_text(text: str, file: str) -> Document:
    """Parse one YAML text into a Document, or raise SpecError."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        problem = syntax_problem(exc, text, file)
        if "another document" in (exc.problem or ""):
            problem = _foreign_documents(text, file) or problem
        raise SpecError([problem]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(file, 1, "", f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    doc = Document(file, None)
    if node is None:
        raise SpecError([Problem(file, 1, "", "the file is empty")])
    problems: list[Problem] = []
    try:
        doc.data = _convert(node, (), doc, loader, problems, set())
    except _Alias as alias:
        # Stop at the first: expanding an alias bomb is what must not happen.
        message = f"aliases (*name) are not allowed in slogen specs: repeat the value (its anchor is at line {alias.anchor_line})"
        raise SpecError([doc.problem(alias.path, message)]) from None
    except _TooDeep as deep:
        message = f"nested more than {MAX_DEPTH} levels deep; no slogen spec needs that many"
        raise SpecError([doc.problem(deep.path, message)]) from None
    if problems:
        from .messages import foreign_format

        foreign = foreign_format(doc.data)  # a Sloth query's {{.window}}: name the format, once
        raise SpecError([Problem(file, 1, "", foreign)] if foreign else problems)
    return doc


def syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    """A YAML syntax error as one plain sentence, at the line and column that explain it
    (for an unclosed bracket or quote, where it was opened)."""
    problem, context = exc.problem or "", exc.context or ""
    at, opened = exc.problem_mark or exc.context_mark, exc.context_mark or exc.problem_mark
    assert at is not None and opened is not None  # a MarkedYAMLError has at least one mark
    message = f"invalid YAML: {problem or context}" + (f" ({context})" if problem and context else "")
    where = at
    if "cannot start any token" in problem:
        char = text[at.index] if at.index < len(text) else ""
        message = (
            "a tab: YAML indents with spaces, never tabs"
            if char == "\t"
            else f"{char!r} cannot start a value: put the value in quotes"
        )
    elif "another document" in problem:
        message = "a second YAML document (after ---): a spec file holds one document; give it a file of its own"
    elif "flow mapping" in context or "flow sequence" in context:
        close = "}" if "mapping" in context else "]"
        message = f"this {text[opened.index]} is never closed: a {close} (or a comma between items) is missing"
        where = opened
    elif "quoted scalar" in context:
        message = "this quoted string is never closed: add the closing quote"
        where = opened
    elif "mapping values are not allowed" in problem:
        message = _colon_in_value(text, at.line)
    elif "could not find expected ':'" in problem:
        message = "this line is not `key: value` (a missing colon, or a value that runs over several lines unquoted)"
        where = opened
    elif "expected key" in problem:
        message = (
            f"wrong indentation: this line does not line up with the keys of the mapping at line {opened.line + 1}"
        )
    elif "'-' indicator" in problem:
        message = f"wrong indentation, or a missing '- ': the list at line {opened.line + 1} holds only '- ' items"
    elif "undefined alias" in problem:
        message = "aliases (*name) are not allowed in slogen specs: repeat the value"
    return Problem(file, where.line + 1, "", message, where.column + 1)


def _foreign_documents(text: str, file: str) -> Problem | None:
    """OpenSLO and Kubernetes files often hold several documents: name the format
    rather than the second document."""
    from .messages import foreign_format

    try:
        first = next(iter(yaml.load_all(text, Loader=_Loader)), None)
    except yaml.YAMLError:
        return None
    foreign = foreign_format(first)
    return Problem(file, 1, "", foreign) if foreign else None


def _colon_in_value(text: str, line: int) -> str:
    """`key: a: b`, or a line indented deeper than the key above it (which YAML reads as
    the rest of that key's value, so its own `key:` comes out of nowhere)."""
    lines = text.splitlines()
    above = next((lines[i] for i in range(line - 1, -1, -1) if lines[i].strip()), "")
    this = lines[line] if line < len(lines) else ""

    def indent(s: str) -> int:
        return len(s) - len(s.lstrip(" "))

    if indent(this) > indent(above) and not above.rstrip().endswith(":"):
        return "this line is indented deeper than the line above, so YAML reads it as the rest of that value: line it up with its neighbours"
    return "a second ': ' on this line: quote a value that contains ': ', or put a nested mapping on its own lines"


class _TooDeep(Exception):
    def __init__(self, path: Path_) -> None:
        self.path = path


class _Alias(Exception):
    def __init__(self, path: Path_, anchor_line: int) -> None:
        self.path = path
        self.anchor_line = anchor_line


def _convert(
    node: yaml.Node,
    path: Path_,
    doc: Document,
    loader: _Loader,
    problems: list[Problem],
    seen: set[int],
    text_rules: bool = True,
) -> Any:
    """Plain Python from a node, lines recorded; `text_rules=False` keeps strings as written
    (a foreign format's file read by `slogen import`, whose output is checked again)."""
    if id(node) in seen:
        raise _Alias(path, node.start_mark.line + 1)
    if len(path) > MAX_DEPTH:
        raise _TooDeep(path)
    doc.lines[path] = node.start_mark.line + 1
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    Problem(doc.file, key_node.start_mark.line + 1, dotted(path), "keys must be plain strings")
                )
                continue
            key = str(key_node.value)
            if key == "<<":
                problems.append(
                    Problem(doc.file, key_node.start_mark.line + 1, dotted(path), "merge keys (<<) are not allowed")
                )
                continue
            if key in out:
                first = doc.key_lines[(*path, key)]
                message = f"duplicate key: {key!r} is already set at line {first} (YAML would keep only the last)"
                problems.append(Problem(doc.file, key_node.start_mark.line + 1, dotted((*path, key)), message))
                continue
            doc.lines[(*path, key)] = doc.key_lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _convert(value_node, (*path, key), doc, loader, problems, seen, text_rules)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, (*path, i), doc, loader, problems, seen, text_rules) for i, item in enumerate(node.value)
        ]
    try:
        value = loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        reason = exc.problem if isinstance(exc, yaml.MarkedYAMLError) and exc.problem else str(exc)
        if node.tag.startswith("!"):
            reason = f"YAML tags ({node.tag}) are not allowed in slogen specs: remove it"
        problems.append(Problem(doc.file, node.start_mark.line + 1, dotted(path), f"invalid value: {reason}"))
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return str(node.value)  # `.nan`, `.inf`: keep them as written, for the message that refuses them
    if isinstance(value, str) and text_rules:
        problem = text_problem(value)
        if problem:
            problems.append(Problem(doc.file, node.start_mark.line + 1, dotted(path), problem))
    return value


def read_file(path: Path, display: str) -> Document:
    """Read bytes, insist on UTF-8 (pointing at the first bad line), then parse."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        message = f"the file is {size:,} bytes; a spec file may be at most {MAX_FILE_BYTES:,} bytes (split a service over several files)"
        raise SpecError([Problem(display, 1, "", message)])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(
            [Problem(display, line, "", f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}")]
        ) from None
    return load_text(text.removeprefix("\ufeff"), display)


def spec_files(spec_dir: Path) -> list[Path]:
    """Every *.yaml / *.yml under the spec folder, sorted so that output order is stable."""
    if not spec_dir.is_dir():
        what = "is a file: --spec takes the folder of spec files" if spec_dir.is_file() else "spec folder not found"
        raise SpecError([Problem(str(spec_dir), 0, "", what)])
    files = sorted(p for p in spec_dir.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise SpecError([Problem(str(spec_dir), 0, "", "no *.yaml spec files in this folder")])
    return files


def load_dir(spec_dir: Path, root: Path | None = None) -> list[Document]:
    """Load every spec file, collecting the problems of all of them before failing."""
    docs: list[Document] = []
    problems: list[Problem] = []
    for path in spec_files(spec_dir):
        display = _display(path, root)
        try:
            doc = read_file(path, display)
            doc.spec_path = f"{spec_dir.name}/{path.relative_to(spec_dir).as_posix()}"
            docs.append(doc)
        except SpecError as err:
            problems.extend(err.problems)
    if problems:
        raise SpecError(problems)
    return docs


def _display(path: Path, root: Path | None) -> str:
    base = root or Path.cwd()
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)
