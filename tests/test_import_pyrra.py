"""`slogen import pyrra`: Pyrra's ServiceLevelObjectives as slogen specs.

Fixtures under tests/imports/pyrra/ are our own documents shaped like Pyrra's examples
(github.com/pyrra-dev/pyrra: examples/, kubernetes/api/v1alpha1/servicelevelobjective_types.go).
Each import case has `in/` (the Pyrra files), `slo/` (the slogen specs it must write) and
`warnings.txt` (its exact stderr); each refusal under errors/ has `in.yaml` and `expected.txt`.
"""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from slogen.importers import pyrra_alerting
from slogen.quantity import parse_duration

from .conftest import slogen, snapshot

CASES = Path(__file__).parent / "imports" / "pyrra"
IMPORTS = ["search", "edges"]
ERRORS = sorted(p.name for p in (CASES / "errors").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", IMPORTS)
def test_an_import_writes_the_expected_specs_and_warnings(tmp_path: Path, case: str) -> None:
    result = slogen("import", "pyrra", f"{case}/in", "--out", str(tmp_path / "slo"), cwd=CASES)
    assert result.returncode == 0, result.stderr
    assert result.stderr == (CASES / case / "warnings.txt").read_text()
    assert snapshot(tmp_path / "slo") == snapshot(CASES / case / "slo")


@pytest.mark.parametrize("case", IMPORTS)
def test_the_imported_specs_pass_promtool_and_their_own_tests(tmp_path: Path, case: str, promtool: str) -> None:
    result = slogen("validate", "--spec", str(CASES / case / "slo"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "promtool test rules: passed" in result.stdout


@pytest.mark.parametrize("name", ERRORS)
def test_a_refusal_names_file_line_and_field_and_writes_nothing(tmp_path: Path, name: str) -> None:
    out = tmp_path / "slo"
    result = slogen("import", "pyrra", f"errors/{name}/in.yaml", "--out", str(out), cwd=CASES)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr == (CASES / "errors" / name / "expected.txt").read_text()
    assert not out.exists()


def test_an_existing_spec_is_not_overwritten_without_force(tmp_path: Path) -> None:
    out = tmp_path / "slo"
    out.mkdir()
    (out / "search.yaml").write_text("# ours\n")
    result = slogen("import", "pyrra", "search/in", "--out", str(out), cwd=CASES)
    assert result.returncode == 2
    assert (out / "search.yaml").read_text() == "# ours\n"
    assert sorted(p.name for p in out.iterdir()) == ["search.yaml"]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        # Pyrra's table for 28 days, as its comments give it: (for, long, short, factor).
        ("28d", [("2m", "1h", "5m", 14), ("15m", "6h", "30m", 7), ("1h", "1d", "2h", 2), ("3h", "4d", "6h", 1)]),
        # 30d / 20160 = 128.57s rounds to 2m; 30d / 2688 = 16m4s to 16m; 30d / 1344 = 32m8s to 32m.
        (
            "30d",
            [
                ("2m", "1h4m", "5m", 14),
                ("16m", "6h26m", "32m", 7),
                ("1h4m", "1d1h43m", "2h9m", 2),
                ("3h13m", "4d6h51m", "6h26m", 1),
            ],
        ),
        # 7d: 7d / 20160 = 30s exactly, a half: Go rounds it away from zero, to 1m.
        ("7d", [("1m", "15m", "1m", 14), ("4m", "1h30m", "8m", 7), ("15m", "6h", "30m", 2), ("45m", "1d", "1h30m", 1)]),
    ],
)
def test_pyrra_windows_are_its_28_day_table_scaled_and_rounded_as_go_does(
    window: str, expected: list[tuple[str, str, str, int]]
) -> None:
    got = [(w.for_ms, w.long_ms, w.short_ms, w.factor) for w in pyrra_alerting.windows(parse_duration(window))]
    assert got == [(parse_duration(f), parse_duration(lo), parse_duration(sh), k) for f, lo, sh, k in expected]


def test_the_absent_alert_waits_as_pyrra_s_does() -> None:
    # AbsentDuration(): 14 x 0.5% of the 1h long window (252s) plus the 2m for: 6m12s, to 6m.
    assert pyrra_alerting.absent_for_ms(parse_duration("28d"), Decimal("99.5")) == parse_duration("6m")
    # 14 x 0.1% of 1h is 50.4s, truncated to 50s, plus 2m: 2m50s, to 3m.
    assert pyrra_alerting.absent_for_ms(parse_duration("28d"), Decimal("99.9")) == parse_duration("3m")


# --- the imported alerts fire where Pyrra's do ------------------------------------------

ERRORS_SELECTOR = 'http_requests_total{job="search",code=~"5.."}'
TOTAL_SELECTOR = 'http_requests_total{job="search"}'
PER_MINUTE = 100_000  # requests a minute: every error ratio below is a whole number of errors
EVAL = "4h"  # past every `for` of both (Pyrra's longest is 3h at 28 days)


def _pyrra_doc(window: str, target: str) -> str:
    return f"""apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {{name: requests, namespace: search}}
spec:
  target: "{target}"
  window: {window}
  indicator:
    ratio:
      errors: {{metric: '{ERRORS_SELECTOR}'}}
      total: {{metric: '{TOTAL_SELECTOR}'}}
"""


def pyrra_rules(window_ms: int, target: str) -> dict[str, Any]:
    """The rules Pyrra's slo/rules.go Burnrates() writes for this SLO: a burn-rate
    recording per window, `http_requests:burnrate<w>`, and one alert per window,
    `short > (F * (1-T)) and long > (F * (1-T))` with its own `for` and severity."""
    from slogen.quantity import format_duration

    ws = pyrra_alerting.windows(window_ms)
    durations = sorted({d for w in ws for d in (w.short_ms, w.long_ms)})
    t = str(Decimal(target) / 100)
    rules: list[dict[str, Any]] = [
        {
            "record": f"http_requests:burnrate{format_duration(d)}",
            "expr": f"sum(rate({ERRORS_SELECTOR}[{format_duration(d)}])) / sum(rate({TOTAL_SELECTOR}[{format_duration(d)}]))",
            "labels": {"job": "search", "slo": "requests"},
        }
        for d in durations
    ]
    for w in ws:
        short, long = format_duration(w.short_ms), format_duration(w.long_ms)
        sel = '{job="search",slo="requests"}'
        rules.append(
            {
                "alert": "ErrorBudgetBurn",
                "expr": f"http_requests:burnrate{short}{sel} > ({w.factor} * (1-{t})) and http_requests:burnrate{long}{sel} > ({w.factor} * (1-{t}))",
                "for": format_duration(w.for_ms),
                "labels": {"severity": w.severity, "slo": "requests", "short": short, "long": long},
            }
        )
    return {"groups": [{"name": "requests", "interval": "30s", "rules": rules}]}


def scenarios(budget: Decimal) -> list[tuple[str, int, list[str]]]:
    """(name, errors a minute, severities that fire): a steady error ratio at 1.1x and
    0.9x of each of Pyrra's factors; what fires is what Pyrra's table says."""
    out = []
    for factor in (14, 7, 2, 1):
        for scale in (Decimal("1.1"), Decimal("0.9")):
            ratio = scale * factor * budget
            errors = ratio * PER_MINUTE
            assert errors == errors.to_integral_value()
            severities = sorted({sev for sev, _, _, _, f in pyrra_alerting.TABLE if ratio > f * budget})
            out.append((f"{scale}x of {factor}", int(errors), severities))
    return out


def _test_file(rule_file: Path, order: list[str], budget: Decimal) -> dict[str, Any]:
    minutes = parse_duration(EVAL) // 60_000 + 10
    tests = []
    for name, errors, severities in scenarios(budget):
        good = PER_MINUTE - errors
        tests.append(
            {
                "name": name,
                "interval": "1m",
                "input_series": [
                    {"series": 'http_requests_total{job="search",code="500"}', "values": f"0+{errors}x{minutes}"},
                    {"series": 'http_requests_total{job="search",code="200"}', "values": f"0+{good}x{minutes}"},
                ],
                "promql_expr_test": [
                    {
                        "expr": 'group by (severity) (ALERTS{alertname="ErrorBudgetBurn", alertstate="firing"})',
                        "eval_time": EVAL,
                        "exp_samples": [{"labels": f'{{severity="{s}"}}', "value": 1} for s in severities],
                    }
                ],
            }
        )
    return {"rule_files": [str(rule_file)], "evaluation_interval": "1m", "group_eval_order": order, "tests": tests}


@pytest.mark.parametrize(("window", "target"), [("4w", "99.5"), ("7d", "99.9")])
def test_imported_alerts_fire_in_the_same_scenarios_as_pyrra_s(
    tmp_path: Path, window: str, target: str, promtool: str
) -> None:
    (tmp_path / "pyrra.yaml").write_text(_pyrra_doc(window, target))
    assert slogen("import", "pyrra", "pyrra.yaml", "--out", "slo", cwd=tmp_path).returncode == 0
    generated = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    ours = tmp_path / "out" / "prometheus" / "rules" / "search.requests.yaml"
    order = yaml.safe_load((tmp_path / "out" / "prometheus" / "tests" / "search.requests.test.yaml").read_text())[
        "group_eval_order"
    ]
    theirs = tmp_path / "pyrra-rules.yaml"
    theirs.write_text(yaml.safe_dump(pyrra_rules(parse_duration(window), target), sort_keys=False))
    budget = 1 - Decimal(target) / 100
    assert [s for _, _, s in scenarios(budget)][-1] == [], "0.9x of the slowest factor fires nothing"
    for rules, groups in ((theirs, ["requests"]), (ours, order)):
        test = tmp_path / f"{rules.stem}.test.yaml"
        test.write_text(yaml.safe_dump(_test_file(rules, groups, budget), sort_keys=False))
        run = subprocess.run([promtool, "test", "rules", str(test)], capture_output=True, text=True, check=False)
        assert run.returncode == 0, f"{rules.name}:\n{run.stdout}{run.stderr}"
