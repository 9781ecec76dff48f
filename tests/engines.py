"""The rule engines the end-to-end tests run the generated rules on, behind one face so
that every scenario is ONE test parametrised over the engine (and the engines cannot
drift apart unnoticed): Prometheus alone, or VictoriaMetrics (storage, scraping,
queries) with vmalert (rules, alerts, for-state restore)."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .harness import LOOPBACK, Server, backfill, prometheus, rules_evaluated_after, wait_until
from .harness_vm import (
    import_openmetrics,
    notifier_sink,
    victoria_metrics,
    vmalert,
    vmalert_alerts,
    vmalert_evaluated_after,
)
from .scenarios import Scenario, Timeline, exporter

ENGINES = ("prometheus", "victoriametrics")

# With a gate, the history stops this long before the start, longer than every raw range
# and the lookback (5m) of the rules: nothing can fire until the exporter is let through.
HELD_BACK_S = 6 * 60


def rules_for_test(out: Path, workdir: Path) -> Path:
    """The generated rules, with the period and 30m groups evaluated every second instead
    of every 2m30s or 30 minutes so that the test need not wait (the expressions are untouched)."""
    target = workdir / "rules"
    shutil.copytree(out / "prometheus/rules", target)
    for path in target.rglob("*.yaml"):
        path.write_text(re.sub(r"^  interval: (2m30s|30m)$", "  interval: 1s", path.read_text(), flags=re.M))
    return target


@dataclass
class Engine:
    """A running engine: `rules` evaluates the rules and holds the alerts, `data` stores
    the series and answers queries (the same Prometheus for both, or vmalert and VM)."""

    name: str
    rules: Server
    data: Server

    def alerts(self) -> list[dict[str, str]]:
        """Every alert, pending or firing, as label dicts with a state."""
        if self.name == "prometheus":
            found = self.rules.get("/api/v1/alerts")["data"]["alerts"]
            return [{**a["labels"], "state": a["state"]} for a in found]
        return vmalert_alerts(self.rules)

    def evaluated_after(self, since: float) -> bool:
        if self.name == "prometheus":
            return rules_evaluated_after(self.rules, since)
        return vmalert_evaluated_after(self.rules, since)

    def evaluations(self, count: int) -> None:
        """Wait for `count` more evaluations of every rule group (not for a span of time,
        which a loaded machine can stretch past any margin)."""
        for _ in range(count):
            since = time.time()
            wait_until(lambda t=since: self.evaluated_after(t), 60, "every rule group to be evaluated", self.rules)

    def query(self, expr: str) -> list[Any]:
        return _query(self.data, expr)

    def sends_to(self, alertmanager_url: str) -> bool:
        """Whether the engine has its Alertmanager (Prometheus discovers it some seconds
        after its start; vmalert's -notifier.url is there from the start)."""
        if self.name != "prometheus":
            return True
        active = self.rules.get("/api/v1/alertmanagers")["data"]["activeAlertmanagers"]
        return any(a["url"].startswith(alertmanager_url) for a in active)

    def logs(self) -> str:
        servers = [self.rules] if self.rules is self.data else [self.rules, self.data]
        return "\n".join(f"--- {s.name} log ---\n{s.logs()}" for s in servers)


@contextmanager
def scenario_engine(
    name: str,
    scenario: Scenario,
    workdir: Path,
    out: Path,
    alertmanager_url: str | None = None,
    gate: threading.Event | None = None,
) -> Iterator[Engine]:
    """The scenario's history written into the engine's storage, its live series scraped
    every second from the exporter, the case's rules evaluated every second."""
    workdir.mkdir(parents=True, exist_ok=True)
    timeline = Timeline(scenario, time.time() - (HELD_BACK_S if gate else 0))
    history = timeline.backfill()
    rules = rules_for_test(out, workdir)
    with ExitStack() as stack:
        port = stack.enter_context(exporter(timeline, gate))
        scrape = [
            {"job_name": "exporter", "honor_labels": True, "static_configs": [{"targets": [f"{LOOPBACK}:{port}"]}]}
        ]
        if name == "prometheus":
            backfill(history, workdir / "data", workdir)
            prom = stack.enter_context(_prometheus(workdir, scrape, rules, alertmanager_url))
            yield Engine(name, prom, prom)
            return
        vm = stack.enter_context(
            victoria_metrics(workdir, {"global": {"scrape_interval": "1s"}, "scrape_configs": scrape})
        )
        import_openmetrics(vm, history)
        # without an Alertmanager the alerts go to a local sink: vmalert needs a notifier
        notifier = alertmanager_url or stack.enter_context(notifier_sink())
        _recordings_before_restart(workdir, rules, vm, notifier)
        yield Engine(name, stack.enter_context(vmalert(workdir, rules, vm, notifier)), vm)


def _recordings_before_restart(workdir: Path, rules: Path, vm: Server, notifier: str) -> None:
    """Store the recordings a vmalert running through the history would have written.
    vmalert restores a `for` state (ALERTS_FOR_STATE) once, at its start, and keeps it only
    for an alert its first evaluation finds active: an alert that reads another group's
    recording (ErrorRate reads the availability SLO's ratio) is active then only if that
    recording is stored already, as it is when vmalert restarts in production (Prometheus
    restores after a group's second evaluation, when the recording exists). The history
    holds raw series only, so a first vmalert with the recording rules alone runs until
    it has caught up with the data, then stops, as before a restart."""
    only = workdir / "recording-rules"
    only.mkdir()
    for path in sorted(rules.glob("*.yaml")):
        groups = yaml.safe_load(path.read_text())["groups"]
        kept = [{**g, "rules": [r for r in g["rules"] if "record" in r]} for g in groups]
        (only / path.name).write_text(yaml.safe_dump({"groups": [g for g in kept if g["rules"]]}, sort_keys=False))
    (workdir / "before-restart").mkdir()
    with vmalert(workdir / "before-restart", only, vm, notifier) as first:
        found = [r for g in first.get("/api/v1/rules")["data"]["groups"] for r in g["rules"]]

        def caught_up() -> bool:
            # every recording whose expression has data is stored: a chain of recordings
            # takes a few evaluations, and VictoriaMetrics lets a new series be found some
            # seconds after its first sample, so wait for the data, not for time
            return all(not _query(vm, r["query"]) or _query(vm, _selector(r["name"], r["labels"])) for r in found)

        wait_until(caught_up, 180, "vmalert to store every recording that has data", first, interval=1)


def _query(vm: Server, expr: str) -> list[Any]:
    return list(vm.get("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))["data"]["result"])


def _selector(name: str, labels: dict[str, str]) -> str:
    matchers = [f"__name__={json.dumps(name)}", *(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items()))]
    return "{" + ", ".join(matchers) + "}"


@contextmanager
def _prometheus(workdir: Path, scrape: list[Any], rules: Path, alertmanager_url: str | None) -> Iterator[Server]:
    config: dict[str, Any] = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules / "*.yaml")],
        "scrape_configs": scrape,
    }
    if alertmanager_url:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager_url.split("//")[1]]}]}]}
    extra = ["--rules.alert.for-grace-period=1s", "--rules.alert.resend-delay=1s"]
    with prometheus(workdir, config, workdir / "data", extra) as server:
        yield server
