"""Dashboards that stay usable at scale: past DASHBOARD_SLO_ROWS_MAX SLOs a service
dashboard is a table of every SLO and one row repeated over the `slo` variable, its size
bounded whatever the SLO count; at or below it, a row per SLO as before. The golden case
tests/cases/many-slos is a service just over the bound."""

from __future__ import annotations

import json
import re
import shutil
import urllib.parse
from pathlib import Path
from typing import Any

import orjson
import promql_parser
import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as models

from slogen import api
from slogen import conventions as c
from slogen.builders.dashboards import build_dashboards

from .conftest import REPO
from .harness import LOOPBACK, Server, counter_exporter, prometheus, wait_until

CASE = REPO / "tests/cases/many-slos"
BOARD = CASE / "out/grafana/payments.json"
NETWORKS = ("visa", "mastercard", "amex", "discover", "jcb", "unionpay")
OPERATIONS = ("authorize", "capture", "refund")
IDS = sorted([f"{n}-{op}" for n in NETWORKS for op in OPERATIONS] + ["authorize-latency", "webhooks", "settlement"])


def board() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(BOARD.read_text())
    return data


def spec(slos: int, alerts: int = 0) -> str:
    """A service of `slos` ratio SLOs (and `alerts` threshold alerts), as a team writes them."""
    lines = ["version: 1", "service: fleet", "owner: infra", "slos:"]
    for i in range(slos):
        lines += [
            f"  endpoint-{i}:",
            "    objective: 99.9%",
            "    ratio:",
            f'      bad: http_requests_total{{job="fleet", route="/r{i}", code=~"5.."}}',
            f'      total: http_requests_total{{job="fleet", route="/r{i}"}}',
        ]
    lines += ["alerts:"] if alerts else []
    for i in range(alerts):
        lines += [f"  errors-{i}:", f"    ratio_of: endpoint-{i}", "    critical: {above: 5%, for: 5m}"]
    return "\n".join(lines) + "\n"


def dashboards_of(tmp_path: Path, slos: int, alerts: int = 0) -> dict[str, dict[str, Any]]:
    folder = tmp_path / f"{slos}-{alerts}" / "slo"
    folder.mkdir(parents=True)
    (folder / "fleet.yaml").write_text(spec(slos, alerts))
    model = api.load_model(api.Options(spec_dir=folder, out_dir=tmp_path / "out", templates=None))
    return build_dashboards(model)


def size(data: dict[str, Any]) -> int:
    """Bytes as written to out/ (write.py: indented JSON)."""
    return len(json.dumps(data, indent=2).encode())


def test_a_service_at_the_bound_keeps_a_row_per_slo(tmp_path: Path) -> None:
    panels = dashboards_of(tmp_path, c.DASHBOARD_SLO_ROWS_MAX)["grafana/fleet.json"]["panels"]
    rows = [p["title"] for p in panels if p["type"] == "row"]
    assert len(rows) == c.DASHBOARD_SLO_ROWS_MAX
    assert not [p for p in panels if "repeat" in p]


def test_a_service_just_over_the_bound_gets_a_table_and_one_repeated_row() -> None:
    data = board()
    rows = [p for p in data["panels"] if p["type"] == "row"]
    assert [(r["title"], r.get("repeat")) for r in rows] == [("SLO $slo", "slo"), ("Threshold alerts", None)]
    table = data["panels"][0]
    assert table["type"] == "table" and table["title"].startswith("Every SLO of payments (21)")
    assert table["fieldConfig"]["defaults"]["links"][0]["url"].startswith(
        "/d/slo-payments?var-slo=${__data.fields.slo}"  # the case sets no grafana_url: relative
    )
    variable = next(v for v in data["templating"]["list"] if v["name"] == "slo")
    # No "All": it would repeat the row for every SLO, the size the repetition avoids.
    assert variable["multi"] is True and variable["includeAll"] is False
    assert variable["query"] == 'label_values(slo:sli_error:ratio_rate5m{service="payments"}, slo)'
    repeated = [p for p in data["panels"] if p["type"] != "row" and 12 < p["gridPos"]["y"] < rows[1]["gridPos"]["y"]]
    assert all('slo=~"$slo"' in t["expr"] for p in repeated for t in p["targets"])


