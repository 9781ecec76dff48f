"""vmalert 1.79 beside Prometheus: every generated rule file passes `vmalert -dryRun`, and
the differences of the engines that the README documents are shown here on the real
servers (tests/harness_vm.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .conftest import REPO
from .harness import wait_until
from .harness_vm import (
    import_openmetrics,
    notifier_sink,
    victoria_metrics,
    vm_binary,
    vmalert,
    vmalert_alerts,
    vmalert_evaluated_after,
)

RULE_FOLDERS = sorted(p for p in REPO.glob("tests/cases/*/out/prometheus/rules")) + [REPO / "out/prometheus/rules"]


@pytest.mark.parametrize("rules", RULE_FOLDERS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_generated_rule_file_passes_vmalert_dry_run(rules: Path) -> None:
    import subprocess

    files = sorted(rules.glob("*.yaml"))
    assert files
    result = subprocess.run(
        [vm_binary("vmalert"), "-dryRun", *(f"-rule={f}" for f in files)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_vmalert_dry_run_rejects_what_it_cannot_load(tmp_path: Path) -> None:
    import subprocess

    bad = tmp_path / "bad.yaml"
    bad.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    keep_firing_for: 5m\n")
    result = subprocess.run([vm_binary("vmalert"), "-dryRun", f"-rule={bad}"], capture_output=True, text=True)
    assert result.returncode != 0
    assert "unknown fields in rule: keep_firing_for" in result.stdout + result.stderr


# Two alerts of one name told apart by severity, as slogen writes its multi-window burn
# alerts; and one whose expression keeps the metric name, one that drops it.
RESTORE_RULES = """groups:
- name: restore
  rules:
  - alert: KeepsName
    expr: queue_depth > 10
    for: 30m
  - alert: DropsName
    expr: queue_depth * 1 > 10
    for: 30m
  - alert: Twice
    expr: queue_depth > 10
    for: 30m
    labels:
      severity: critical
  - alert: Twice
    expr: queue_depth > 5
    for: 45m
    labels:
      severity: warning
"""


@pytest.mark.e2e
def test_vmalert_restores_the_for_state_prometheus_would_restore(tmp_path: Path) -> None:
    """Every alert has been pending for 40 minutes (ALERTS_FOR_STATE as written before a
    restart, read back through -remoteRead.url): those with a `for` of 30m fire at the
    first evaluation that can judge them, the one of 45m stays pending, as on Prometheus.
    vmalert 1.79 queries the state by alertname alone, so the two `Twice` rules each read
    both states: that must not mix them up."""
    now = int(time.time())
    active_at = now - 40 * 60
    lines = []
    for t in range(now - 3600, now + 1, 30):
        lines.append(f'queue_depth{{job="q"}} 50 {t}')
        if t >= active_at:
            for name, severity in (("KeepsName", ""), ("DropsName", ""), ("Twice", "critical"), ("Twice", "warning")):
                labels = f'alertname="{name}",job="q"' + (f',severity="{severity}"' if severity else "")
                lines.append(f"ALERTS_FOR_STATE{{{labels}}} {active_at} {t}")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules/restore.yaml").write_text(RESTORE_RULES)
    with victoria_metrics(tmp_path) as vm:
        import_openmetrics(vm, "\n".join(lines))
        with notifier_sink() as sink, vmalert(tmp_path, tmp_path / "rules", vm, sink) as alerts:
            for _ in range(2):  # restored before the first evaluation, judged by it
                since = time.time()
                wait_until(lambda t=since: vmalert_evaluated_after(alerts, t), 60, "an evaluation", alerts)
            states = sorted((a["alertname"], a.get("severity", ""), a["state"]) for a in vmalert_alerts(alerts))
    assert states == [
        ("DropsName", "", "firing"),
        ("KeepsName", "", "firing"),
        ("Twice", "critical", "firing"),
        ("Twice", "warning", "pending"),
    ]
