"""Spec v1, `slo/slogen.yaml`: the output targets (issue 12, item 1) and their settings.

Every target is written from the same model: `prometheus` is today's tree, `mimir` and
`cortex` the ruler's namespace files (`mimirtool rules load` / `cortextool rules load`),
`thanos` Thanos Ruler rule files."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from .spec import Strict, Unique

Target = Literal["prometheus", "mimir", "cortex", "thanos", "argo-rollouts", "flagger"]


def _tenant(value: str) -> str:
    # Mimir's tenant ids: at most 150 of these characters, and not "." or ".."
    # (Grafana Mimir docs, "About tenant IDs"); `|` would join tenants, so it is refused too.
    if not re.fullmatch(r"[A-Za-z0-9!_.*'()-]{1,150}", value) or value in (".", ".."):
        raise ValueError(f"a tenant id is 1 to 150 letters, digits or !-_.*'() (and not . or ..), got {value!r}")
    return value


TenantId = Annotated[str, AfterValidator(_tenant)]


class RulerSettings(Strict):
    """Settings of a Mimir or Cortex ruler's rule groups."""

    source_tenants: Annotated[list[TenantId], Unique] = []
    """Tenants whose series every rule group reads (a federated rule group); empty: the
    tenant that loads the rules, as usual."""


class ThanosSettings(Strict):
    """Settings of Thanos Ruler's rule groups."""

    partial_response_strategy: Literal["warn", "abort"] | None = None
    """What a rule group does when a StoreAPI does not answer: `abort` the evaluation or
    `warn` and evaluate on the partial data; unset: Thanos Ruler's default (abort)."""


TargetList = Annotated[list[Target], Unique, Field(min_length=1)]
