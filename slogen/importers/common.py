"""What every importer gives back: slogen service specs as data, where each SLO came from,
and what was approximated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..load import Document, Path_


@dataclass(frozen=True)
class Origin:
    """Where something came from in the source files (for comments and messages)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    @staticmethod
    def of(doc: Document, path: Path_ = ()) -> Origin:
        return Origin(doc.file, doc.key_line(path) if path else doc.line_of(path))


@dataclass
class ServiceSpec:
    """One slogen service file to write: `data` in the order it is written (version,
    service, owner, description, labels, alerting, slos, alerts), and the origin of each
    SLO, written as a comment above it."""

    name: str
    data: dict[str, Any]
    origins: dict[str, Origin] = field(default_factory=dict)  # SLO id -> where it came from


@dataclass
class Imported:
    """What an importer made of the files: the service specs, extra files to write beside
    them (a routing stub: file name -> text), and warnings (approximations, each with its
    origin). Refusals are raised as SpecError, file:line: field: why."""

    services: dict[str, ServiceSpec] = field(default_factory=dict)
    extra_files: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def service(self, name: str) -> ServiceSpec:
        if name not in self.services:
            self.services[name] = ServiceSpec(name, {"version": 1, "service": name})
        return self.services[name]


@dataclass(frozen=True)
class ImportOptions:
    period: str = "30d"  # the window of SLOs whose format has none (Sloth's default)
    source_format: str = ""  # openslo | sloth | pyrra, for the files' header comment
