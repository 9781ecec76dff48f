"""OpenSLO alert policies to slogen's `alerting:` and burn-rate tiers, and notification
targets to a routing stub.

An AlertCondition of kind burnrate (threshold, lookbackWindow, alertAfter, severity) is a
tier: factor = threshold, long = lookbackWindow, for = alertAfter. OpenSLO has one window;
slogen's tiers have a short one too (the alert stops soon after the burn does): it is the
condition's `slogen.dev/short-window` annotation, else a twelfth of the long window (the
SRE workbook's ratio), at least 5m, with a warning. Conditions equal to slogen's default
tiers for the SLO's objective and window give no `tiers:` (the defaults stay defaults).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from .. import conventions as c
from .. import spec as s
from .. import tiers as t
from ..load import Document, Path_
from ..quantity import format_duration, parse_duration
from .common import Origin
from .openslo_model import CONDITION, duration

if TYPE_CHECKING:
    from .openslo import _Converter

STUB = "alerting.yaml.todo"
SHORT_WINDOW = "slogen.dev/short-window"
TIER = "slogen.dev/tier"
SEVERITY_TIER = {"critical": "page", "page": "page", "warning": "ticket", "ticket": "ticket"}


# A receiver of slo/alerting.yaml for each kind of OpenSLO target, to fill in.
RECEIVERS = {
    "pagerduty": "pagerduty: {routing_key_file: /etc/alertmanager/secrets/TODO}",
    "slack": 'slack: {api_url_file: /etc/alertmanager/secrets/TODO, channel: "#TODO"}',
    "email": "email: {to: TODO@example.com}",
    "webhook": 'webhook: {url: "https://TODO"}',
}


@dataclass
class Target:
    origin: Origin
    target: str
    description: str
    uses: set[tuple[str, str, str]] = field(default_factory=set)  # (severity label, service, slo)


@dataclass
class Targets:
    """Every AlertNotificationTarget a policy names: the routing slogen cannot guess."""

    found: dict[str, Target] = field(default_factory=dict)

    def stub(self) -> str:
        if not self.found:
            return ""
        out = [
            "# The OpenSLO notification targets of the imported SLOs, as slo/alerting.yaml would\n",
            '# route to them (see the README, "The routing"). Fill in each TODO (secrets go in\n',
            "# *_file fields), uncomment, save as slo/alerting.yaml, then delete this file.\n",
            "#\n# version: 1\n# receivers:\n",
        ]
        for name, item in sorted(self.found.items()):
            about = f" ({item.description})" if item.description else ""
            out.append(f"#   {name}:   # from {item.origin}: target {item.target!r}{about}\n")
            hint = RECEIVERS.get(item.target.lower().replace("-", ""), "TODO: one of pagerduty, slack, email, webhook")
            out.append(f"#     {hint}\n")
        out.append("# routes:\n")
        for name, item in sorted(self.found.items()):
            for severity, service, slo in sorted(item.uses):
                match = f"{{service: {service}, slo: {slo}}}"
                out.append(f"#   - {{severity: [{severity}], match: {match}, receivers: [{name}]}}\n")
        return "".join(out)


class Policies:
    """The alert policies of one SLO."""

    def __init__(self, conv: _Converter, doc: Document, objective: Decimal, window: str, slo_id: str) -> None:
        self.conv, self.doc, self.objective, self.window, self.slo_id = conv, doc, objective, window, slo_id
        self.tiers: dict[str, dict[str, Any]] = {}  # condition name -> tier
        self.severity: dict[str, str] = {}  # tier kind -> label value, when not the default
        self.no_data = False

    def read(self, extra: dict[str, Any] | None) -> dict[str, Any]:
        """The SLO's `burn_rate_alerts` and `alerting` fields."""
        items = self.doc.data["spec"].get("alertPolicies", [])
        if not isinstance(items, list):
            self.conv.chk.refuse(self.doc, ("spec", "alertPolicies"), "expected a list")
            return {}
        for i, item in enumerate(items):
            self.policy(self.doc, ("spec", "alertPolicies", i), item)
        alerting = dict(extra or {})
        for kind, value in self.severity.items():
            alerting.setdefault(kind, {}).setdefault("severity", value)
        if not items and "absent" in alerting:
            pass  # no policy: the exported annotation keeps the absent-data alert's setting
        elif not self.no_data:
            alerting["absent"] = False
        elif alerting.get("absent") is False:
            del alerting["absent"]
        out: dict[str, Any] = {}
        if not items:
            self.conv.out.warnings.append(
                f"{Origin.of(self.doc)}: no alertPolicies: no burn-rate alert is generated (delete "
                "burn_rate_alerts from the written SLO for slogen's default alerts)"
            )
        tiers = list(self.tiers.values())
        enabled = s.BurnRateAlerts(
            page=any(x["severity"] == "page" for x in tiers), ticket=any(x["severity"] == "ticket" for x in tiers)
        )
        if not tiers or self.defaults(enabled) == {_key(x) for x in tiers}:
            if not (enabled.page and enabled.ticket):
                out["burn_rate_alerts"] = {"page": enabled.page, "ticket": enabled.ticket}
        else:
            alerting["tiers"] = tiers
        if alerting:
            out["alerting"] = alerting
        return out

    def defaults(self, enabled: s.BurnRateAlerts) -> set[tuple[str, int, int, Decimal, int]]:
        period = parse_duration(self.window)
        kept = t.plan_tiers(self.objective, period, enabled).kept
        return {(t.KIND[x.severity], x.long_ms, x.short_ms, x.factor, x.for_ms) for x in kept}

    def policy(self, doc: Document, path: Path_, item: Any) -> None:
        chk = self.conv.chk
        if isinstance(item, dict) and set(item) == {"alertPolicyRef"}:
            found = self.conv.ref(doc, (*path, "alertPolicyRef"), "AlertPolicy", item["alertPolicyRef"])
            if found is None:
                return
            doc, path, item = found, (), found.data
        elif not chk.inline(doc, path, item, "AlertPolicy"):
            return
        spec = item["spec"]
        self.no_data = self.no_data or spec.get("alertWhenNoData") is True
        conditions = spec["conditions"]
        if not isinstance(conditions, list) or len(conditions) != 1:
            # README, Notes (AlertPolicy): an array "but only allows one single condition"
            chk.refuse(
                doc,
                (*path, "spec", "conditions"),
                "an OpenSLO v1 alert policy has exactly one condition: give each condition its own policy",
            )
            return
        if spec.get("alertWhenBreaching") is not True:
            self.conv.out.warnings.append(
                f"{Origin(doc.file, doc.line_of((*path, 'spec')))}: alert policy {item['metadata']['name']} does not "
                "alert when breaching (alertWhenBreaching is not true): its condition gives no burn-rate alert"
            )
            severities: set[str | None] = set()
        else:
            severities = {self.condition(doc, (*path, "spec", "conditions", 0), conditions[0])}
        targets = spec["notificationTargets"]
        if not isinstance(targets, list):
            chk.refuse(doc, (*path, "spec", "notificationTargets"), "expected a list")
            return
        for i, target in enumerate(targets):
            self.target(doc, (*path, "spec", "notificationTargets", i), target, severities - {None})

    def condition(self, doc: Document, path: Path_, item: Any) -> str | None:
        chk = self.conv.chk
        if isinstance(item, dict) and set(item) == {"conditionRef"}:
            found = self.conv.ref(doc, (*path, "conditionRef"), "AlertCondition", item["conditionRef"])
            if found is None:
                return None
            doc, path, item = found, (), found.data
        elif not chk.inline(doc, path, item, "AlertCondition"):
            return None
        name, spec = item["metadata"]["name"], item["spec"]
        where: Path_ = (*path, "spec", "condition")
        cond = spec["condition"]
        if not chk.fields(doc, where, cond, CONDITION):
            return None
        if cond.get("kind", "burnrate") != "burnrate":
            chk.refuse(doc, (*where, "kind"), "slogen imports burnrate conditions only")
            return None
        if cond.get("op", "gt") not in ("gt", "gte"):
            chk.refuse(doc, (*where, "op"), "a burn-rate alert fires above its threshold: op gt (or gte)")
            return None
        kind = self.kind(doc, path, item)
        tier = self.tier(doc, path, item, kind) if kind else None
        if tier is not None and name not in self.tiers:
            self.tiers[name] = tier
        # the label value the alert will carry, for the routing stub
        return self.severity.get(kind, c.KIND_SEVERITY[kind]) if tier and kind else None

    def kind(self, doc: Document, path: Path_, item: dict[str, Any]) -> str | None:
        """page or ticket: the `slogen.dev/tier` annotation, else the severity's name."""
        severity = item["spec"]["severity"]
        notes = item["metadata"].get("annotations") or {}
        kind = notes.get(TIER) if isinstance(notes, dict) else None
        kind = kind or SEVERITY_TIER.get(severity)
        if kind not in ("page", "ticket") or not isinstance(severity, str):
            self.conv.chk.refuse(
                doc,
                (*path, "spec", "severity"),
                f"slogen's burn-rate alerts are pages or tickets: severity critical or page, warning or ticket "
                f"(or annotate the condition {TIER}: page|ticket to keep {severity!r} as the severity label)",
            )
            return None
        if severity not in SEVERITY_TIER:
            self.severity[kind] = severity
        return kind

    def tier(self, doc: Document, path: Path_, item: dict[str, Any], kind: str) -> dict[str, Any] | None:
        chk, cond = self.conv.chk, item["spec"]["condition"]
        where: Path_ = (*path, "spec", "condition")
        long = duration(cond["lookbackWindow"])
        after = duration(cond.get("alertAfter", "0m"))
        for key, value in (("lookbackWindow", long), ("alertAfter", after)):
            if value is None:
                chk.refuse(doc, (*where, key), "not an OpenSLO duration shorthand ([0-9]+ and one of m h d w M Q Y)")
        try:
            factor = Decimal(str(cond["threshold"]))
        except InvalidOperation:
            factor = Decimal(0)
        if isinstance(cond["threshold"], bool) or not factor > 0:
            chk.refuse(doc, (*where, "threshold"), "a burn rate above 0 (how many times the budget's rate)")
            return None
        if long is None or after is None:
            return None
        try:
            long_ms = parse_duration(long)
        except ValueError as exc:
            chk.refuse(doc, (*where, "lookbackWindow"), str(exc))
            return None
        if long_ms < 10 * 60_000:
            chk.refuse(
                doc,
                (*where, "lookbackWindow"),
                "at least 10m: slogen's tiers also watch a short window of at least 5m (the rate every SLI is recorded at), shorter than this one",
            )
            return None
        tier: dict[str, Any] = {"severity": kind, "long": long, "short": self.short(doc, path, item, long)}
        tier["factor"] = int(factor) if factor == factor.to_integral_value() else float(factor)
        if not after.startswith("0"):
            tier["for"] = after
        return tier

    def short(self, doc: Document, path: Path_, item: dict[str, Any], long: str) -> str:
        notes = item["metadata"].get("annotations") or {}
        given = notes.get(SHORT_WINDOW) if isinstance(notes, dict) else None
        if isinstance(given, str):
            return given
        minutes = max(5, round(parse_duration(long) / 12 / 60_000))
        short = format_duration(minutes * 60_000)
        self.conv.out.warnings.append(
            f"{Origin(doc.file, doc.line_of((*path, 'spec', 'condition')))}: the burn-rate condition over {long} gets "
            f"a short window of {short} (a twelfth, as the SRE workbook's alerts): it fires only while the burn "
            "goes on, and stops soon after"
        )
        return short

    def target(self, doc: Document, path: Path_, item: Any, severities: set[str | None]) -> None:
        chk = self.conv.chk
        if isinstance(item, dict) and set(item) == {"targetRef"}:
            found = self.conv.ref(doc, (*path, "targetRef"), "AlertNotificationTarget", item["targetRef"])
            if found is None:
                return
            doc, path, item = found, (), found.data
        elif not chk.inline(doc, path, item, "AlertNotificationTarget"):
            return
        name, spec = item["metadata"]["name"], item["spec"]
        found_target = self.conv.targets.found.setdefault(
            name, Target(Origin(doc.file, doc.line_of(path)), str(spec["target"]), str(spec.get("description", "")))
        )
        service = self.doc.data["spec"]["service"]
        found_target.uses |= {(sev, service, self.slo_id) for sev in severities if sev}


def _key(tier: dict[str, Any]) -> tuple[str, int, int, Decimal, int]:
    return (
        tier["severity"],
        parse_duration(tier["long"]),
        parse_duration(tier["short"]),
        Decimal(str(tier["factor"])),
        parse_duration(tier["for"]) if "for" in tier else 0,
    )
