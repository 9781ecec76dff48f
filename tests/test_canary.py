"""Canary analysis (issue 13, item 2): the delivery case's AnalysisTemplates and Flagger
MetricTemplates, checked against the published schemas and, on a real Prometheus with a
stable version and canaries beside it, passing a healthy canary and failing one with 5%
errors by their own generated conditions."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from slogen.check_canary import substitute
from slogen.promapi import Client

from .conftest import REPO, slogen
from .harness import backfill, binary, prometheus

CASE = REPO / "tests" / "cases" / "delivery"
OUT = CASE / "out"
K8S = REPO / "tests" / "k8s"


def load(rel: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((OUT / rel).read_text())
    return data


def test_an_analysis_template_per_service_with_a_metric_per_splittable_slo() -> None:
    payments = load("argo-rollouts/payments.yaml")
    assert payments["spec"]["args"] == [{"name": "canary"}]
    metrics = {m["name"]: m for m in payments["spec"]["metrics"]}
    assert sorted(metrics) == ["availability", "method-availability"]
    availability = metrics["availability"]
    # the lowest page factor of a 30-day SLO's tiers is 6 (the 6h/30m page)
    assert availability["successCondition"] == "len(result) > 0 && result[0] <= 6"
    assert availability["failureCondition"] == "len(result) > 0 && result[0] > 6"
    query = availability["provider"]["prometheus"]["query"]
    assert query.count('rollouts_pod_template_hash="{{args.canary}}"') == 2
    assert query.endswith(") / 0.001")
    # ledger's raw SLI cannot be split per version: only its ratio SLO gets a metric
    ledger = load("argo-rollouts/ledger.yaml")
    assert [m["name"] for m in ledger["spec"]["metrics"]] == ["availability"]
    assert ledger["spec"]["metrics"][0]["successCondition"] == "len(result) > 0 && result[0] <= 2"  # max_burn_rate


def test_flagger_gets_a_metric_template_per_slo_and_the_canary_snippet() -> None:
    files = sorted(p.relative_to(OUT).as_posix() for p in (OUT / "flagger").rglob("*.yaml"))
    assert files == [
        "flagger/ledger/analysis.yaml",
        "flagger/ledger/availability.yaml",
        "flagger/payments/analysis.yaml",
        "flagger/payments/availability.yaml",
        "flagger/payments/method-availability.yaml",
    ]
    template = load("flagger/ledger/availability.yaml")
    assert template["metadata"] == {"name": "ledger-availability", "namespace": "flagger-system"}
    assert template["spec"]["provider"] == {
        "type": "prometheus",
        "address": "http://prometheus-operated.monitoring.svc:9090",
    }
    assert 'app="{{ target }}"' in template["spec"]["query"] and "[{{ interval }}]" in template["spec"]["query"]
    assert load("flagger/ledger/analysis.yaml") == {
        "metrics": [
            {
                "name": "availability",
                "templateRef": {"name": "ledger-availability", "namespace": "flagger-system"},
                "thresholdRange": {"max": 2},
                "interval": "5m",
            }
        ]
    }


def test_the_analysis_templates_follow_argo_rollouts_published_schema() -> None:
    docs = [load(p.relative_to(OUT).as_posix()) for p in sorted((OUT / "argo-rollouts").glob("*.yaml"))]
    if not (K8S / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=K8S, check=True, capture_output=True)
    script = [binary("node"), "validate_delivery.mjs"]
    good = subprocess.run(script, cwd=K8S, input=json.dumps(docs), capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    # and the check can fail: a key the schema does not know, a count of the wrong type
    docs[0]["spec"]["metrics"][0]["successLimit"] = 1
    docs[1]["spec"]["metrics"][1]["interval"] = ["5m"]  # payments
    bad = subprocess.run(script, cwd=K8S, input=json.dumps(docs), capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "ledger-slos: /spec/metrics/0/successLimit is not a property of the published schema" in bad.stdout
    assert "payments-slos: /spec/metrics/1/interval must be string" in bad.stdout


# Flagger publishes no schema package: the properties of its CRD (fluxcd/flagger,
# artifacts/flagger/crd.yaml: MetricTemplate.spec, Canary.spec.analysis.metrics[]), as
# its docs "Metrics Analysis" describe them. Each value: the known keys, or a type.
FLAGGER_METRIC_TEMPLATE = {
    "apiVersion": str,
    "kind": str,
    "metadata": {"name": str, "namespace": str},
    "spec": {
        "provider": {"type": str, "address": str, "secretRef": {"name": str}, "insecureSkipVerify": bool},
        "query": str,
    },
}
FLAGGER_CANARY_METRIC = {
    "name": str,
    "interval": str,
    "threshold": float,
    "thresholdRange": {"min": float, "max": float},
    "query": str,
    "templateRef": {"name": str, "namespace": str},
    "templateVariables": dict,
}


def schema_problems(value: Any, schema: Any, at: str = "") -> list[str]:
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return [f"{at}: not an object"]
        out = [f"{at}/{k}: not a property Flagger's CRD knows" for k in value if k not in schema]
        return out + [p for k, v in value.items() if k in schema for p in schema_problems(v, schema[k], f"{at}/{k}")]
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) if schema is float else isinstance(value, schema)
    return [] if ok else [f"{at}: not a {schema.__name__}"]


def test_the_flagger_manifests_use_only_what_flaggers_crd_knows() -> None:
    for path in sorted((OUT / "flagger").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        if path.name == "analysis.yaml":
            problems = [p for m in data["metrics"] for p in schema_problems(m, FLAGGER_CANARY_METRIC)]
        else:
            assert (data["apiVersion"], data["kind"]) == ("flagger.app/v1beta1", "MetricTemplate")
            problems = schema_problems(data, FLAGGER_METRIC_TEMPLATE)
        assert problems == [], path
    assert schema_problems({"name": "x", "thresholdRange": {"below": 1}}, FLAGGER_CANARY_METRIC) == [
        "/thresholdRange/below: not a property Flagger's CRD knows"
    ]


def test_validate_runs_every_canary_query_through_promtool() -> None:
    result = slogen("validate", "--spec", str(CASE / "slo"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "canary queries: passed (6 queries)" in result.stdout


# --- e2e: the queries on a real Prometheus ------------------------------------------

STEP_S = 15
HISTORY_S = 20 * 60
# Argo: the pod template hash of each version; Flagger: the workload names (app label).
PAYMENTS = {"stable0": 0.0001, "healthy1": 0.0001, "broken5": 0.05}
LEDGER = {"ledger-primary": 0.0001, "ledger": 0.0001, "broken-primary": 0.0001, "broken": 0.05}


def traffic(now: float) -> str:
    """Counters of every version over the last 20 minutes: 10 requests a second each."""
    series: dict[str, float] = {}
    for version, errors in PAYMENTS.items():
        for code, share in (("200", 1 - errors), ("500", errors)):
            labels = f'job="payments",method="POST",code="{code}",rollouts_pod_template_hash="{version}"'
            series[f"http_requests_total{{{labels}}}"] = 10 * share
    for app, errors in LEDGER.items():
        for code, share in (("200", 1 - errors), ("500", errors)):
            series[f'http_requests_total{{job="ledger",code="{code}",app="{app}"}}'] = 10 * share
    lines = ["# TYPE http_requests_total gauge"]
    for name, rate in sorted(series.items()):
        start = int(now) - HISTORY_S
        lines += [f"{name} {rate * (t - start):.3f} {t}" for t in range(start, int(now) + 1, STEP_S)]
    return "\n".join(lines) + "\n# EOF\n"


def argo_verdict(metric: dict[str, Any], result: list[float]) -> str:
    """Argo's reading of a measurement: Successful, Failed, or Inconclusive if neither."""

    def holds(condition: str) -> bool:
        found = re.fullmatch(r"len\(result\) > 0 && result\[0\] (<=|>) ([0-9.]+)", condition)
        assert found, condition
        if not result:
            return False
        value, limit = result[0], float(found.group(2))
        return value <= limit if found.group(1) == "<=" else value > limit  # False for NaN, as in Go

    if holds(metric["successCondition"]):
        return "Successful"
    return "Failed" if holds(metric["failureCondition"]) else "Inconclusive"


