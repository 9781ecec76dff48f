"""Render imported specs as slogen YAML (a comment naming the source of each SLO), check
them as `generate` would, and write them all or nothing.

Checking before writing: what an importer produced is a slogen spec like any other, so
every rule of the spec applies (selectors, `{{`, limits). A problem is reported at the
source SLO's file and line, with slogen's message, and nothing is written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem, SpecError
from ..load import load_text
from .common import Imported, ServiceSpec

HEADER = "# imported by `slogen import {fmt}` from {sources}: review, then commit\n"


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000, default_flow_style=False)


def render(spec: ServiceSpec, source_format: str) -> str:
    """The service file's text: top-level fields, then each SLO under a comment naming
    where it came from, then the rest (alerts)."""
    sources = sorted({o.file for o in spec.origins.values()}) or ["(none)"]
    out = [HEADER.format(fmt=source_format, sources=", ".join(sources))]
    for key, value in spec.data.items():
        if key != "slos":
            out.append(_dump({key: value}))
            continue
        out.append("slos:\n")
        for slo_id, body in value.items():
            origin = spec.origins.get(slo_id)
            if origin is not None:
                out.append(f"  # from {origin}\n")
            out.append(_indent(_dump({slo_id: body}), "  "))
    return "".join(out)


def _indent(text: str, prefix: str) -> str:
    return "".join(prefix + line if line.strip() else line for line in text.splitlines(keepends=True))


def file_name(service: str) -> str:
    return f"{service}.yaml"


def rendered(imported: Imported, source_format: str) -> dict[str, str]:
    """{file name: text} of everything to write, checked as slogen specs."""
    files = {file_name(name): render(spec, source_format) for name, spec in sorted(imported.services.items())}
    files.update(imported.extra_files)
    check(imported, files)
    return files


def check(imported: Imported, files: dict[str, str]) -> None:
    """Resolve the written specs together, as `generate` would, mapping each problem to
    the source of the SLO it is about."""
    from ..resolve import resolve

    problems: list[Problem] = []
    docs = []
    for name, text in files.items():
        if not name.endswith(".yaml"):
            continue
        try:
            doc = load_text(text, name)
            doc.spec_path = f"slo/{name}"
            docs.append(doc)
        except SpecError as err:
            problems += [_mapped(imported, p) for p in err.problems]
    if not problems:
        try:
            resolve(docs)
        except SpecError as err:
            problems += [_mapped(imported, p) for p in err.problems]
    if problems:
        raise SpecError(problems)


def _mapped(imported: Imported, problem: Problem) -> Problem:
    """A problem in a written file, told at the source of the SLO it names (the written
    field path kept, so that what slogen refuses is clear)."""
    service = imported.services.get(problem.file.removesuffix(".yaml"))
    parts = problem.path.split(".")
    if service is not None and len(parts) >= 2 and parts[0] == "slos" and parts[1] in service.origins:
        origin = service.origins[parts[1]]
        return Problem(origin.file, origin.line, problem.path, f"slogen cannot take this as it is: {problem.message}")
    return problem


def write(files: dict[str, str], out_dir: Path, force: bool) -> list[Path]:
    """Write every file into out_dir, or none: an existing file is refused without
    `force` (the whole import then writes nothing)."""
    targets = [out_dir / name for name in files]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise SpecError(
            [Problem(str(t), 0, "", "exists: slogen import does not overwrite a spec (use --force)") for t in existing]
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    staged = []
    try:
        for target, text in zip(targets, files.values(), strict=True):
            tmp = target.with_name(f".{target.name}.slogen-import")
            tmp.write_text(text, encoding="utf-8")
            staged.append((tmp, target))
        for tmp, target in staged:
            os.replace(tmp, target)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return targets
