"""`alerting:` (issue 10, item 2): alerts shaped per service and per SLO, merged field by
field, routed and inhibited by their severity values, and explained. The generated
promtool tests of tests/cases/shaped prove the alerts themselves (test_promtool runs them)."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from slogen import api
from slogen import model as m
from slogen.builders.rules import build_slo_groups

from .conftest import REPO, slogen
from .harness import alertmanager, wait_until
from .test_alertmanager import amtool, routes  # noqa: F401 - amtool is a fixture

SHAPED = REPO / "tests/cases/shaped"
CONFIG = SHAPED / "out/alertmanager/alertmanager.yml"


def _model() -> m.Model:
    return api.load_model(api.Options(spec_dir=SHAPED / "slo"))


def _slo(model: m.Model, slo_id: str) -> m.SLO:
    return next(s for s in model.slos() if s.id == slo_id)


def test_an_slos_alerting_overrides_the_services_field_by_field_and_maps_merge() -> None:
    model = _model()
    auth = _slo(model, "authorizations")
    assert auth.alert_name == "PaymentsAuthorizationsBudgetBurn"
    assert auth.shaping.page == m.Shape(
        "P1", (("routing_key", "payments"),), (("playbook", "https://wiki.example.com/payments/authorizations"),)
    )
    assert auth.shaping.ticket == m.Shape("P3", (("slack_channel", "#payments"),))
    settlement = _slo(model, "settlement-latency")
    assert settlement.alert_name == "SLOErrorBudgetBurn"
    assert settlement.shaping.ticket.labels == (("slack_channel", "#payments-settlement"),)
    assert settlement.shaping.absent_for_ms == 20 * 60_000
    webhooks = _slo(model, "webhook-delivery")
    assert (webhooks.shaping.page.severity, webhooks.shaping.ticket.severity) == ("critical", "P3")
    assert webhooks.shaping.page.labels == (("routing_key", "payments"),)  # the severity alone was overridden
    assert webhooks.shaping.absent_for_ms is None


def test_custom_tiers_replace_the_default_ones_with_their_for() -> None:
    auth = _slo(_model(), "authorizations")
    assert auth.custom_tiers
    assert [(t.severity, t.long_ms // 60_000, t.short_ms // 60_000, str(t.factor), t.for_ms) for t in auth.tiers] == [
        ("critical", 60, 5, "14.4", 180_000),
        ("critical", 360, 30, "6", 180_000),
        ("warning", 4320, 360, "1", 0),
    ]
    assert auth.windows == (300_000, 1_800_000, 3_600_000, 21_600_000, 259_200_000)  # 2h and 1d are not recorded


def test_the_generated_rules_carry_the_name_labels_annotations_and_for() -> None:
    groups = yaml.safe_load((SHAPED / "out/prometheus/rules/payments.authorizations.yaml").read_text())["groups"]
    alerts = {(r["alert"], r["labels"]["severity"]): r for g in groups for r in g["rules"] if "alert" in r}
    assert sorted(alerts) == [
        ("PaymentsAuthorizationsBudgetBurn", "P1"),
        ("PaymentsAuthorizationsBudgetBurn", "P3"),
        ("SLOMetricAbsent", "P3"),
    ]
    page = alerts[("PaymentsAuthorizationsBudgetBurn", "P1")]
    assert page["for"] == "3m"
    assert page["labels"]["routing_key"] == "payments" and "slack_channel" not in page["labels"]
    assert page["annotations"]["playbook"] == "https://wiki.example.com/payments/authorizations"
    assert "for" not in alerts[("PaymentsAuthorizationsBudgetBurn", "P3")]
    assert alerts[("SLOMetricAbsent", "P3")]["labels"]["slack_channel"] == "#payments"
    webhooks = (SHAPED / "out/prometheus/rules/payments.webhook-delivery.yaml").read_text()
    assert "SLOMetricAbsent" not in webhooks
    settlement = (SHAPED / "out/prometheus/rules/payments.settlement-latency.yaml").read_text()
    assert "alert: SLOMetricAbsent" in settlement and "for: 20m" in settlement


def test_the_generated_tests_prove_the_for_the_absent_setting_and_each_custom_tier() -> None:
    def names(item: str) -> list[str]:
        doc = yaml.safe_load((SHAPED / f"out/prometheus/tests/payments.{item}.test.yaml").read_text())
        return [t["name"] for t in doc["tests"]]

    auth = names("authorizations")
    assert "P1: a steady error ratio of 0.0033 for less than its for: 3m does not fire it yet" in auth
    assert "P1: 1.1x the 14.4x tier: a steady error ratio of 0.00792" in auth
    assert "P1: 0.9x the 14.4x tier: a steady error ratio of 0.00648" in auth
    assert "absent: false: no series at all, and no SLOMetricAbsent" in names("webhook-delivery")
    assert "no series for less than its for: 20m: SLOMetricAbsent does not fire yet" in names("settlement-latency")


def test_threshold_alerts_take_the_services_page_and_ticket_shapes() -> None:
    groups = yaml.safe_load((SHAPED / "out/prometheus/rules/payments.refund-errors.yaml").read_text())["groups"]
    labels = {r["labels"]["severity"]: r["labels"] for g in groups for r in g["rules"] if r["alert"] == "RefundErrors"}
    assert labels["P1"]["routing_key"] == "payments"
    assert labels["P3"]["slack_channel"] == "#payments"


def test_routes_take_the_custom_severities_the_specs_use(amtool: str) -> None:  # noqa: F811
    """Written by hand from the case's alerting.yaml: P1 and critical page, P3 and warning
    go to Slack only."""
    base = {"service": "payments", "slo": "authorizations"}
    assert routes(amtool, CONFIG, **base, severity="P1") == ["payments-pager", "payments-slack"]
    assert routes(amtool, CONFIG, **base, severity="P3") == ["payments-slack"]
    assert routes(amtool, CONFIG, service="payments", slo="webhook-delivery", severity="critical") == [
        "payments-pager",
        "payments-slack",
    ]
    assert api.check_alertmanager(SHAPED / "out")[1].startswith("amtool config routes test: passed")


def test_pagerduty_is_told_that_p1_is_critical() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    pd = next(r for r in config["receivers"] if r["name"] == "payments-pager")["pagerduty_configs"][0]
    assert pd["severity"] == (
        '{{ if or (eq .CommonLabels.severity "P1") (eq .CommonLabels.severity "critical") }}critical'
        "{{ else }}warning{{ end }}"
    )


def test_a_page_of_any_value_inhibits_the_ticket_of_its_own_slo_only(tmp_path: Path) -> None:
    shutil.copytree(SHAPED / "out/alertmanager", tmp_path / "am")
    with alertmanager(tmp_path / "am/alertmanager.yml", tmp_path) as am:
        base = {"alertname": "SLOErrorBudgetBurn", "service": "payments", "owner": "payments-team"}
        sent = [
            ("authorizations", "P1"),
            ("authorizations", "P3"),
            ("webhook-delivery", "critical"),
            ("webhook-delivery", "P3"),
            ("settlement-latency", "P3"),
        ]
        am.post("/api/v2/alerts", [{"labels": {**base, "slo": slo, "severity": sev}} for slo, sev in sent])

        def states() -> dict[tuple[str, str], list[str]] | None:
            got = {
                (a["labels"]["slo"], a["labels"]["severity"]): a["status"]["inhibitedBy"]
                for a in am.get("/api/v2/alerts")
            }
            done = len(got) == 5 and got[("authorizations", "P3")] and got[("webhook-delivery", "P3")]
            return got if done else None

        got = wait_until(states, 20, "the tickets to be inhibited", am)
        assert len(got[("authorizations", "P3")]) == 1  # by its P1
        assert len(got[("webhook-delivery", "P3")]) == 1  # by its critical
        assert got[("settlement-latency", "P3")] == []  # no page of its own
        assert got[("authorizations", "P1")] == [] and got[("webhook-delivery", "critical")] == []


def _write(tmp_path: Path, text: str, routing: str | None = None) -> Path:
    spec = tmp_path / "slo"
    spec.mkdir()
    (spec / "svc.yaml").write_text(textwrap.dedent(text))
    if routing:
        (spec / "alerting.yaml").write_text(textwrap.dedent(routing))
    return spec


SERVICE_TIERS = """\
    version: 1
    service: svc
    alerting:
      tiers:
        - {severity: page, long: 1h, short: 5m, factor: 14.4}
        - {severity: ticket, long: 1d, short: 2h, factor: 3}
    slos:
      strict:
        objective: 99.9%
        ratio:
          bad: errors_total{job="svc"}
          total: requests_total{job="svc"}
      loose:
        objective: 90%
        ratio:
          bad: misses_total{job="svc"}
          total: lookups_total{job="svc"}
    """


def test_a_service_tier_that_cannot_fire_for_one_slo_is_left_out_with_its_line(tmp_path: Path) -> None:
    """14.4x of a 10% budget is 144%: the service's tiers[0] cannot fire for `loose`; it
    is left out there (a warning naming it and its line), and kept for `strict`."""
    _write(tmp_path, SERVICE_TIERS)
    result = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [warning] = [line for line in result.stderr.splitlines() if "can never fire" in line]
    assert warning.startswith(
        "warning: slo/svc.yaml:14: slos.loose: page tier 1h/5m at 14.4x (alerting.tiers[0] at slo/svc.yaml:5) can never fire"
    )
    assert "give this SLO alerting: {tiers: [{severity: ticket, long: 1d, short: 2h, factor: 3}]}" in warning
    rules = tmp_path / "out/prometheus/rules"
    assert "severity: critical" in (rules / "svc.strict.yaml").read_text()
    assert "severity: critical" not in (rules / "svc.loose.yaml").read_text()


def test_a_services_routing_takes_its_pages_whatever_their_severity_value(tmp_path: Path, amtool: str) -> None:  # noqa: F811
    _write(
        tmp_path,
        """\
        version: 1
        service: svc
        alerting: {page: {severity: P1}, ticket: {severity: P3}}
        routing: {critical: [svc-pager], warning: [svc-slack]}
        slos:
          requests:
            objective: 99.9%
            ratio:
              bad: errors_total{job="svc"}
              total: requests_total{job="svc"}
        """,
        """\
        version: 1
        receivers:
          svc-pager: {pagerduty: {routing_key_file: /etc/am/pd}}
          svc-slack: {slack: {api_url_file: /etc/am/slack, channel: "#svc"}}
          default-slack: {slack: {api_url_file: /etc/am/slack, channel: "#alerts"}}
        routes:
          - severity: [critical, warning]
            receivers: [default-slack]
        """,
    )
    result = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = tmp_path / "out/alertmanager/alertmanager.yml"
    assert routes(amtool, config, service="svc", slo="requests", severity="P1") == ["svc-pager"]
    assert routes(amtool, config, service="svc", slo="requests", severity="P3") == ["svc-slack"]
    assert all(": passed (" in line for line in api.check_alertmanager(tmp_path / "out"))


def test_a_custom_severity_no_route_takes_is_warned_about(tmp_path: Path) -> None:
    _write(
        tmp_path,
        """\
        version: 1
        service: svc
        alerting: {page: {severity: P1}}
        slos:
          requests:
            objective: 99.9%
            ratio:
              bad: errors_total{job="svc"}
              total: requests_total{job="svc"}
        """,
        """\
        version: 1
        receivers:
          slack: {slack: {api_url_file: /etc/am/slack, channel: "#alerts"}}
        routes:
          - severity: [critical, warning]
            receivers: [slack]
        """,
    )
    result = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "slo/alerting.yaml:5: routes: alerts of severity 'P1' match no route" in result.stderr


def test_explain_shows_the_name_severities_labels_tiers_and_absent_setting() -> None:
    spec = str(SHAPED / "slo")
    auth = slogen("explain", "--spec", spec, "payments/authorizations").stdout
    assert "PaymentsAuthorizationsBudgetBurn (multi-window, multi-burn-rate" in auth
    assert "the spec's own tiers (alerting.tiers), in place of the SRE workbook's" in auth
    assert "P1        1h    5m     14.4x" in auth and "3m" in auth.split("P1        1h")[1].splitlines()[0]
    assert "page alerts (severity=P1) also carry: routing_key=payments, annotation playbook=" in auth
    assert "inhibited while a P1 alert of payments/authorizations fires" in auth
    webhooks = slogen("explain", "--spec", spec, "payments/webhook-delivery").stdout
    assert "SLOMetricAbsent: off (alerting.absent: false)" in webhooks
    settlement = slogen("explain", "--spec", spec, "payments/settlement-latency").stdout
    assert "SLOMetricAbsent (P3) after 20m without" in settlement


def test_a_services_absent_false_and_severities_reach_its_threshold_alerts_and_their_tests_pass(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        """\
        version: 1
        service: svc
        alerting:
          page: {severity: P1, labels: {routing_key: svc}}
          ticket: {severity: P3}
          absent: false
        alerts:
          queue-depth:
            gauge: queue_depth{job="svc"}
            critical: {above: 1000, for: 5m}
            warning: {above: 100}
        """,
    )
    result = slogen("validate", "--spec", "slo", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "promtool test rules: passed (1 file)" in result.stdout
    slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    rules = yaml.safe_load((tmp_path / "out/prometheus/rules/svc.queue-depth.yaml").read_text())["groups"][0]["rules"]
    assert [(r["alert"], r["labels"]["severity"], r["labels"].get("routing_key")) for r in rules] == [
        ("QueueDepth", "P1", "svc"),
        ("QueueDepth", "P3", None),
    ]
    tests = (tmp_path / "out/prometheus/tests/svc.queue-depth.test.yaml").read_text()
    assert "absent: false: no series at all, and no SLOMetricAbsent" in tests


@pytest.mark.parametrize(
    ("rules_file", "old", "new", "failing"),
    [
        # the page tiers' for: 3m dropped: at 2m, a minute short of it, the page fires already
        ("authorizations", "    for: 3m\n", "", "time: 2m,"),
        # the 6x tier raised to 60x: its own 1.1x probe no longer fires the page at 15m
        ("authorizations", "/ 0.0005 > 6\n", "/ 0.0005 > 60\n", "time: 15m,"),
        # the absent alert's for: 20m shortened: it fires at 19m, before its for has passed
        ("settlement-latency", "for: 20m", "for: 10m", "time: 19m,"),
        # the severity value or a label lost: the exact label sets no longer match
        ("authorizations", "severity: P1", "severity: critical", 'severity="P1"'),
        ("webhook-delivery", "      routing_key: payments\n", "", 'routing_key="payments"'),
    ],
)
def test_the_generated_tests_catch_a_rule_that_lost_its_shape(
    promtool: str, tmp_path: Path, rules_file: str, old: str, new: str, failing: str
) -> None:
    tree = tmp_path / "out"
    shutil.copytree(SHAPED / "out", tree)
    rules = tree / f"prometheus/rules/payments.{rules_file}.yaml"
    assert old in rules.read_text()
    rules.write_text(rules.read_text().replace(old, new))
    result = subprocess.run(
        [promtool, "test", "rules", f"prometheus/tests/payments.{rules_file}.test.yaml"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert failing in result.stdout + result.stderr


PER_TIER_FOR = """\
    version: 1
    service: search
    slos:
      requests:
        objective: 99.5%
        window: 28d
        ratio:
          bad: http_requests_total{job="search", code=~"5.."}
          total: http_requests_total{job="search"}
        alerting:
          tiers:                    # Pyrra's table for 28 days, each tier with its own for
            - {severity: page,   long: 1h, short: 5m,  factor: 14, for: 2m}
            - {severity: page,   long: 6h, short: 30m, factor: 7,  for: 15m}
            - {severity: ticket, long: 1d, short: 2h,  factor: 2,  for: 1h}
            - {severity: ticket, long: 4d, short: 6h,  factor: 1,  for: 3h}
    """


def test_tiers_with_their_own_for_are_one_rule_each_labelled_with_their_windows(tmp_path: Path) -> None:
    spec = _write(tmp_path, PER_TIER_FOR)
    model = api.load_model(api.Options(spec_dir=spec, out_dir=tmp_path / "out", templates=None))
    groups = build_slo_groups(_slo(model, "requests"))
    alerts = [r for g in groups for r in g["rules"] if r.get("alert") == "SLOErrorBudgetBurn"]
    assert [(r["for"], r["labels"]["long"], r["labels"]["short"], r["labels"]["severity"]) for r in alerts] == [
        ("2m", "1h", "5m", "critical"),
        ("15m", "6h", "30m", "critical"),
        ("1h", "1d", "2h", "warning"),
        ("3h", "4d", "6h", "warning"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "failing"),
    [
        ("    for: 15m\n", "    for: 10m\n", 'long="6h"'),  # the 6h tier fires before its for
        ("    for: 3h\n", "    for: 2h\n", 'long="4d"'),  # the ticket's for, checked a minute before it
        ("      long: 6h\n", "      long: 6h\n      tier: x\n", 'long="6h"'),  # a label more
    ],
)
def test_the_generated_tests_prove_each_tiers_own_for(
    promtool: str,
    tmp_path: Path,
    old: str,
    new: str,
    failing: str,  # noqa: F811
) -> None:
    spec = _write(tmp_path, PER_TIER_FOR)
    out = tmp_path / "out"
    api.generate(api.Options(spec_dir=spec, out_dir=out, templates=None))
    test_file = "prometheus/tests/search.requests.test.yaml"
    passed = subprocess.run(
        [promtool, "test", "rules", test_file], cwd=out, capture_output=True, text=True, check=False
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    rules = out / "prometheus/rules/search.requests.yaml"
    assert old in rules.read_text()
    rules.write_text(rules.read_text().replace(old, new, 1))
    result = subprocess.run(
        [promtool, "test", "rules", test_file], cwd=out, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert failing in result.stdout + result.stderr
