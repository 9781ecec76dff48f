"""`slogen init`: a starter spec folder (a service file, alerting.yaml, slogen.yaml).

The files ship as they are in the package (templates/init/, installed as
slogen.templates.init) and are copied byte for byte: they are meant to be read and
edited, so what a user reads in the package is what lands in their slo/."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

PACKAGE = "slogen.templates.init"


class ScaffoldRefused(Exception):
    """init would overwrite files (or write into something that is not a folder)."""

    def __init__(self, problems: list[str], force_helps: bool) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.force_helps = force_helps


def starter_files() -> dict[str, bytes]:
    """The starter files by name, sorted: every YAML file of the packaged templates/init/."""
    root = files(PACKAGE)
    return {
        item.name: item.read_bytes()
        for item in sorted(root.iterdir(), key=lambda i: i.name)
        if item.name.endswith(".yaml")
    }


def scaffold(directory: Path, force: bool = False) -> list[Path]:
    """Write the starter files into `directory` (created if missing) and return their paths.

    All or nothing: if any of them exists and `force` is not set, nothing is written, so a
    team's existing spec is never half-replaced. Other files in the folder are left alone."""
    if directory.exists() and not directory.is_dir():
        raise ScaffoldRefused([f"{directory}: exists and is not a folder"], force_helps=False)
    starters = starter_files()
    targets = {directory / name: data for name, data in starters.items()}
    existing = [path for path in targets if path.exists()]
    if existing and not force:
        raise ScaffoldRefused([f"{path}: already exists" for path in existing], force_helps=True)
    directory.mkdir(parents=True, exist_ok=True)
    for path, data in targets.items():
        path.write_bytes(data)
    return list(targets)
