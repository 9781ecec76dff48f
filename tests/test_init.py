"""`slogen init`: a commented starter spec that generates and validates as it is, and that
never overwrites a team's files unless told to."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from slogen.scaffold import starter_files

from .conftest import slogen, snapshot
from .test_alertmanager import routes

STARTERS = ["alerting.yaml", "example.yaml", "slogen.yaml"]


def test_init_writes_the_packaged_starter_files_into_slo(tmp_path: Path) -> None:
    result = slogen("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slo"]
    assert snapshot(tmp_path / "slo") == starter_files()
    assert sorted(starter_files()) == STARTERS
    assert result.stdout.splitlines()[:3] == [f"wrote slo/{name}" for name in STARTERS]
    assert "  slogen generate   compiles them into out/" in result.stdout


def test_the_scaffold_generates_and_validates_with_promtool_and_amtool(promtool: str, tmp_path: Path) -> None:
    assert slogen("init", cwd=tmp_path).returncode == 0
    generated = slogen("generate", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    assert generated.stderr == ""  # not even a warning
    validated = slogen("validate", cwd=tmp_path)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    lines = validated.stdout.splitlines()
    assert "promtool test rules: passed (3 files)" in lines  # two SLOs and one threshold alert
    assert "amtool check-config: passed (1 file)" in lines
    assert any(line.startswith("amtool config routes test: passed (") for line in lines)
    assert any(line.startswith("dashboards: passed (") for line in lines)


def test_the_scaffold_pages_on_critical_posts_to_slack_and_mails_a_summary(tmp_path: Path) -> None:
    """Written by hand from the scaffold's comments, checked by amtool on the generated config."""
    assert slogen("init", cwd=tmp_path).returncode == 0
    assert slogen("generate", cwd=tmp_path).returncode == 0
    amtool = shutil.which("amtool")
    assert amtool, "amtool not found: run `make test`"
    config = tmp_path / "out/alertmanager/alertmanager.yml"

    def receivers(**labels: str) -> list[str]:
        return routes(amtool, config, **labels)

    page = {"service": "example", "slo": "availability", "alertname": "SLOErrorBudgetBurn"}
    assert receivers(**page, severity="critical") == ["team-email", "pager", "team-slack"]
    assert receivers(**page, severity="warning") == ["team-email", "team-slack"]
    text = config.read_text()
    assert "routing_key_file: /etc/alertmanager/secrets/pagerduty-routing-key" in text
    assert "api_url_file: /etc/alertmanager/secrets/slack-webhook-url" in text
    assert "auth_password_file: /etc/alertmanager/secrets/smtp-password" in text


def test_the_scaffold_has_one_ratio_slo_one_latency_slo_and_one_threshold_alert() -> None:
    service = yaml.safe_load(starter_files()["example.yaml"])
    kinds = {slo_id: sorted(set(slo) & {"ratio", "latency", "raw"}) for slo_id, slo in service["slos"].items()}
    assert kinds == {"availability": ["ratio"], "latency": ["latency"]}
    assert list(service["alerts"]) == ["error-rate"]


def test_every_field_of_the_scaffold_is_commented() -> None:
    """Each key is explained at least once (where it first matters), on its line."""
    key = re.compile(r"^\s*(?:- )?([a-z_]+):")
    comment = re.compile(r"\s#(\s|$)")
    for name, data in starter_files().items():
        lines = [line for line in data.decode().splitlines() if not line.lstrip().startswith("#")]
        keys = {m.group(1) for line in lines if (m := key.match(line))}
        commented = {m.group(1) for line in lines if (m := key.match(line)) and comment.search(line)}
        assert sorted(keys - commented) == [], name


def test_init_refuses_to_overwrite_and_names_the_files(tmp_path: Path) -> None:
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo/alerting.yaml").write_text("mine\n")
    (tmp_path / "slo/slogen.yaml").write_text("mine too\n")
    result = slogen("init", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "slo/alerting.yaml: already exists\n"
        "slo/slogen.yaml: already exists\n"
        "slogen: nothing was written; `slogen init --force` overwrites the starter files\n"
    )
    assert snapshot(tmp_path / "slo") == {"alerting.yaml": b"mine\n", "slogen.yaml": b"mine too\n"}


def test_init_force_overwrites_the_starter_files_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo/alerting.yaml").write_text("mine\n")
    (tmp_path / "slo/payments.yaml").write_text("keep\n")
    result = slogen("init", "--force", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert snapshot(tmp_path / "slo") == {**starter_files(), "payments.yaml": b"keep\n"}


def test_init_into_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "slo").write_text("not a folder\n")
    result = slogen("init", "--force", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "slo: exists and is not a folder\nslogen: nothing was written\n"
    assert (tmp_path / "slo").read_text() == "not a folder\n"


def test_init_into_another_folder_says_how_to_use_it(tmp_path: Path) -> None:
    result = slogen("init", "teams/payments/slo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert snapshot(tmp_path / "teams/payments/slo") == starter_files()
    assert "  slogen validate --spec teams/payments/slo   proves the output" in result.stdout
    # beside the specs, not the current folder's out/ (which may be another team's)
    assert "  slogen generate --spec teams/payments/slo --out teams/payments/out   compiles" in result.stdout
