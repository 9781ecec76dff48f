"""The CLI's other commands (validate with promtool, explain, schema), and its safety net:
no input ends in a traceback."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from .conftest import REPO, slogen


def test_validate_runs_promtool_on_everything_generated(promtool: str) -> None:
    result = slogen("validate")
    assert result.returncode == 0, result.stderr
    assert "promtool check rules: passed (12 files)" in result.stdout
    assert "promtool test rules: passed (12 files)" in result.stdout
    assert "amtool config routes test: passed (" in result.stdout


def test_validate_fails_with_exit_1_when_promtool_rejects_a_test(promtool: str, tmp_path: Path) -> None:
    """A raw alert whose own test series never fire it: promtool says so, slogen names the
    alert's line in the spec, reports the other stages as well and exits 1."""
    shutil.copytree(REPO / "tests/cases/variety/slo", tmp_path / "slo")
    spec = tmp_path / "slo/checkout.yaml"
    spec.write_text(spec.read_text().replace("critical: {above: 900}", "critical: {above: 90000}"))
    result = slogen("validate", "--spec", "slo", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "promtool check rules: passed (7 files)"
    assert lines[1] == "promtool test rules: FAILED (1 of 7 files)"
    line = 1 + spec.read_text().splitlines().index("  stuck:")
    assert (
        lines[2] == f"  slo/checkout.yaml:{line}: checkout/stuck: out/prometheus/tests/checkout.stuck.test.yaml: failed"
    )
    assert "got: nil" in result.stdout
    assert "amtool: skipped (no routing file, so no Alertmanager config)" in lines
    assert any(x.startswith("dashboards: passed (") for x in lines)
    assert "vmalert -dryRun: passed (7 files)" in lines  # vmalert loads what promtool tests
    assert result.stderr.splitlines()[-1] == "slogen: 1 of 5 checks failed: promtool test rules"
    assert "/tmp" not in result.stdout + result.stderr and "slogen-validate" not in result.stdout
    assert "Traceback" not in result.stderr


def test_explain_gives_windows_factors_and_time_to_fire() -> None:
    result = slogen("explain", "api/availability")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split()[:7] == ["critical", "1h", "5m", "14.4x", "1.44%", "~52s", "2%"] for line in lines)
    assert any(line.split()[:7] == ["warning", "3d", "6h", "1x", "0.1%", "~4m19s", "10%"] for line in lines)
    assert "error budget 0.1% of events (= 43m12s of total outage)" in result.stdout
    # Tickets run in the period group: explain says how much later that makes them.
    assert (
        "  (tickets and the windows only they read are evaluated every 2m30s, pages every\n"
        "  minute: a ticket may fire up to 1m30s later than that)"
    ) in result.stdout


def test_explain_an_unknown_target_is_exit_2() -> None:
    result = slogen("explain", "api/nope")
    assert result.returncode == 2
    assert "no SLO or alert 'nope' in api" in result.stderr


def test_routing_and_settings_have_schemas_too() -> None:
    routing = json.loads(slogen("schema", "routing").stdout)
    assert set(routing["required"]) == {"version", "receivers", "routes"}
    settings = json.loads(slogen("schema", "settings").stdout)
    assert "grafana" in settings["properties"]