@pytest.mark.e2e
def test_the_queries_pass_a_healthy_canary_and_fail_one_with_5_percent_errors(tmp_path: Path) -> None:
    now = time.time()
    data = tmp_path / "data"
    data.mkdir()
    backfill(traffic(now), data, tmp_path)
    argo = {m["name"]: m for m in load("argo-rollouts/payments.yaml")["spec"]["metrics"]}
    with prometheus(tmp_path, data_dir=data) as server:
        client = Client(server.url)

        def argo_run(slo: str, canary: str) -> tuple[str, list[float]]:
            query = argo[slo]["provider"]["prometheus"]["query"].replace("{{args.canary}}", canary)
            result = [s.value for s in client.query(query, now)]
            return argo_verdict(argo[slo], result), result

        def flagger_value(slo: str, target: str) -> float | None:
            query = load(f"flagger/ledger/{slo}.yaml")["spec"]["query"]
            query = substitute(query.replace("{{ target }}", target))
            result = client.query(query, now)
            return result[0].value if result else None

        verdict, result = argo_run("availability", "healthy1")
        assert verdict == "Successful" and result == [pytest.approx(0.1, rel=0.05)]
        verdict, result = argo_run("availability", "broken5")
        assert verdict == "Failed" and result == [pytest.approx(50, rel=0.02)]
        assert argo_run("availability", "absent9") == ("Inconclusive", [])  # no traffic: never a pass
        # at 99% the same 5% is a 5x burn, under the 6x page: that canary passes this SLO
        assert argo_run("method-availability", "broken5")[0] == "Successful"
        assert argo_run("method-availability", "broken5")[1] == [pytest.approx(5, rel=0.02)]

        limit = load("flagger/ledger/analysis.yaml")["metrics"][0]["thresholdRange"]["max"]
        healthy, broken = flagger_value("availability", "ledger"), flagger_value("availability", "broken")
        assert healthy is not None and healthy <= limit
        assert broken is not None and broken > limit and broken == pytest.approx(50, rel=0.02)
        assert flagger_value("availability", "absent") is None  # Flagger fails a check without a value


