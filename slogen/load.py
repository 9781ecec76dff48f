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
    lines: dict[Path_, int] = field(default_factory=dict)
    spec_path: str = ""  # the same on every machine: <spec folder name>/<relative path>

    def line_of(self, path: Path_) -> int:
        """The line of the deepest node on `path` that exists (1-based)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1

    def problem(self, path: Path_, message: str) -> Problem:
        return Problem(self.file, self.line_of(path), dotted(path), message)


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_text(text: str, file: str) -> Document:
    """Parse one YAML text into a Document, or raise SpecError."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        reason = exc.problem or exc.context or "invalid YAML"
        raise SpecError([Problem(file, line, "", f"invalid YAML: {reason}")]) from None
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
        raise SpecError(problems)
    return doc


class _TooDeep(Exception):
    def __init__(self, path: Path_) -> None:
        self.path = path


class _Alias(Exception):
    def __init__(self, path: Path_, anchor_line: int) -> None:
        self.path = path
        self.anchor_line = anchor_line


def _convert(
    node: yaml.Node, path: Path_, doc: Document, loader: _Loader, problems: list[Problem], seen: set[int]
) -> Any:
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
                problems.append(Problem(doc.file, key_node.start_mark.line + 1, dotted((*path, key)), "duplicate key"))
                continue
            doc.lines[(*path, key)] = key_node.start_mark.line + 1  # the value's own line replaces it
            out[key] = _convert(value_node, (*path, key), doc, loader, problems, seen)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), doc, loader, problems, seen) for i, item in enumerate(node.value)]
    try:
        value = loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        problems.append(Problem(doc.file, node.start_mark.line + 1, dotted(path), f"invalid value: {exc}"))
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return str(node.value)  # `.nan`, `.inf`: keep them as written, for the message that refuses them
    if isinstance(value, str):
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
        raise SpecError([Problem(str(spec_dir), 0, "", "spec folder not found")])
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