def test_every_slo_of_the_service_is_a_value_of_the_variable() -> None:
    """The variable reads its values from a series: every SLO of the spec records it."""
    query = next(v for v in board()["templating"]["list"] if v["name"] == "slo")["query"]
    selector = re.fullmatch(r"label_values\((.+), slo\)", query)
    assert selector
    parsed = promql_parser.parse(selector.group(1))
    assert isinstance(parsed, promql_parser.VectorSelector)
    recorded = set()
    for path in (CASE / "out/prometheus/rules").glob("*.yaml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if rule.get("record") == parsed.name and rule["labels"]["service"] == "payments":
                    recorded.add(rule["labels"]["slo"])
    assert sorted(recorded) == IDS


def test_every_query_of_the_bounded_dashboard_is_valid_promql() -> None:
    exprs = [t["expr"] for p in board()["panels"] for t in p.get("targets", [])]
    assert len(exprs) == 20  # 5 table columns, 6 stats, 8 graph lines, 1 threshold alert
    for expr in exprs:
        # Grafana puts one SLO id in $slo inside each repetition of the row.
        promql_parser.parse(expr.replace("$slo", "visa-authorize"))


def test_the_dashboard_of_3000_slos_is_as_small_as_that_of_21(tmp_path: Path) -> None:
    """The bound: past DASHBOARD_SLO_ROWS_MAX SLOs the service dashboard's size does not
    depend on the SLO count (only the digits of the count in the table's title), where
    a row per SLO wrote 52 MB for 3,000. Threshold alerts still add a panel each."""
    big = dashboards_of(tmp_path, 3000)
    small = dashboards_of(tmp_path, c.DASHBOARD_SLO_ROWS_MAX + 1)
    board_big, board_small = big["grafana/fleet.json"], small["grafana/fleet.json"]
    assert size(board_big) < 30_000
    assert 0 <= size(board_big) - size(board_small) <= 2  # "(3000)" against "(21)"
    assert len(board_big["panels"]) == len(board_small["panels"]) == 12
    # The overview does not grow with the SLO count either: its table scrolls.
    assert size(big["grafana/overview.json"]) == size(small["grafana/overview.json"])


def test_threshold_alerts_add_a_panel_each(tmp_path: Path) -> None:
    plain = dashboards_of(tmp_path, 30)["grafana/fleet.json"]
    with_alerts = dashboards_of(tmp_path, 30, alerts=10)["grafana/fleet.json"]
    assert len(with_alerts["panels"]) - len(plain["panels"]) == 11  # the row and 10 panels
    per_alert = (size(with_alerts) - size(plain)) / 10
    assert 1_000 < per_alert < 3_000


# --- on a real Prometheus -----------------------------------------------------------------


def _rates() -> dict[str, float]:
    """Counters for every SLI of the case: healthy traffic with a few errors."""
    rates = {}
    for network in NETWORKS:
        for op in OPERATIONS:
            labels = f'job="payments", network="{network}", op="{op}"'
            rates[f"payments_network_calls_total{{{labels}, outcome=\"ok\"}}"] = 10.0
            rates[f"payments_network_calls_total{{{labels}, outcome=\"error\"}}"] = 0.01
    for region in ("eu", "us"):
        for le, share in (("0.25", 0.6), ("0.5", 0.8), ("1", 0.95), ("2", 0.995), ("5", 1.0), ("+Inf", 1.0)):
            rates[f'payments_authorize_seconds_bucket{{job="payments", region="{region}", le="{le}"}}'] = 5 * share
    rates['payments_webhooks_delivered_total{job="payments", attempt="1"}'] = 2.0
    rates['payments_webhooks_total{job="payments"}'] = 2.0
    rates['payments_settlement_mismatches_total{job="payments"}'] = 0.0
    rates['payments_settlement_batches_total{job="payments"}'] = 1.0
    return rates


def _query(server: Server, expr: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = server.get("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))["data"][
        "result"
    ]
    return result


def _repeated_queries(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["title"], t["expr"]) for p in data["panels"] for t in p.get("targets", []) if "$slo" in t["expr"]]


@pytest.mark.e2e
def test_the_bounded_dashboard_answers_for_every_slo_on_a_real_prometheus(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(CASE / "out/prometheus/rules", rules)
    for path in rules.glob("*.yaml"):  # the slow groups every second: the expressions are untouched
        path.write_text(re.sub(r"^  interval: \S+$", "  interval: 1s", path.read_text(), flags=re.M))
    data = board()
    with counter_exporter(_rates()) as port:
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules / "*.yaml")],
            "scrape_configs": [{"job_name": "payments", "honor_labels": True, "static_configs": [{"targets": [f"{LOOPBACK}:{port}"]}]}],
        }
        with prometheus(tmp_path, config) as server:
            source = next(v for v in data["templating"]["list"] if v["name"] == "slo")["query"][13:-6]

            def every_slo_is_a_value() -> bool:
                answer = server.get("/api/v1/series?" + urllib.parse.urlencode({"match[]": source}))["data"]
                return sorted({s["slo"] for s in answer}) == IDS

            wait_until(every_slo_is_a_value, 120, "every SLO among the slo variable's values", server)
            table = [t["expr"] for t in data["panels"][0]["targets"]]

            def table_lists_every_slo() -> bool:
                return all(sorted({r["metric"]["slo"] for r in _query(server, e)}) == IDS for e in table)

            wait_until(table_lists_every_slo, 120, "a table row for every SLO in every column", server)
            expected = [("settlement", "Traffic and errors (5m rate)")] * 2  # a raw SLI records no event rates

            def empty_panels() -> list[tuple[str, str]]:
                return [
                    (slo, title)
                    for slo in IDS
                    for title, expr in _repeated_queries(data)
                    if not _query(server, expr.replace("$slo", slo))
                ]

            wait_until(lambda: empty_panels() == expected, 120, "every panel of the row to answer for every SLO", server)
            assert empty_panels() == expected


def test_the_bounded_dashboard_reads_back_into_grafanas_own_model_unchanged() -> None:
    """grafana-foundation-sdk's dashboard model (generated from Grafana's schemas) reads
    the file, repeated row included, and writes back the same data."""
    data = board()
    parsed = models.Dashboard.from_json(data)
    assert isinstance(parsed.panels[1], models.RowPanel) and parsed.panels[1].repeat == "slo"
    assert orjson.loads(orjson.dumps(parsed, default=JSONEncoder().default)) == data
