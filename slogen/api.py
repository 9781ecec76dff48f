"""The library's front door: everything the CLI does, as functions. No printing, no exit."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from . import conventions as c
from . import model as m
from . import owned, stream
from .check import Stage, check_alertmanager, check_dashboards, check_tree  # noqa: F401 - re-exported
from .errors import Problem, SpecError
from .load import load_dir
from .resolve import resolve
from .target_operator import operator_sources
from .targets import target_file
from .write import Tree, diff_trees, folder_swappable, replace, write_failed, write_tree


@dataclass
class Options:
    spec_dir: Path = Path("slo")
    out_dir: Path = Path("out")
    templates: Path | None = Path("templates")


@dataclass
class Outcome:
    """What a command did: files written or differing, warnings, and a diff for --check."""

    model: m.Model
    tree: Mapping[str, bytes]  # after a write, read back from out/ on demand
    changed: list[str] = field(default_factory=list)
    diff: str = ""

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.model.warnings


def load_model(options: Options) -> m.Model:
    """Load and resolve every spec; raises SpecError with every problem found, and
    PermissionError for a spec folder we may not list (a glob would just see it empty)."""
    spec = options.spec_dir
    if spec.is_dir() and not os.access(spec, os.R_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "Permission denied: cannot list the spec folder", str(spec))
    return resolve(load_dir(spec))


def build_tree(model: m.Model, templates: Path | None = None) -> Tree:
    """Every output file as bytes, keyed by its path under out/."""
    return {rel: stream.whole(data) for rel, data in sorted(stream.iter_tree(model, templates), key=lambda f: f[0])}


def generate(options: Options, check_only: bool = False) -> Outcome:
    """Build out/ from the specs. With check_only, write nothing and report the diff.

    Raises OutputRefused when out/ overlaps the specs or holds a file slogen did not
    write (then nothing is written), WriteFailed when the system refuses the write."""
    out = options.out_dir
    owned.check_paths(options.spec_dir, out)
    model = load_model(options)
    if not check_only and folder_swappable(out.resolve()):  # the usual case: out/ can be renamed
        streamed, changed = stream.generate_beside(model, options.templates, out)
        return Outcome(model, streamed, changed)
    tree = build_tree(model, options.templates)  # --check, or out/ is a mount point or the cwd
    ownership = owned.inspect(out, tree)
    current = owned.read_owned(out, ownership)
    changed = sorted(rel for rel in set(current) | set(tree) if current.get(rel) != tree.get(rel))
    outcome = Outcome(model, tree, changed)
    if check_only:
        outcome.diff = diff_trees(current, tree, str(out))
        return outcome
    if changed or not out.is_dir():
        try:
            replace(tree, out, ownership.owned)
        except OSError as err:
            raise write_failed(out, err) from err
    return outcome


@dataclass
class Validation:
    """Every check stage, passed or failed, and the spec's warnings."""

    stages: list[Stage]
    warnings: tuple[str, ...]

    @property
    def failed(self) -> list[Stage]:
        return [stage for stage in self.stages if not stage.ok]


def validate(options: Options) -> Validation:
    """Specs, then the generated output checked by the real tools (in a scratch folder):
    every stage, each with its failures located in the spec."""
    model = load_model(options)
    tree = build_tree(model, options.templates)
    with tempfile.TemporaryDirectory(prefix="slogen-validate-") as scratch:
        root = write_tree(tree, Path(scratch) / "out")
        return Validation(check_tree(root, sources(model)), model.warnings)


def sources(model: m.Model) -> dict[str, str]:
    """Each generated file that comes from one place in the spec -> `file:line: what`."""
    out: dict[str, str] = {}
    for service in model.services:
        items: list[m.SLO | m.ThresholdAlert] = [*service.slos, *service.alerts]
        for item in items:
            where = f"{item.source.file}:{item.source.line}: {service.name}/{item.id}"
            out[c.rules_file(service.name, item.id)] = where
            out[c.tests_file(service.name, item.id)] = where
        out[c.dashboard_file(service.name)] = f"{service.source.file}:{service.source.line}: {service.name}"
        for target in model.settings.targets:
            if target not in ("prometheus", "prometheus-operator"):
                out[target_file(target, service.name)] = f"{service.source.file}:{service.source.line}: {service.name}"
    if model.routing is not None:
        where = f"{model.routing.source.file}:{model.routing.source.line}: the routing"
        for rel in (c.ALERTMANAGER_CONFIG, c.ALERTMANAGER_TEMPLATE, c.ALERTMANAGER_ROUTE_TESTS):
            out[rel] = where
    if model.settings.operator is not None:
        out.update(operator_sources(model))
    return out


