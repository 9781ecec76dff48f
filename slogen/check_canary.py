"""`slogen validate` on the canary analysis (out/argo-rollouts, out/flagger): every query,
its controller's placeholders replaced by sample values as the controller would, through
promtool; a placeholder left over is a failure too."""

from __future__ import annotations

from pathlib import Path

import yaml

from .builders.canary import ARGO_DIR, FLAGGER_DIR

# What the controllers put in (a pod template hash; Flagger's target, namespace and interval).
SAMPLE_VALUES = {
    "{{args.canary}}": "6d4f8b7c9",
    "{{ target }}": "podinfo",
    "{{ namespace }}": "test",
    "{{ interval }}": "5m",
}


def substitute(query: str) -> str:
    for placeholder, value in SAMPLE_VALUES.items():
        query = query.replace(placeholder, value)
    return query


def canary_queries(root: Path, sources: dict[str, str]) -> list[tuple[str, str]]:
    """(where, query with sample values) of every generated AnalysisTemplate metric and MetricTemplate."""
    out = []
    for path in sorted((root / ARGO_DIR).glob("*.yaml")):
        rel = path.relative_to(root).as_posix()
        for metric in yaml.safe_load(path.read_text())["spec"]["metrics"]:
            where = f"{sources.get(rel, '')}: out/{rel} metric {metric['name']}".lstrip(": ")
            out.append((where, substitute(metric["provider"]["prometheus"]["query"])))
    for path in sorted((root / FLAGGER_DIR).glob("*/*.yaml")):
        data = yaml.safe_load(path.read_text())
        if data.get("kind") == "MetricTemplate":
            rel = path.relative_to(root).as_posix()
            out.append((f"{sources.get(rel, '')}: out/{rel}".lstrip(": "), substitute(data["spec"]["query"])))
    return out
