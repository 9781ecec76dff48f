"""The output tree, one file at a time, service by service (issue 12: 10,000 SLOs in
under 300 MB). Holding the whole tree as bytes (420 MB at 10,000 SLOs) and every rule
file as data until the catalog was written took `generate` past 1 GB; here a service's
files are built, handed to the caller and dropped before the next service is built. Only
the alert rules, which the alert catalog reads once every service is done, are kept.

api.build_tree collects the same files into a dict: the bytes are the same either way.
On large specs a second, forked process builds every other service (twofold.py).
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from . import conventions as c
from . import model as m
from . import owned, twofold, write
from .builders import alertmanager as am
from .builders.catalog import catalog_parts
from .builders.dashboards import build_provisioning, overview_dashboard, service_dashboard
from .builders.rules import build_rule_files
from .builders.tests import build_test_files
from .dump import to_json, to_yaml
from .errors import Problem, SpecError
from .target_operator import OperatorFiles
from .targets import build_target_files


class Parts:
    """A file's bytes in parts, for the one file too large to hold whole: the catalog."""

    def __init__(self, parts: Iterable[str]) -> None:
        self.parts = parts

    def encoded(self) -> Iterator[bytes]:
        return (part.encode() for part in self.parts)


File = tuple[str, "bytes | Parts"]

# From how many SLOs a second process builds half the services. It costs about 10% more
# CPU (pickling the files across); at 1,000 SLOs building the services took 0.46 s instead
# of 0.81 s with both cores free, at 200 no gain could be measured on this shared machine.
TWOFOLD_FROM = 500


def whole(data: bytes | Parts) -> bytes:
    return data if isinstance(data, bytes) else b"".join(data.encoded())


def iter_tree(model: m.Model, templates: Path | None = None) -> Iterator[File]:
    """Every output file as (path under out/, bytes), in no particular order; the manifest
    last. Raises SpecError, after the last service, with every problem of every service."""
    tpl = str(templates) if templates else None
    alert_rules: dict[str, dict[str, Any]] = {}  # what the catalog reads: the alert rules alone
    problems: list[Problem] = []
    names: list[str] = []
    overview = bool(model.slos())
    operator = OperatorFiles(model) if model.settings.operator is not None else None
    if operator is None and len(model.slos()) >= TWOFOLD_FROM:
        built = twofold.ordered_map(functools.partial(_service_built, model, tpl, overview), model.services)
        for files, alerts, found in built:  # the same files, in the same order, as below
            alert_rules.update(alerts)
            problems += found
            for rel, content in files:
                names.append(rel)
                yield rel, content
    else:  # one process: the operator's files count what every service added
        for service in model.services:
            for rel, data in _service_files(model, service, tpl, alert_rules, problems, overview, operator):
                names.append(rel)
                yield rel, data
    if problems:
        raise SpecError(problems)
    for rel, data in _shared_files(model, templates, alert_rules, overview, operator):
        names.append(rel)
        yield rel, data
    yield c.MANIFEST, owned.manifest_bytes(names)


def _service_built(
    model: m.Model, tpl: str | None, overview: bool, service: m.Service
) -> tuple[list[tuple[str, bytes]], dict[str, dict[str, Any]], list[Problem]]:
    """One service's files, alert rules and problems, for twofold.ordered_map (which may
    build it in the other process and send it back)."""
    alert_rules: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    files = _service_files(model, service, tpl, alert_rules, problems, overview, None)
    return [(rel, whole(data)) for rel, data in files], alert_rules, problems


def _service_files(
    model: m.Model,
    service: m.Service,
    tpl: str | None,
    alert_rules: dict[str, dict[str, Any]],
    problems: list[Problem],
    overview: bool,
    operator: OperatorFiles | None,
) -> Iterator[File]:
    """One service's rules, target, test and dashboard files (and its manifests). The builders take a model:
    they are given one that holds this service alone (each builder loops over services
    and reads nothing of the others)."""
    alone = dataclasses.replace(model, services=(service,))
    rule_files = build_rule_files(alone, tpl)
    for rel, item in rule_files.items():
        yield rel, to_yaml({"groups": item["groups"]}, c.HEADER.format(source=item["source"]))
        alerts = [rule for group in item["groups"] for rule in group["rules"] if "alert" in rule]
        alert_rules[rel] = {"groups": [{"rules": alerts}]}
    for rel, item in build_target_files(alone, rule_files).items():
        yield rel, to_yaml(item["data"], c.HEADER.format(source=item["source"]))
    try:
        for rel, item in build_test_files(alone).items():
            yield rel, to_yaml(item["data"], c.HEADER.format(source=item["source"]))
    except SpecError as err:
        problems += err.problems  # reported with the other services' problems, at the end
    dashboard = to_json(service_dashboard(service, model.settings, overview))
    yield c.dashboard_file(service.name), dashboard
    if operator is not None:
        yield from operator.service(service, rule_files, dashboard)


