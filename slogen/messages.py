"""pydantic's validation errors -> Problems in plain sentences, at the YAML's own path.

pydantic words its errors for Python programmers (`Input should be a valid string`,
`String should match pattern '^[a-z0-9][a-z0-9_-]*$'`, `slos.x.[key]`) and shows values
as Python after coercion; a spec's author reads YAML. Every error type the spec models
can raise gets a sentence here, paths read like the YAML (`slos.availability.objective`,
`routes[1]`), values are shown as written (`true`, not `1`), and an unknown field names
the field it was probably meant to be.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import Problem, SpecError, shown
from .load import Document, Path_, dotted
from .quantity import fmt

SpecT = TypeVar("SpecT", bound=BaseModel)

# What a value of each type is, for "expected X, got Y".
_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "list_type": "a list",
}
# The patterns of spec.py, said in words.
_PATTERNS = {
    r"^[a-z0-9][a-z0-9_-]*$": "lowercase letters, digits, '_' and '-', starting with a letter or digit",
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$": "letters, digits, '_', '.' and '-', starting with a letter or digit",
}
_COMPARISONS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}
_KEY = "[key]"  # pydantic's loc for an error in a mapping's key rather than its value


def _convert(fmt: str) -> str:
    return (
        f"move it out of the spec folder and convert it with `slogen import {fmt} FILE` (the README's "
        '"Coming from Sloth, Pyrra or OpenSLO" maps the fields)'
    )


def foreign_format(data: Any) -> str | None:
    """A file in another tool's format, known by its shape: what it is and what to do."""
    if not isinstance(data, dict):
        return None
    api, kind = str(data.get("apiVersion", "")), str(data.get("kind", ""))
    if str(data.get("version", "")).startswith("prometheus/") and "slos" in data:
        return f"this is a Sloth spec (version: {data['version']}), not a slogen spec: {_convert('sloth')}"
    if api.startswith("sloth.slok.dev/"):
        return f"this is a Sloth spec (apiVersion: {api}, kind: {kind}), not a slogen spec: {_convert('sloth')}"
    if api.startswith("pyrra.dev/"):
        return f"this is a Pyrra spec (apiVersion: {api}, kind: {kind}), not a slogen spec: {_convert('pyrra')}"
    if api.lower().startswith("openslo"):
        return f"this is an OpenSLO spec (apiVersion: {api}, kind: {kind}), not a slogen spec: {_convert('openslo')}"
    if api and kind:
        return f"this is a Kubernetes manifest (apiVersion: {api}, kind: {kind}), not a slogen spec"
    if isinstance(data.get("groups"), list) and "version" not in data:
        return "this is a Prometheus rules file (groups:), not a slogen spec: slogen writes those into out/; keep it out of the spec folder"
    if "route" in data and "version" not in data:
        return "this is an Alertmanager config (route:), not a slogen spec: slogen writes it from alerting.yaml; keep it out of the spec folder"
    return None


def validate(doc: Document, model: type[SpecT]) -> SpecT:
    foreign = foreign_format(doc.data)
    if foreign:
        raise SpecError([Problem(doc.file, 1, "", foreign)])
    if not isinstance(doc.data, dict):
        raise SpecError(
            [
                doc.problem(
                    (),
                    "the file must be a mapping: a service (version, service, slos), the routing (version, receivers, routes) or the settings (version, grafana)",
                )
            ]
        )
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise SpecError(problems(doc, exc.errors(), model)) from None


def problems(doc: Document, errors: list[Any], root: type[BaseModel]) -> list[Problem]:
    """One Problem per wrong value: a union's members failing together are one mistake,
    and a required field that an unknown field was probably meant to be is not reported
    missing as well."""
    by_path: dict[tuple[Path_, bool], list[Any]] = {}
    for err in errors:
        loc = list(err["loc"])
        on_key = _KEY in loc
        path = _data_path(doc.data, loc[: loc.index(_KEY)] if on_key else loc)
        by_path.setdefault((path, on_key), []).append(err)
    meant: set[Path_] = set()
    out: list[tuple[Path_, Problem]] = []
    for (path, on_key), errs in by_path.items():
        if errs[0]["type"] == "extra_forbidden":
            problem, guess = _unknown_field(doc, path, root)
            if guess:
                meant.add((*path[:-1], guess))
            out.append(((), problem))
        elif on_key:
            out.append(((), _key_problem(doc, path, errs[0])))
        elif [e["type"] for e in errs] == ["missing"]:
            out.append((path, doc.problem(path, "missing required field")))
        else:
            given = shown(_at(doc.data, path, errs[0].get("input")))
            out.append(((), doc.problem(path, _message(path, errs, given))))
    return [problem for missing, problem in out if not missing or missing not in meant]


