"""compatibility: in slo/slogen.yaml: what other tools' users keep reading while a team
moves to slogen. `sloth_labels: true` puts Sloth's labels on every SLO's series and
alerts (its dashboards select by them) and records its info series (builders/rules.py)."""

from __future__ import annotations

from . import conventions as c
from . import spec as s
from .errors import Problem
from .load import Document, Path_

Labels = tuple[tuple[str, str], ...]
SLOTH_LABELS = (c.SLOTH_ID, c.SLOTH_SERVICE, c.SLOTH_SLO)
WHY = "set by slogen on every SLO while compatibility.sloth_labels is on (slo/slogen.yaml)"


def with_sloth_labels(
    doc: Document, path: Path_, spec: s.ServiceFile, slo_id: str, labels: Labels, problems: list[Problem]
) -> Labels:
    """The SLO's labels and Sloth's; a spec label of one of their names is refused where
    it is written (two values for one label: Prometheus would keep one silently)."""
    for where, own in (((*path, "labels"), spec.slos[slo_id].labels), (("labels",), spec.labels)):
        problems += [doc.problem((*where, name), WHY) for name in own if name in SLOTH_LABELS]
    return tuple(sorted({**dict(labels), **c.sloth_labels(spec.service, slo_id)}.items()))
