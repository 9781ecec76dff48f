"""Synthetic input series for a probe SLI's tests: 0/1 samples whose share of 0s is steady.

A probe's error ratio is the share of its samples that are 0, so a ratio near a burn-rate
threshold (1.1% for a 99.9% ticket) needs hundreds of samples per 5m window. The series
are sampled every second (301 samples in a 5m window: Prometheus 2 includes both ends):
`good` series always 1, `bad` series always 0, and at most one `sparse` series with a 0
every 300/k seconds and no sample between, k zeros per window. Its zeros fall mid-period,
never on an evaluation's window edge (a whole minute), so that every window holds exactly
k of them and the ratio stays steady.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .. import model as m
from ..quantity import fmt
from . import series as sx

INTERVAL = "1s"
INTERVAL_MS = 1000
PER_WINDOW = 301  # samples of a 1s series in [t-5m, t]
SPARSE_ZEROS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 25, 30, 50, 60, 75, 100, 150)  # k with 300/k whole
MAX_GOOD = 400  # 400 series of 1,020 samples: about a second of promtool
MAX_BAD = 3
MARGIN = Decimal("0.03")  # keep 3% from the threshold: the first minutes' windows are partial
NEAR = 0.05  # near enough to the target ratio to prefer fewer series over nearer


@dataclass(frozen=True)
class Plan:
    good: int
    bad: int
    sparse: int  # zeros per 5m window of the sparse series (0: none)

    @property
    def ratio(self) -> Fraction:
        zeros = self.bad * PER_WINDOW + self.sparse
        return Fraction(zeros, zeros + self.good * PER_WINDOW)


HEALTHY = Plan(good=1, bad=0, sparse=0)


def ratio(plan: Plan) -> Decimal:
    return Decimal(plan.ratio.numerator) / Decimal(plan.ratio.denominator)


@functools.lru_cache(maxsize=256)
def plan(target: Decimal, threshold: Decimal, fire: bool) -> Plan:
    """The plan whose steady ratio is nearest `target` on the firing (or quiet) side of
    `threshold`, at least MARGIN from it; for a quiet side under every ratio that can be
    built, no failure at all."""
    low, high = (threshold * (1 + MARGIN), Decimal(1)) if fire else (Decimal(0), threshold * (1 - MARGIN))
    scored = []
    for sparse in (0, *SPARSE_ZEROS):
        for bad in range(MAX_BAD + 1):
            for good in _goods_near(bad * PER_WINDOW + sparse, target):
                if good + bad == 0 or (good == 0 and sparse):
                    continue
                candidate = Plan(good, bad, sparse)
                value = float(candidate.ratio)
                if not (float(low) < value <= float(high) or (not fire and value == 0)):
                    continue
                off = abs(value / float(target) - 1) if target else value
                # Within 5% of the target, the fewest series (smaller tests); else the nearest.
                scored.append(((off > NEAR, good + bad + (sparse > 0), off, sparse, bad), candidate))
    if not scored:
        raise ValueError(f"no steady share of failed samples above {threshold} can be built")
    return min(scored, key=lambda x: x[0])[1]


def _goods_near(zeros: int, target: Decimal) -> range:
    """The numbers of good series that put `zeros` failed samples a window near the
    target ratio (zeros / (zeros + 301 good)), and a few either side: trying only these
    keeps a plan to milliseconds."""
    if zeros == 0 or target <= 0:
        return range(0, 2)
    ideal = float(zeros * (1 - target) / (PER_WINDOW * target))
    high = min(MAX_GOOD, int(ideal * 1.2) + 2)
    return range(min(max(0, int(ideal * 0.8) - 1), high), high + 1)  # past MAX_GOOD: MAX_GOOD


def scenarios(
    sli: m.ProbeSLI, severity: str, threshold: Decimal, above: Decimal, below: Decimal, points: int
) -> list[tuple[str, Decimal | None, list[sx.Series]]]:
    """(test name, steady error ratio, series): a share of failed samples above the
    severity's lowest threshold that fires it and one below that does not, each the
    nearest to 1.1x and 0.9x that samples can make."""
    return [
        (name, value, probe_series(sli, chosen, points))
        for name, value, chosen in planned(severity, threshold, above, below)
    ]


def planned(severity: str, threshold: Decimal, above: Decimal, below: Decimal) -> list[tuple[str, Decimal, Plan]]:
    """(test name, steady error ratio, plan) of `scenarios`, before any series is written
    (grouped SLOs write them once per group)."""
    out: list[tuple[str, Decimal, Plan]] = []
    for target, fire in ((above, True), (below, False)):
        chosen = plan(target, threshold, fire)
        value = ratio(chosen)
        times = fmt((value / threshold).quantize(Decimal("0.001")))
        verdict = "fires it" if fire else "does not fire it"
        zeros = chosen.bad * PER_WINDOW + chosen.sparse
        shown = f"{zeros} of {zeros + chosen.good * PER_WINDOW} probe samples failed in every 5m"
        out.append((f"{severity}: {shown} ({times}x its lowest threshold) {verdict}", value, chosen))
    return out


def probe_series(sli: m.ProbeSLI, chosen: Plan, points: int, group: sx.Labels | None = None) -> list[sx.Series]:
    """Series of `points` samples, one a second (the sparse one only at its zeros), in
    the group of `by` values `group`: the label that tells the series apart is one the
    selector does not pin and no `by` label (a probe per instance grouped by instance
    would put each series in a group of its own)."""
    base = sx.example_labels(sli.metric, extra=group)
    taken = set(group or ())
    names = itertools.chain(["instance"], (f"slogen_probe{'_' * i}" for i in itertools.count()))  # one is free
    label = next(n for n in names if not _pinned(sli, n) and n not in taken)
    out = []
    for i in range(chosen.good):
        out.append(sx.gauge(sli.metric.metric, {**base, label: f"slogen-good-{i}"}, Decimal(1), points - 1))
    for i in range(chosen.bad):
        out.append(sx.gauge(sli.metric.metric, {**base, label: f"slogen-bad-{i}"}, Decimal(0), points - 1))
    if chosen.sparse:
        period = 300 // chosen.sparse
        first = _phase(period)
        zeros = " ".join(f"0 _x{period - 1}" for _ in range((points - first) // period))
        out.append(
            {
                "series": sx.series_text(sli.metric.metric, {**base, label: "slogen-sparse"}),
                "values": f"_x{first} {zeros}",
            }
        )
    return out


def _phase(period: int) -> int:
    """The second of the first 0: mid-period, so that the windows of the first five
    minutes, which hold fewer samples, hold as many 0s as their share (give or take half
    a 0: one at second 1 made them fail far more, and the alerts of a 99.99% objective
    fired on a share 0.9x the threshold); and never on a whole minute, a window's edge."""
    first = period // 2
    while any((first + j * period) % 60 == 0 for j in range(60)):
        first += 1
    return first


def _pinned(sli: m.ProbeSLI, label: str) -> bool:
    """A label the selector constrains: test series cannot vary it freely."""
    return any(mt.name == label for mt in sli.metric.matchers)
