"""Rules in Sloth's shape for one events SLO, and promtool scenarios to run them and
slogen's rules through, so a test can tell whether both fire the same severities.

Written from Sloth's sources (github.com/slok/sloth: internal/plugin/slo/core/
sli_rules_v1 records `slo:sli_error:ratio_rate<w>` as (error query) / (total query) at
each window, with the sloth_id, sloth_service, sloth_slo and sloth_window labels;
alert_rules_v1 writes one alert per severity, `max(short > factor * budget) without
(sloth_window) and max(long > ...)`, quick or slow; internal/alert/window.go computes the
factor), not copied from its output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Sloth's default windows (internal/alert/windows/google-*.yaml): kind, speed, share of the
# budget in percent, short window and long window, in minutes.
WINDOWS = (
    ("page", "quick", 2, 5, 60),
    ("page", "slow", 5, 30, 360),
    ("ticket", "quick", 10, 120, 1440),
    ("ticket", "slow", 10, 360, 4320),
)


@dataclass(frozen=True)
class Tier:
    kind: str
    short: int  # minutes
    long: int
    factor: float


def tiers(period_days: int) -> list[Tier]:
    """Sloth's getBurnRateFactor for each default window."""
    out = []
    for kind, _, percent, short, long in WINDOWS:
        hours = percent * (period_days * 24) / 100
        out.append(Tier(kind, short, long, hours / (long / 60)))
    return out


def _window(minutes: int) -> str:
    return f"{minutes // 1440}d" if minutes % 1440 == 0 else f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def rules(
    service: str, slo: str, error: str, total: str, objective: float, period_days: int, alert: dict[str, Any]
) -> dict[str, Any]:
    """Sloth's SLI recordings and burn-rate alerts of one events SLO (`{{.window}}` queries)."""
    ids = {"sloth_id": f"{service}-{slo}", "sloth_service": service, "sloth_slo": slo}
    labels = {**ids, **alert["slo_labels"]}
    minutes = sorted({m for t in tiers(period_days) for m in (t.short, t.long)})
    records = [
        {
            "record": f"slo:sli_error:ratio_rate{_window(m)}",
            "expr": f"({error.replace('{{.window}}', _window(m))})\n/\n({total.replace('{{.window}}', _window(m))})",
            "labels": {**labels, "sloth_window": _window(m)},
        }
        for m in minutes
    ]
    budget = (100 - objective) / 100
    selector = ", ".join(f'{k}="{v}"' for k, v in ids.items())
    alerts = []
    for kind in ("page", "ticket"):
        quick, slow = (t for t in tiers(period_days) if t.kind == kind)
        arms = [
            f"max(slo:sli_error:ratio_rate{_window(w)}{{{selector}}} > ({t.factor} * {budget})) without (sloth_window)"
            for t in (quick, slow)
            for w in (t.short, t.long)
        ]
        expr = f"(\n{arms[0]}\nand\n{arms[1]}\n)\nor\n(\n{arms[2]}\nand\n{arms[3]}\n)"
        alerts.append({"alert": alert["name"], "expr": expr, "labels": {"sloth_severity": kind, **alert[kind]}})
    return {
        "groups": [
            {"name": f"sloth-slo-sli-recordings-{service}-{slo}", "rules": records},
            {"name": f"sloth-slo-alerts-{service}-{slo}", "rules": alerts},
        ]
    }


@dataclass(frozen=True)
class Scenario:
    """Healthy traffic, then `ratio` of the requests failing for the last `burn` minutes
    before `at` (minutes)."""

    name: str
    ratio: float
    burn: int
    at: int

    def series(self, bad: str, good: str, step: int, per_step: int = 1200) -> list[dict[str, str]]:
        """Counters sampled every `step` minutes: no errors before the burn, `ratio` of
        the requests failing from its start to `at`."""
        errors = self.ratio * per_step
        healthy, burn = (self.at - self.burn) // step, self.burn // step
        return [
            {"series": bad, "values": f"0x{healthy - 1} 0+{errors!r}x{burn}"},
            {"series": good, "values": f"0+{per_step}x{healthy - 1} {per_step * healthy}+{per_step - errors!r}x{burn}"},
        ]

    def fires(self, period_days: int, budget: float) -> set[str]:
        """The kinds Sloth's alerts fire at `at`: a window holding the burn for part of
        its length sees the ratio diluted by that share."""
        out = set()
        for tier in tiers(period_days):
            over = [self.ratio * min(self.burn, w) / w for w in (tier.short, tier.long)]
            if all(value > tier.factor * budget for value in over):
                out.add(tier.kind)
        return out


def scenarios(period_days: int, at: int, budget: float) -> list[Scenario]:
    """Each tier's burn at 0.9x and 1.1x of its factor, for its long window."""
    out = []
    for tier in tiers(period_days):
        for times in (0.9, 1.1):
            name = f"{tier.kind} {_window(tier.long)}/{_window(tier.short)} at {times}x {tier.factor:.4g}"
            out.append(Scenario(name, ratio=times * tier.factor * budget, burn=tier.long, at=at))
    return out