def init(directory: Path, force: bool = False) -> list[Path]:
    """Write the starter spec (a service file, alerting.yaml, slogen.yaml) into directory;
    raises scaffold.ScaffoldRefused rather than overwrite, unless force."""
    from .scaffold import scaffold

    return scaffold(directory, force)


IMPORT_FORMATS = ("openslo", "sloth", "pyrra")


@dataclass
class ImportResult:
    written: list[Path]
    warnings: list[str]


def import_specs(source_format: str, files: list[Path], out_dir: Path, force: bool, period: str) -> ImportResult:
    """Read other tools' specs and write slogen service files (all or none)."""
    import importlib

    from .importers import common, read, write
    from .quantity import parse_duration

    try:
        parse_duration(period)
    except ValueError as exc:
        raise SpecError([Problem("--period", 0, "", str(exc))]) from None
    converter = importlib.import_module(f".importers.{source_format}", __package__)
    docs = read.read_documents(files)
    imported: common.Imported = converter.convert(docs, common.ImportOptions(period, source_format))
    texts = write.rendered(imported, source_format)
    return ImportResult(write.write(texts, out_dir, force), imported.warnings)


EXPORT_FORMATS = ("openslo",)


@dataclass
class ExportResult:
    written: list[Path]
    left_out: list[str]


def export_specs(source_format: str, spec_dir: Path, out_dir: Path) -> ExportResult:
    """Write the specs of spec_dir in another format (OpenSLO v1), and list what it
    cannot hold. The specs are resolved first: only a valid spec is exported."""
    from .importers import openslo_export
    from .load import load_dir
    from .resolve import resolve

    out, spec = out_dir.resolve(), spec_dir.resolve()
    if out == spec or spec in out.parents:
        # its files would land among the specs, and the next `generate` read them as specs
        raise SpecError(
            [Problem(str(out_dir), 0, "", f"is inside the spec folder {spec_dir}: export elsewhere (--out openslo)")]
        )
    docs = load_dir(spec_dir)
    exported = openslo_export.export(docs, resolve(docs))
    return ExportResult(openslo_export.write(exported, out_dir), exported.left_out)


SCHEMA_KINDS = ("service", "routing", "settings")


def schema(kind: str = "service") -> dict[str, Any]:
    """The JSON Schema of one kind of spec file, from the pydantic models."""
    from pydantic import BaseModel

    from .spec import RoutingFile, ServiceFile, SettingsFile

    models: dict[str, type[BaseModel]] = {"service": ServiceFile, "routing": RoutingFile, "settings": SettingsFile}
    out: dict[str, Any] = models[kind].model_json_schema(by_alias=True)
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["title"] = f"slogen {kind} spec (version 1)"
    return out


@dataclass
class DigestRequest:
    prometheus_url: str
    at: float
    hours: int = 24
    sender: str | None = None
    recipient: str | None = None


def digest_message(options: Options, request: DigestRequest) -> EmailMessage:
    """The daily summary email: ALERTS history from Prometheus, links and addresses
    from the spec (the routing file's summary receiver and smtp sender) when present."""
    from . import digest

    model = load_model(options) if options.spec_dir.is_dir() else None
    sender, recipient = request.sender, request.recipient
    routing = model.routing if model else None
    if routing is not None:
        if recipient is None and routing.summary is not None:
            receiver = routing.receiver(routing.summary[0])
            recipient = receiver.config.to if receiver.kind == "email" else None
        if sender is None and routing.smtp is not None:
            sender = routing.smtp.from_
    if not sender or not recipient:
        raise DigestError(
            "say who sends and who receives: --from and --to (or an email summary receiver and smtp.from in slo/alerting.yaml)"
        )
    collected = digest.collect(request.prometheus_url, request.at, request.hours, model)
    return digest.build_email(collected, sender, recipient, str(options.templates) if options.templates else None)


class DigestError(Exception):
    """The digest could not be built or sent (not a spec error)."""
