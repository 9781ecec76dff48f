"""Read foreign spec files: several YAML documents per file, folders, lines kept.

The same safety as slogen's own loader (size, nesting, aliases, duplicate keys, YAML 1.2
booleans, through load._convert), but a foreign format's strings are its own business:
Sloth's `{{.window}}` is a placeholder there, not a template to refuse. What an importer
writes into a slogen spec is checked again, as any spec is, before anything is written.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .. import load
from ..errors import Problem, SpecError
from ..usertext import MAX_DEPTH, MAX_FILE_BYTES

SUFFIXES = (".yaml", ".yml", ".json")


def input_files(paths: list[Path]) -> list[tuple[Path, str]]:
    """(path, name to show) of every file named, and every *.yaml/*.yml/*.json under a
    folder named, sorted; a path that does not exist is a problem."""
    out: list[tuple[Path, str]] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
            if not found:
                problems.append(Problem(str(path), 0, "", "no *.yaml, *.yml or *.json files in this folder"))
            out += [(p, str(p)) for p in found]
        elif path.is_file():
            out.append((path, str(path)))
        else:
            problems.append(Problem(str(path), 0, "", "no such file or folder"))
    if problems:
        raise SpecError(problems)
    return out


def read_documents(paths: list[Path]) -> list[load.Document]:
    """Every YAML document of every file, in order; empty documents are skipped. Problems
    of all files are collected before failing."""
    docs: list[load.Document] = []
    problems: list[Problem] = []
    for path, display in input_files(paths):
        try:
            docs += documents_of(_text(path, display), display)
        except SpecError as err:
            problems += err.problems
    if problems:
        raise SpecError(problems)
    return docs


def _text(path: Path, display: str) -> str:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SpecError([Problem(display, 1, "", f"the file is {size:,} bytes; at most {MAX_FILE_BYTES:,} are read")])
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(
            [Problem(display, line, "", f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}")]
        ) from None


def documents_of(text: str, file: str) -> list[load.Document]:
    """The documents of one YAML text (`---` separated), each with its own lines."""
    loader = load._Loader(text)
    docs: list[load.Document] = []
    problems: list[Problem] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            doc = load.Document(file, None)
            try:
                doc.data = load._convert(node, (), doc, loader, problems, set(), text_rules=False)
            except load._Alias as alias:
                message = f"aliases (*name) are not read: repeat the value (its anchor is at line {alias.anchor_line})"
                raise SpecError([doc.problem(alias.path, message)]) from None
            except load._TooDeep as deep:
                raise SpecError([doc.problem(deep.path, f"nested more than {MAX_DEPTH} levels deep")]) from None
            if doc.data is not None:
                docs.append(doc)
    except yaml.MarkedYAMLError as exc:
        raise SpecError([load.syntax_problem(exc, text, file)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(file, 1, "", f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if problems:
        raise SpecError(problems)
    return docs