def _shared_files(
    model: m.Model,
    templates: Path | None,
    alert_rules: dict[str, dict[str, Any]],
    overview: bool,
    operator: OperatorFiles | None,
) -> Iterator[File]:
    """The files that read every service: Alertmanager's, the overview, the catalog (and
    the manifests that do: the overview's ConfigMap, the Secret, the kustomization)."""
    board = to_json(overview_dashboard(model)) if overview else None
    if operator is not None:
        # First: a problem here (an object over 1 MiB) is raised before anything else is staged.
        yield from operator.shared(board, am.template_text(templates))
    if model.routing is not None:
        header = c.HEADER.format(source=model.routing.source.spec_path)
        yield c.ALERTMANAGER_CONFIG, to_yaml(am.build_alertmanager_config(model.routing, am.inhibit_by(model)), header)
        yield c.ALERTMANAGER_TEMPLATE, am.template_text(templates)
        yield c.ALERTMANAGER_ROUTE_TESTS, to_yaml(am.build_route_tests(model), header)
        yield c.ALERTMANAGER_TEMPLATE_DATA, to_json(am.build_notification_data(model))
    if board is not None:
        yield c.dashboard_file(c.OVERVIEW_NAME), board
    yield c.ALERT_CATALOG, Parts(catalog_parts(model, alert_rules))
    yield c.GRAFANA_PROVISIONING, to_yaml(build_provisioning(model.settings), c.HEADER.format(source="slogen"))


def generate_beside(model: m.Model, templates: Path | None, out: Path) -> tuple[Mapping[str, bytes], list[str]]:
    """`generate` when out/ can be renamed (write.folder_swappable): the files stream into
    a staging folder beside out/ as they are built; then out/ is inspected against them
    (owned.inspect, which may refuse: out/ is untouched), compared file by file, and swapped
    with the staging folder if anything changed. Returns the tree, read back from out/ on
    demand, and the files that changed. The staging folder is gone whichever way it ends."""
    target = out.resolve()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = write.fresh_dir(target.parent, f".{target.name}.new-")
    except OSError as err:
        raise write.write_failed(out, err) from err
    try:
        names = _stage(model, templates, target, staged, out)
        tree = write.StagedTree(staged, names)
        ownership = owned.inspect(out, tree)
        changed = _changed(out, ownership.owned, tree)
        if changed or not out.is_dir():
            try:
                if not write.swap_folder(staged, target):  # refused at the last moment: file by file
                    write.replace(tree, out, ownership.owned)
            except OSError as err:
                raise write.write_failed(out, err) from err
        return write.StagedTree(target, names), changed
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def _stage(model: m.Model, templates: Path | None, target: Path, staged: Path, out: Path) -> list[str]:
    """Write every file into the staging folder; the system refusing a write is WriteFailed
    (a spec problem or a missing template, raised while building, is not)."""
    try:
        if target.is_dir():
            write.take_identity(target, staged)
        staging = write.Staging(staged)
    except OSError as err:
        raise write.write_failed(out, err) from err
    with staging:
        for rel, data in iter_tree(model, templates):
            try:
                if isinstance(data, Parts):
                    staging.add_parts(rel, data.encoded())
                else:
                    staging.add(rel, data)
            except OSError as err:
                raise write.write_failed(out, err) from err
        try:
            staging.finish()
        except OSError as err:
            raise write.write_failed(out, err) from err
    return staging.names


def _changed(out: Path, owned_now: Iterable[str], tree: Mapping[str, bytes]) -> list[str]:
    """The files whose bytes differ between out/ and the tree, one pair in memory at a time."""
    current = {rel for rel in owned_now if (out / rel).is_file()}
    changed = []
    for rel in sorted(current | set(tree)):
        old = (out / rel).read_bytes() if rel in current else None
        if old != tree.get(rel):
            changed.append(rel)
    return changed
