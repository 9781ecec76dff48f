"""vmalert 1.79 beside Prometheus: every generated rule file passes `vmalert -dryRun`, and
the differences of the engines that the README documents are shown here on the real
servers (tests/harness_vm.py)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import REPO
from .harness import Server, wait_until
from .harness_vm import (
    import_openmetrics,
    notifier_sink,
    victoria_metrics,
    vm_binary,
    vmalert,
    vmalert_alerts,
    vmalert_evaluated_after,
)

RULE_FOLDERS = sorted(REPO.glob("tests/cases/*/out/prometheus/rules"))  # the plan and every golden case


@pytest.mark.parametrize("rules", RULE_FOLDERS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_generated_rule_file_passes_vmalert_dry_run(rules: Path) -> None:
    files = sorted(rules.glob("*.yaml"))
    assert files
    result = subprocess.run(
        [vm_binary("vmalert"), "-dryRun", *(f"-rule={f}" for f in files)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_vmalert_dry_run_rejects_what_it_cannot_load(tmp_path: Path) -> None:
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


# The expression forms the generated rules use, each read at one instant on both engines
# over the same samples (scraped every 15s, the last 7s before that instant).
FORMS = {
    "ratio of rates": 'sum(rate(req_total{job="a", code="500"}[5m])) / sum(rate(req_total{job="a"}[5m]))',
    "bad events or zero": '(sum(rate(req_total{job="a", code="503"}[5m])) or vector(0))',
    "histogram quantile": 'histogram_quantile(0.95, sum by (le) (rate(lat_bucket{job="a"}[5m])))',
    "probe": 'sum(count_over_time(probe_success{job="a"}[5m]) * (1 - clamp(avg_over_time(probe_success{job="a"}[5m]), 0, 1))) / 300',
    "window of recordings": 'sum_over_time(ratio{job="a"}[30m]) / count_over_time(ratio{job="a"}[30m])',
    "absent": 'absent(missing{job="a"}) or absent(req_total{job="a"})',
    "age": 'time() - max(last_success{job="a"})',
    "threshold": 'gauge{job="a"} / (cap{job="a"} > 0) >= 0.9',
}


def _history(now: int) -> str:
    lines = []
    for i, t in enumerate(range(now - 3600, now + 1, 15)):
        lines += [
            f'req_total{{job="a",code="200"}} {i * 150} {t}',
            f'req_total{{job="a",code="500"}} {i * 3} {t}',
            f'lat_bucket{{job="a",le="0.1"}} {i * 100} {t}',
            f'lat_bucket{{job="a",le="0.5"}} {i * 140} {t}',
            f'lat_bucket{{job="a",le="+Inf"}} {i * 150} {t}',
            f'probe_success{{job="a"}} {0 if i % 10 == 0 else 1} {t}',
            f'ratio{{job="a"}} {0.001 * (i % 7)} {t}',
            f'last_success{{job="a"}} {now - 600} {t}',
            f'gauge{{job="a"}} 95 {t}',
            f'cap{{job="a"}} 100 {t}',
        ]
    return "# TYPE x gauge\n" + "\n".join(lines) + "\n"


@pytest.mark.e2e
def test_the_expression_forms_of_the_rules_agree_on_both_engines(tmp_path: Path) -> None:
    """Same samples, same instant: PromQL and MetricsQL give the same series and values.
    PromQL's rate extrapolates to the edges of its range and MetricsQL's does not, but the
    rules only divide rates over one range by each other, which cancels it."""
    import urllib.parse

    from .harness import backfill, prometheus

    now = int(time.time()) // 15 * 15 - 60
    at = now + 7  # an evaluation is not aligned with the scrapes
    history = _history(now)

    def answers(server: Server) -> dict[str, dict[str, float]]:
        out = {}
        for name, expr in FORMS.items():
            query = urllib.parse.urlencode({"query": expr, "time": at})
            result = server.get("/api/v1/query?" + query)["data"]["result"]
            out[name] = {json.dumps(r["metric"], sort_keys=True): float(r["value"][1]) for r in result}
        return out

    backfill(history.replace("# TYPE x gauge\n", ""), tmp_path / "prom-data", tmp_path)
    with prometheus(tmp_path / "prom", data_dir=tmp_path / "prom-data") as prom:
        on_prometheus = answers(prom)
    with victoria_metrics(tmp_path / "vm") as vm:
        import_openmetrics(vm, history)
        on_vm = answers(vm)
    for name in FORMS:
        assert on_prometheus[name], name  # every form has an answer to compare
        assert on_vm[name].keys() == on_prometheus[name].keys(), name
        for key, value in on_prometheus[name].items():
            assert on_vm[name][key] == pytest.approx(value, rel=1e-9), (name, key)


def test_a_missing_victoria_metrics_binary_fails_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(AssertionError, match=r"vmalert is not installed: .*apt-get install victoria-metrics"):
        vm_binary("vmalert")
