"""The generated Alertmanager config: checked by amtool, routed as the plan says, and its
inhibition shown in a real Alertmanager."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from slogen import api
from slogen.errors import CheckFailed

from .conftest import PLAN, REPO
from .golden import cases
from .harness import alertmanager, wait_until

TREES = [c / "out" for c in cases() if (c / "out/alertmanager").is_dir()]
CONFIG = PLAN / "out/alertmanager/alertmanager.yml"


@pytest.fixture(scope="session")
def amtool() -> str:
    path = shutil.which("amtool")
    assert path, "amtool not found: run `make test` (installs Debian's prometheus-alertmanager)"
    return path


def routes(amtool: str, config: Path, **labels: str) -> list[str]:
    args = [f"{k}={v}" for k, v in labels.items()]
    result = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={config}", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().split(",")


@pytest.mark.parametrize("tree", TREES, ids=lambda p: str(p.relative_to(REPO)))
def test_amtool_accepts_the_config_every_route_test_and_every_template(amtool: str, tree: Path) -> None:
    report = api.check_alertmanager(tree)
    assert report[0] == "amtool check-config: passed (1 file)"
    assert [line.split(":")[0] for line in report] == [
        "amtool check-config",
        "amtool config routes test",
        "amtool template render",
    ]
    assert all(": passed (" in line for line in report)


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (
            {"severity": "critical", "service": "api", "slo": "availability"},
            ["platform-email", "oncall-pager", "prod-alerts"],
        ),
        (
            {"severity": "critical", "service": "redis", "slo": "memory"},
            ["platform-email", "oncall-pager", "prod-alerts"],
        ),
        ({"severity": "warning", "service": "cache", "slo": "hit-rate"}, ["platform-email", "prod-alerts"]),
        ({"severity": "warning", "service": "db", "alertname": "SLOMetricAbsent"}, ["platform-email", "prod-alerts"]),
        ({"severity": "info", "service": "api"}, ["platform-email"]),
    ],
)
def test_the_plan_pages_on_critical_posts_both_to_slack_and_mails_everything(
    amtool: str, labels: dict[str, str], receivers: list[str]
) -> None:
    """Written by hand from the plan, not derived from the spec: pager for critical only,
    #prod-alerts for both, the daily email for every alert."""
    assert routes(amtool, CONFIG, **labels) == receivers


def test_the_summary_route_mails_at_most_once_a_day() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    summary = config["route"]["routes"][0]
    assert summary["receiver"] == "platform-email" and summary["continue"] is True
    assert "matchers" not in summary
    assert summary["group_interval"] == "1d" and summary["repeat_interval"] == "1d"


def test_secrets_are_only_referenced_by_file() -> None:
    text = CONFIG.read_text()
    for key in ("routing_key:", "api_url:", "auth_password:", "service_key:"):
        assert key not in text
    assert "routing_key_file: /etc/alertmanager/secrets/pagerduty-routing-key" in text


def test_a_wrong_route_is_caught_by_the_route_tests(tmp_path: Path) -> None:
    shutil.copytree(PLAN / "out", tmp_path / "out")
    config = tmp_path / "out/alertmanager/alertmanager.yml"
    config.write_text(config.read_text().replace('severity="warning"', 'severity="warnings"', 1))
    with pytest.raises(CheckFailed, match="should reach platform-email,prod-alerts"):
        api.check_alertmanager(tmp_path / "out")


def test_a_critical_alert_inhibits_the_warning_of_the_same_service_and_slo(tmp_path: Path) -> None:
    shutil.copytree(PLAN / "out/alertmanager", tmp_path / "am")
    with alertmanager(tmp_path / "am/alertmanager.yml", tmp_path) as am:
        base = {"alertname": "SLOErrorBudgetBurn", "service": "api", "slo": "availability", "owner": "platform"}
        other = {**base, "slo": "read-latency-p95", "severity": "warning"}
        am.post(
            "/api/v2/alerts",
            [
                {"labels": {**base, "severity": "critical"}},
                {"labels": {**base, "severity": "warning"}},
                {"labels": other},
            ],
        )

        def states() -> dict[tuple[str, str], list[str]] | None:
            alerts = am.get("/api/v2/alerts")
            got = {(a["labels"]["slo"], a["labels"]["severity"]): a["status"]["inhibitedBy"] for a in alerts}
            return got if len(got) == 3 and got[("availability", "warning")] else None

        got = wait_until(states, 20, "the warning to be inhibited", am)
        assert got[("availability", "critical")] == []
        assert len(got[("availability", "warning")]) == 1  # inhibited by the critical alert
        assert got[("read-latency-p95", "warning")] == []  # another SLO: not inhibited


def test_a_route_matching_a_value_no_alert_has_yet_is_a_warning_not_an_error(tmp_path: Path) -> None:
    from .conftest import slogen

    shutil.copytree(PLAN / "slo", tmp_path / "slo")
    routing = tmp_path / "slo/alerting.yaml"
    routing.write_text(
        routing.read_text().replace(
            "  - severity: [warning]\n", "  - severity: [warning]\n    match: {owner: payments}\n"
        )
    )
    result = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        "warning: slo/alerting.yaml:34: routes[1].match.owner: no generated alert has owner='payments' yet (values: platform)"
        in result.stderr
    )