def test_explain_says_what_the_canary_analysis_of_an_slo_does_or_why_there_is_none() -> None:
    shown = slogen("explain", "--spec", str(CASE / "slo"), "payments/availability").stdout
    assert "canary analysis (series with the canary's value of rollouts_pod_template_hash):" in shown
    assert "passes at or under 6x (the lowest page factor), fails above" in shown
    assert "no traffic is Inconclusive (the rollout pauses)" in shown
    raw = slogen("explain", "--spec", str(CASE / "slo"), "ledger/settlement").stdout
    assert "canary analysis: not generated for this SLO: a raw SLI cannot be read per version" in raw


@pytest.mark.e2e
def test_latency_and_good_total_canary_queries_compute_the_burn_rate(tmp_path: Path) -> None:
    """An SLI whose bad events are a difference (latency: all - fast; good/total: total -
    good) gives the canary's burn rate, not total - fast/total: 1% slow (or failed)
    requests against a 1% budget is a 1x burn, 100% a 100x burn."""
    spec = tmp_path / "slo"
    spec.mkdir()
    (spec / "slogen.yaml").write_text(
        "version: 1\ntargets: [prometheus, argo-rollouts]\nargo_rollouts: {prometheus_url: http://p:9090}\n"
    )
    (spec / "shop.yaml").write_text(
        "version: 1\nservice: shop\ncanary: {label: version}\nslos:\n"
        "  latency:\n    objective: 99%\n    latency:\n"
        '      histogram: req_seconds_bucket{job="shop"}\n      buckets: [0.5]\n      threshold: 0.5\n'
        "  served:\n    objective: 99%\n    ratio:\n"
        '      good: served_total{job="shop"}\n      total: asked_total{job="shop"}\n'
    )
    out = tmp_path / "out"
    result = slogen("generate", "--spec", str(spec), "--out", str(out))
    assert result.returncode == 0, result.stderr
    metrics = {m["name"]: m for m in yaml.safe_load((out / "argo-rollouts/shop.yaml").read_text())["spec"]["metrics"]}
    now = time.time()
    start = int(now) - HISTORY_S
    # per version: 100 requests a second; "one" has 1% slow and 1% not served, "all" 100%
    rates: dict[str, float] = {}
    for version, share in (("one", 0.01), ("all", 1.0)):
        v = f'job="shop",version="{version}"'
        rates[f'req_seconds_bucket{{{v},le="0.5"}}'] = 100 * (1 - share)
        rates[f'req_seconds_bucket{{{v},le="+Inf"}}'] = 100
        rates[f"served_total{{{v}}}"] = 100 * (1 - share)
        rates[f"asked_total{{{v}}}"] = 100
    lines = ["# TYPE req_seconds_bucket gauge", "# TYPE served_total gauge", "# TYPE asked_total gauge"]
    for name, rate in sorted(rates.items()):
        lines += [f"{name} {rate * (t - start):.3f} {t}" for t in range(start, int(now) + 1, STEP_S)]
    data = tmp_path / "data"
    data.mkdir()
    backfill("\n".join(sorted(lines, key=lambda line: not line.startswith("#"))) + "\n# EOF\n", data, tmp_path)
    with prometheus(tmp_path, data_dir=data) as server:
        client = Client(server.url)
        for slo in ("latency", "served"):
            for version, burn in (("one", 1.0), ("all", 100.0)):
                query = metrics[slo]["provider"]["prometheus"]["query"].replace("{{args.canary}}", version)
                values = [s.value for s in client.query(query, now)]
                assert values == [pytest.approx(burn, rel=0.02)], (slo, version, values)
