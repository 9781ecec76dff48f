"""`slogen backtest` without a server: Prometheus' alert states over evaluations, the
inlining of recorded series, the window and the report. Against Prometheus itself:
tests/test_backtest_e2e.py."""

from __future__ import annotations

from pathlib import Path

import promql_parser
import pytest

from slogen import api
from slogen import backtest as bt
from slogen.backtest_rules import replayed_alerts
from slogen.builders.rules import build_rule_files
from slogen.promql import expression_selectors

from .conftest import PLAN, REPO, slogen

CASE = REPO / "tests" / "cases" / "backtest"


@pytest.mark.parametrize(
    ("times", "hold", "expected"),
    [
        ([0, 5, 10], 0, [(0, 15)]),  # no hold: fires at the first evaluation, resolves at the first without
        ([0, 5, 10, 15], 10, [(10, 20)]),  # fires once the series was returned for the whole hold
        ([0, 5, 10], 15, []),  # pending for 10s of a 15s hold: forgotten, never fired
        ([0, 5, 10, 15], 15, [(15, 20)]),  # exactly the hold
        ([0, 5, 10, 15], 12, [(15, 20)]),  # a hold between evaluations waits for the next
        ([0, 5, 20, 25, 30], 0, [(0, 10), (20, 35)]),  # a missed evaluation resolves it
        ([0, 5, 20, 25, 30], 5, [(5, 10), (25, 35)]),  # and the hold starts again
        ([90, 95, 100], 0, [(90, None)]),  # returned at the last evaluation: still firing
    ],
)
def test_alert_states_follow_prometheus(times: list[float], hold: float, expected: list[tuple[float, float]]) -> None:
    assert bt.firings_of([float(t) for t in times], hold, 5.0, 100.0) == expected


def test_every_alert_of_the_plan_is_replayed_from_raw_series_only() -> None:
    model = api.load_model(api.Options(spec_dir=PLAN / "slo"))
    alerts = replayed_alerts(model, 60.0)
    rules = [r for f in build_rule_files(model).values() for g in f["groups"] for r in g["rules"] if "alert" in r]
    assert [(a.alert, a.labels) for a in alerts] == [(r["alert"], r["labels"]) for r in rules]
    for alert in alerts:
        promql_parser.parse(alert.expr)
        assert all(":" not in s.metric for s in expression_selectors(alert.expr)), alert.expr
    kinds = {a.kind for a in alerts}
    assert kinds == {"burn", "threshold", "absent"}
    assert max(a.for_s for a in alerts) == 15 * 60


def test_a_recorded_range_becomes_a_subquery_at_its_groups_interval() -> None:
    model = api.load_model(api.Options(spec_dir=PLAN / "slo"))
    ticket = next(
        a for a in replayed_alerts(model, 60.0, "api") if a.slo == "availability" and a.labels["severity"] == "warning"
    )
    # the 3d window sums the 30m sums (a group every 30m) of the 5m rates (every minute)
    assert ")[3d:30m]" in ticket.expr and ")[30m:1m]" in ticket.expr and ")[1d:1m]" in ticket.expr
    # the labels a recording adds are added back
    assert "label_replace(" in ticket.expr and '"slo",\n' in ticket.expr


def test_the_evaluation_interval_of_groups_without_one_is_the_options() -> None:
    model = api.load_model(api.Options(spec_dir=CASE / "slo"))
    alerts = replayed_alerts(model, 5.0)
    # the pages' group sets no interval; tickets and the absent-data alert are in the period group
    assert {(a.kind, a.labels["severity"], a.interval_s) for a in alerts} >= {("burn", "critical", 5.0), ("burn", "warning", 150.0), ("absent", "warning", 150.0)}
    page = next(a for a in alerts if a.kind == "burn" and a.labels["severity"] == "critical")
    assert ")[10m:5s]" in page.expr and page.for_s == 20


def test_the_report_sums_each_alert() -> None:
    entry = {
        "alert": "QueueDepth",
        "labels": {"owner": "payments", "service": "ledger", "severity": "warning", "slo": "queue-depth"},
        "severity": "warning",
        "firings": [{"start": 100, "end": 160}, {"start": 1000, "end": 1120}, {"start": 86_000, "end": None}],
    }
    summary = bt.summarize(entry, 0, 86_400)
    assert summary == bt.Summary(3, 60 + 120 + 400, 21.0, 120, 400)
    text = bt.table([entry], 0, 86_400)
    assert text.splitlines()[1].split() == [
        "QueueDepth",
        "warning",
        "service=ledger,slo=queue-depth",
        "3",
        "9m40s",
        "21.0",
        "2m",
        "6m40s",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "--days wants a number of days above 0 and at most 366, got 0"),
        (["--from", "200", "--to", "100"], "--from must be before --to"),
        (["--from", "100", "--days", "1"], "give either --from (and --to) or --days, not both"),
        (["--from", "yesterday"], "--from wants RFC 3339 (2026-01-31T08:00:00Z) or unix seconds, got 'yesterday'"),
        (["--to", "2026-01-01T00:00:00"], "--to needs a time zone (such as Z), got '2026-01-01T00:00:00'"),
        (["--to", "4000000000"], "--to is in the future: there is no history to replay there yet"),
        (["--evaluation-interval", "soon"], "not a duration: 'soon' (use Prometheus units such as 5m, 1h30m, 30d)"),
        (
            ["--prometheus", "localhost:9090"],
            "the Prometheus URL must be http(s)://host[:port][/path], got 'localhost:9090'",
        ),
    ],
)
def test_bad_flags_exit_2_with_a_sentence(args: list[str], message: str) -> None:
    base = ["--prometheus", "http://127.0.0.1:9"] if "--prometheus" not in args else []
    result = slogen("backtest", "--spec", str(CASE / "slo"), *base, *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"slogen backtest: {message}\n"
    assert result.stdout == ""


def test_a_bad_spec_is_reported_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo" / "api.yaml").write_text("version: 1\nservice: api\nslos:\n  a:\n    objective: 120%\n")
    result = slogen("backtest", "--spec", "slo", "--prometheus", "http://127.0.0.1:9", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("slo/api.yaml:5: slos.a.objective: ")