def _message(path: Path_, errs: list[Any], given: str) -> str:
    kinds = [e["type"] for e in errs]
    if given == "nothing" and all(k in _EXPECTED for k in kinds):
        return "no value: give one, or leave the key out"
    if all(k in _EXPECTED for k in kinds):
        expected = list(dict.fromkeys(_EXPECTED[k] for k in kinds))
        return f"expected {' or '.join(expected)}, got {given}"
    err = next(e for e in errs if e["type"] not in _EXPECTED)  # a union: the member that says most
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        return str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "string_pattern_mismatch":
        rule = _PATTERNS.get(ctx.get("pattern", ""), f"the pattern {ctx.get('pattern')}")
        return f"{given} is not a valid name: use {rule}"
    if kind == "string_too_long":
        length = len(str(err["input"]))
        return f"at most {ctx['max_length']} characters, got {length}" + (f" ({given})" if length <= 80 else "")
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else f"give at least {ctx['min_length']} items"
    if kind == "too_long":
        return f"give at most {ctx['max_length']} items"
    if kind == "literal_error":
        if path == ("version",):
            numeric = given.lstrip("-")[:1].isdigit()
            if numeric:
                return f"unsupported spec version {given}: this slogen reads version 1"
            return f"the spec version must be 1, got {given}"
        return f"must be one of {ctx['expected']}, got {given}"
    if kind in _COMPARISONS:
        key, words = _COMPARISONS[kind]
        return f"must be {words} {fmt(ctx[key])}, got {given}"
    return f"{err['msg']}, got {given}"


# Keys of other tools that slogen knows but cannot (yet) generate: why, and what to write.
_NATIVE_HISTOGRAM = (
    "native histogram SLIs (Pyrra's latencyNative) are not supported yet: slogen proves every alert with "
    "promtool unit tests, and promtool 2.42 cannot write native histogram samples in a test's input series; "
    "write the SLI with the histogram's classic buckets (latency: histogram, buckets, threshold) or as a raw "
    "SLI with a test: block"
)
_KNOWN_FOREIGN_FIELDS = {"latency_native": _NATIVE_HISTOGRAM, "latencyNative": _NATIVE_HISTOGRAM}


def _unknown_field(doc: Document, path: Path_, root: type[BaseModel]) -> tuple[Problem, str | None]:
    name = str(path[-1]) if path else ""
    if name in _KNOWN_FOREIGN_FIELDS and len(path) == 3 and path[0] == "slos":
        return doc.problem(path, _KNOWN_FOREIGN_FIELDS[name]), None
    allowed = _allowed_fields(root, path[:-1])
    guess = next(iter(difflib.get_close_matches(name, allowed, n=1)), None)
    hint = f"; did you mean {guess!r}?" if guess else ""
    listed = f" (allowed: {', '.join(allowed)})" if allowed else ""
    return doc.problem(path, f"unknown field{hint}{listed}"), guess


def _key_problem(doc: Document, path: Path_, err: Any) -> Problem:
    """A mapping key that is not a valid id: point at the key's own line."""
    key = path[-1] if path else ""
    line = doc.key_lines.get(path, doc.line_of(path))
    message = _message(path, [{**err, "input": key}], shown(key))
    return Problem(doc.file, line, dotted(path), message)


def _at(data: Any, path: Path_, default: Any) -> Any:
    """The value at path in the YAML as loaded (before pydantic coerced it)."""
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return default
    return node


def _data_path(data: Any, loc: list[str | int]) -> Path_:
    """pydantic's loc, less the union and validator tags that are not in the data."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        elif i == len(loc) - 1 and isinstance(part, str) and isinstance(node, dict):
            path.append(part)  # a missing or unknown key: name it
    return tuple(path)


def _allowed_fields(root: type[BaseModel], path: Path_) -> list[str]:
    model: Any = root
    for part in path:
        model = _field_type(model, part)
        if model is None:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return sorted(f.alias or name for name, f in model.model_fields.items())
    return []


def _field_type(model: Any, part: str | int) -> Any:
    if isinstance(model, type) and issubclass(model, BaseModel):
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        return _unwrap(field.annotation) if field else None
    origin = typing.get_origin(model)
    if origin is dict:
        return _unwrap(typing.get_args(model)[1])
    if origin is list:
        return _unwrap(typing.get_args(model)[0])
    return None


def _unwrap(annotation: Any) -> Any:
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [_unwrap(a) for a in typing.get_args(annotation) if a is not type(None)]
        # `absent: bool | {for: ...}`: the one mapping member is where fields are looked up
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        return args[0] if len(args) == 1 else models[0] if len(models) == 1 else annotation
    return annotation