def test_schema_is_json_schema_for_the_spec() -> None:
    result = slogen("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["required"]) == {"version", "service"}
    assert schema["additionalProperties"] is False
    assert "SLO" in schema["$defs"] and "for" in schema["$defs"]["Level"]["properties"]


def test_every_field_of_a_service_file_is_described_in_the_schema() -> None:
    """Editors show these descriptions while a spec is written (issue 10, item 7)."""
    schema = json.loads(slogen("schema").stdout)
    models = [("ServiceFile", schema), *schema["$defs"].items()]
    undescribed = [
        f"{name}.{prop}"
        for name, model in models
        for prop, field in model.get("properties", {}).items()
        if not field.get("description")
    ]
    assert undescribed == []


def test_explain_says_who_gets_each_alert_through_which_route() -> None:
    text = slogen("explain", "api/availability").stdout
    block = text[text.index("routing (slo/alerting.yaml):") :]
    assert "SLOErrorBudgetBurn critical:\n      -> platform-email     via summary" in block
    assert "-> oncall-pager       via routes[0] (severity critical)" in block
    assert "inhibited while a critical alert of api/availability fires" in block


def test_explain_shows_a_service_routing_its_own_alerts() -> None:
    text = slogen("explain", "--spec", str(REPO / "tests/cases/routing/slo"), "checkout/availability").stdout
    assert "-> payments-pager     via the routing of service checkout (critical)" in text
    assert "only in business-hours" in text


# --- no input ends in a traceback (issue 9) -----------------------------------------------


def _slogen_patched(patch: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess after `patch` (Python) has broken something inside
    slogen: how an unexpected error looks to a user, without a test hook in slogen itself."""
    script = f"import sys\n{patch}\nfrom slogen.cli import main\nsys.argv = ['slogen', *sys.argv[1:]]\nmain()\n"
    return subprocess.run(
        [sys.executable, "-c", script, *args], cwd=cwd, capture_output=True, text=True, check=False
    )


BUG = "import slogen.stream\ndef boom(*a, **k):\n    raise ZeroDivisionError('float division by zero')\nslogen.stream.iter_tree = boom"


@pytest.mark.parametrize("command", [["generate"], ["generate", "--check"], ["validate"]])
def test_an_internal_error_is_one_line_and_exit_3(tmp_path: Path, command: list[str]) -> None:
    result = _slogen_patched(BUG, *command, "--spec", str(REPO / "tests/cases/routing/slo"), cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr == (
        f"slogen {command[0]}: internal error: ZeroDivisionError: float division by zero "
        "(this is a bug in slogen, please report it; run `slogen --debug ...` for the stack)\n"
    )
    assert os.listdir(tmp_path) == []


def test_debug_shows_the_stack_of_an_internal_error(tmp_path: Path) -> None:
    result = _slogen_patched(BUG, "--debug", "generate", "--spec", str(REPO / "tests/cases/routing/slo"), cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "in boom" in result.stderr and 'slogen/api.py", line' in result.stderr
    assert result.stderr.splitlines()[-1].startswith("slogen generate: internal error: ZeroDivisionError")


def test_an_interrupt_exits_130_without_a_stack(tmp_path: Path) -> None:
    patch = "import slogen.api\ndef stop(*a, **k):\n    raise KeyboardInterrupt\nslogen.api.load_model = stop"
    result = _slogen_patched(patch, "explain", "api/availability", cwd=tmp_path)
    assert result.returncode == 130
    assert result.stderr == "\nslogen: interrupted\n"


@pytest.mark.parametrize(
    ("patch", "says"),
    [
        (  # a spec file that cannot be read (root reads everything: simulated)
            "import errno, slogen.load\ndef deny(path, display):\n"
            "    raise PermissionError(errno.EACCES, 'Permission denied', display)\n"
            "slogen.load.read_file = deny",
            "slogen generate: Permission denied: ",
        ),
        (  # a spec folder we may read but not enter (click checks only os.R_OK; a glob would see it empty)
            "import os\nreal = os.access\n"
            "os.access = lambda p, m, **k: not (str(p).endswith('slo') and m & os.X_OK) and real(p, m, **k)",
            "slogen generate: Permission denied: cannot list the spec folder: slo\n",
        ),
        (  # a full disk while writing out/
            "import errno, slogen.write\ndef full(root, rel, data):\n"
            "    raise OSError(errno.ENOSPC, 'No space left on device', str(root / rel))\n"
            "slogen.write.write_file = full",
            "slogen: cannot write out: No space left on device (",
        ),
        (  # a read-only file system
            "import errno, slogen.write\ndef ro(root, rel, data):\n"
            "    raise OSError(errno.EROFS, 'Read-only file system', str(root / rel))\n"
            "slogen.write.write_file = ro",
            "slogen: cannot write out: Read-only file system (",
        ),
    ],
)
def test_the_system_refusing_a_read_or_write_is_one_line_and_exit_1(tmp_path: Path, patch: str, says: str) -> None:
    shutil.copytree(REPO / "tests/cases/routing/slo", tmp_path / "slo")
    result = _slogen_patched(patch, "generate", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(says) and len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr and "bug" not in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["slo"]


def test_a_usage_error_is_still_clicks_exit_2() -> None:
    result = slogen("generate", "--nope")
    assert result.returncode == 2
    assert "No such option '--nope'" in result.stderr and "Traceback" not in result.stderr


def test_digest_refuses_a_prometheus_url_that_is_not_http() -> None:
    """It ended in `internal error: ValueError: unknown url type`."""
    result = slogen("digest", "--prometheus", "prometheus:9090")
    assert result.returncode == 2
    assert "Invalid value for '--prometheus': wants an http:// or https:// URL, got 'prometheus:9090'" in result.stderr


def test_digest_into_a_folder_that_does_not_exist_is_one_line_and_exit_1(tmp_path: Path) -> None:
    class EmptyHistory(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"status": "success", "data": {"resultType": "matrix", "result": []}}')

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), EmptyHistory)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        result = slogen("digest", "--prometheus", url, "--at", "1790000040", "--out", str(tmp_path / "no/x.eml"))
    finally:
        server.shutdown()
    assert result.returncode == 1
    assert result.stderr == f"slogen: cannot write {tmp_path / 'no/x.eml'}: No such file or directory\n"


def test_python_dash_m_slogen_runs_the_cli() -> None:
    """The README says `python -m slogen` runs from a checkout as it runs installed."""
    result = subprocess.run([sys.executable, "-m", "slogen", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: slogen [OPTIONS] COMMAND")


def test_explain_of_a_service_and_a_slash_names_the_ids_instead_of_explaining_all() -> None:
    result = slogen("explain", "api/")
    assert result.returncode == 2
    assert result.stderr.startswith("slogen: name an SLO or alert after api/ (known: availability, ")


def test_a_spec_file_given_as_the_spec_folder_is_named_a_file(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text("version: 1\n")
    result = slogen("generate", "--spec", "api.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "api.yaml: is a file: --spec takes the folder of spec files"


def test_generate_says_when_nothing_changed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert slogen("generate", "--out", str(out)).returncode == 0
    again = slogen("generate", "--out", str(out))
    assert again.returncode == 0
    assert again.stdout.startswith(f"{out} is up to date (") and again.stdout.rstrip().endswith("nothing was written")
