"""Data -> bytes, the same on every machine: fixed key order, block style for PromQL.

The YAML emitter is our own and small: the data is only dicts, lists, strings, numbers,
booleans and None. PyYAML's representer took a quarter of `slogen generate` on large
specs; every file emitted here is checked to load back equal with PyYAML in the tests.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import orjson
import yaml

# A string goes unquoted only if YAML 1.1's own resolver (the stricter of 1.1 and 1.2:
# `no`, `18:00`) reads it back as that string, and nothing in it starts YAML syntax.
_RESOLVER = yaml.resolver.Resolver()
_STR = "tag:yaml.org,2002:str"
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
# Characters YAML reads as line breaks or refuses raw, which JSON leaves unescaped.
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff]")
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")  # a literal block holds printable text only


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return repr(value)
    return _string(str(value))


@functools.lru_cache(maxsize=1 << 16)
def _string(text: str) -> str:
    """Keys, label names and values repeat thousands of times: decide each once."""
    if _plain(text):
        return text
    if text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    quoted = json.dumps(text, ensure_ascii=False)  # JSON's escapes are YAML double-quoted escapes
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _plain(text: str) -> bool:
    if not text or text[0] in _INDICATORS or text[0] == " " or text[-1] in " :":
        return False
    if ": " in text or " #" in text or not (text.isascii() and text.isprintable()):
        return False
    return bool(_RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR)  # type: ignore[no-untyped-call]


def _block(text: str, indent: str) -> str | None:
    """A multi-line string as a literal block, when YAML can keep it exactly."""
    lines = text.split("\n")
    if not lines[-1]:
        return None  # a trailing newline: keep it simple and quote
    if any(line != line.rstrip() or "\t" in line or "\r" in line for line in lines):
        return None
    if next(line for line in lines if line).startswith(" "):  # YAML takes the indent from it
        return None
    if _UNSAFE.search(text) or _CONTROL.search(text):
        return None
    return "|-\n" + "\n".join(f"{indent}{line}" if line else "" for line in lines)


def _emit(value: Any, indent: str, out: list[str]) -> None:
    """Append `value` as block YAML; the caller has written the key or dash before it."""
    if isinstance(value, dict):
        if not value:
            out.append(" {}\n")
            return
        out.append("\n")
        for key, item in value.items():
            out.append(f"{indent}{_key(key)}:")
            _value(item, indent, out)
    elif isinstance(value, list):
        if not value:
            out.append(" []\n")
            return
        out.append("\n")
        _items(value, indent, out)
    else:
        raise TypeError(value)


def _items(values: list[Any], indent: str, out: list[str]) -> None:
    for item in values:
        if isinstance(item, dict) and item:
            first = True
            for key, sub in item.items():
                out.append(f"{indent}- {_key(key)}:" if first else f"{indent}  {_key(key)}:")
                _value(sub, indent + "  ", out)
                first = False
        elif isinstance(item, list) and item:
            out.append(f"{indent}-")
            _emit(item, indent + "  ", out)
        else:
            out.append(f"{indent}-")
            _value(item, indent, out)


def _key(key: Any) -> str:
    return _string(key) if type(key) is str else _scalar(key)


def _value(item: Any, indent: str, out: list[str]) -> None:
    """A mapping value or list item after its `key:` or `-`."""
    if type(item) is str and "\n" not in item:  # most values: a one-line string
        out.append(f" {_string(item)}\n")
        return
    if isinstance(item, dict | list):
        if item and isinstance(item, list):
            out.append("\n")
            _items(item, indent, out)
        else:
            _emit(item, indent + "  ", out)
        return
    if isinstance(item, str) and "\n" in item:
        block = _block(item, indent + "  ")
        if block is not None:
            out.append(f" {block}\n")
            return
    out.append(f" {_scalar(item)}\n")


def to_yaml(data: dict[str, Any] | list[Any], header: str = "") -> bytes:
    out: list[str] = [header]
    if isinstance(data, dict):
        for key, item in data.items():
            out.append(f"{_scalar(key)}:")
            _value(item, "", out)
    else:
        _items(data, "", out)
    return "".join(out).encode("utf-8")


def to_json(data: Any) -> bytes:
    """Two-space indented JSON, key order kept: the bytes json.dumps(indent=2) would write,
    60 times faster (the stdlib's encoder is pure Python once indent is set)."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
