"""Raw SLIs get every output the other kinds get: the 5m ratio from their expression,
longer windows and the period from that recording, the meta series, an absent-data alert
on the series the expression reads, and dashboards that validate."""

from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from slogen.promql import expression_selectors, total_selectors

from .conftest import REPO, slogen


def _readme_queue_only() -> str:
    """The README's example service, with its `queue` raw SLO and nothing else."""
    readme = (REPO / "README.md").read_text()
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if b.startswith("# slo/api.yaml"))
    data = yaml.safe_load(block)
    data["slos"] = {"queue": data["slos"]["queue"]}
    data.pop("alerts")
    return yaml.safe_dump(data, sort_keys=False)


def _validate(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo" / "jobs.yaml").write_text(text)
    return slogen("validate", "--spec", "slo", cwd=tmp_path)


def test_a_service_with_only_the_readmes_raw_slo_passes_validate(promtool: str, tmp_path: Path) -> None:
    result = _validate(tmp_path, _readme_queue_only())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dashboards: passed" in result.stdout


SUBQUERY = """\
version: 1
service: jobs
slos:
  smoothed:
    objective: 99%
    raw:
      error_ratio: max_over_time((sum(rate(jobs_failed_total[$window])) / sum(rate(jobs_total[$window])))[$window:1m])
      test:
        erroring: [{series: 'jobs_failed_total', values: '0+50x40'}, {series: 'jobs_total', values: '0+100x40'}]
        healthy:  [{series: 'jobs_failed_total', values: '0+0x40'}, {series: 'jobs_total', values: '0+100x40'}]
"""


def test_a_raw_sli_with_a_subquery_passes_validate(promtool: str, tmp_path: Path) -> None:
    """The expression runs over 5m only, never over the 30-day period."""
    result = _validate(tmp_path, SUBQUERY)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_raw_slis_generated_tests_prove_its_absent_alert(promtool: str, tmp_path: Path) -> None:
    """The generated test fires SLOMetricAbsent with no series and not with them; with
    the rule taken out, that same test fails."""
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo" / "jobs.yaml").write_text(_readme_queue_only())
    assert slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path).returncode == 0
    tests = tmp_path / "out" / "prometheus" / "tests" / "api.queue.test.yaml"
    names = [t["name"] for t in yaml.safe_load(tests.read_text())["tests"]]
    assert "no series at all: SLOMetricAbsent fires for jobs_total" in names
    assert "series present: SLOMetricAbsent stays silent" in names
    run = [promtool, "test", "rules", str(tests)]
    assert subprocess.run(run, capture_output=True, check=False).returncode == 0
    rules_path = tmp_path / "out" / "prometheus" / "rules" / "api.queue.yaml"
    rules = yaml.safe_load(rules_path.read_text())
    for group in rules["groups"]:
        group["rules"] = [r for r in group["rules"] if r.get("alert") != "SLOMetricAbsent"]
    rules_path.write_text(yaml.safe_dump(rules))
    failed = subprocess.run(run, capture_output=True, text=True, check=False)
    assert failed.returncode != 0 and "SLOMetricAbsent" in failed.stdout + failed.stderr


@pytest.mark.parametrize(
    ("expr", "watched"),
    [
        # The denominator is the total: a failure counter may not exist before the first failure.
        ("sum(rate(jobs_failed_total[5m])) / sum(rate(jobs_total[5m]))", ["jobs_total"]),
        ('1 - sum(rate(ok_total{job="q"}[5m])) / sum(rate(all_total{job="q"}[5m]))', ['all_total{job="q"}']),
        ("avg_over_time((sum(rate(bad[1m])) / sum(rate(all[1m])))[5m:1m])", ["all"]),
        # No division: every series it reads, a subquery's and an offset one's too.
        ("max(rate(errors_total[5m])) > bool 0", ["errors_total"]),
        ("rate(a[5m] offset 1h) - rate(b[5m])", ["a", "b"]),
    ],
)
def test_a_raw_slis_absent_alert_watches_the_total_of_its_ratio(expr: str, watched: list[str]) -> None:
    total = total_selectors(expr)
    chosen = total if total else expression_selectors(expr)
    assert [s.render() for s in chosen] == watched


def test_a_raw_slis_windows_and_period_read_recordings_not_its_expression(tmp_path: Path) -> None:
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo" / "jobs.yaml").write_text(textwrap.dedent(SUBQUERY))
    assert slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path).returncode == 0
    groups = yaml.safe_load((tmp_path / "out" / "prometheus" / "rules" / "jobs.smoothed.yaml").read_text())["groups"]
    records = {r["record"]: r["expr"] for g in groups for r in g["rules"] if "record" in r}
    assert sum("jobs_total" in e for e in records.values()) == 1  # the 5m ratio alone
    assert "[5m:1m]" in records["slo:sli_error:ratio_rate5m"]
    assert records["slo:sli_error:ratio_rate1h"].startswith("avg_over_time(slo:sli_error:ratio_rate5m{")
    assert "ratio_rate5m_sum30m" in records["slo:sli_error:ratio_rate30d"]
    assert "slo:current_burn_rate:ratio" in records
