"""The alert catalog (out/docs/alerts.md): one entry per generated alert rule, each with the
receivers amtool routes it to, links that resolve, and spec text that cannot break it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from slogen import api, markdown
from slogen import conventions as c
from slogen.builders.alertmanager import expected_receivers
from slogen.errors import OutputRefused

from .conftest import PLAN
from .golden import build, cases
from .test_alertmanager import amtool, routes  # noqa: F401 - amtool is a fixture

CASES = cases()
CATALOG = PLAN / "out" / c.ALERT_CATALOG


def _sections(text: str) -> dict[str, str]:
    """Entry heading -> its body, for every `### ` entry."""
    parts = re.split(r"^### (.+)$", text, flags=re.M)
    return {heading: body for heading, body in zip(parts[1::2], parts[2::2], strict=True)}


def _labels(body: str) -> dict[str, str]:
    line = next(ln for ln in body.splitlines() if ln.startswith("- **Labels:**"))
    return {k: v.replace('\\"', '"') for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', line)}


def _receivers(body: str) -> list[str]:
    return re.findall(r"^  - `([^`]+)` via ", body, flags=re.M)


def _alert_rules(tree: dict[str, bytes]) -> list[dict[str, str]]:
    """Every alert rule of the rules files, as its label set (alertname included)."""
    out = []
    for rel, data in tree.items():
        if rel.startswith(c.RULES_DIR + "/"):
            for group in yaml.safe_load(data)["groups"]:
                out += [{"alertname": r["alert"], **r["labels"]} for r in group["rules"] if "alert" in r]
    return out


def _key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_the_catalog_has_one_entry_per_alert_rule_and_no_other(case: Path) -> None:
    tree = build(case)
    entries = [_labels(body) for body in _sections(tree[c.ALERT_CATALOG].decode()).values()]
    rules = _alert_rules(tree)
    assert len(entries) == len(rules) > 0
    assert sorted(map(_key, entries)) == sorted(map(_key, rules))


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_each_entry_names_the_receivers_the_route_tests_expect(case: Path) -> None:
    """routes.yaml is what amtool verifies on every tree (test_alertmanager, validate). It
    has no label set for a threshold alert's SLOMetricAbsent (alert_label_sets leaves them
    out): those are compared with expected_receivers, which the route tests are built from,
    and with amtool itself below."""
    tree = build(case)
    sections = _sections(tree[c.ALERT_CATALOG].decode())
    if c.ALERTMANAGER_ROUTE_TESTS not in tree:
        for body in sections.values():
            assert "- **Receivers:** no one: there is no routing file (`slo/alerting.yaml`)" in body
            assert _receivers(body) == []
        return
    expected = {_key(t["labels"]): t["receivers"] for t in yaml.safe_load(tree[c.ALERTMANAGER_ROUTE_TESTS])}
    routing = api.load_model(api.Options(spec_dir=case / "slo", templates=None)).routing
    assert routing is not None
    for heading, body in sections.items():
        labels = _labels(body)
        want = expected.get(_key(labels)) or expected_receivers(routing, labels)
        assert _receivers(body) == want, heading


@pytest.mark.parametrize("case", [PLAN, PLAN.parent / "catalog"], ids=lambda p: p.name)
def test_each_entry_names_the_receivers_amtool_routes_it_to(case: Path, amtool: str) -> None:  # noqa: F811
    config = case / "out" / c.ALERTMANAGER_CONFIG
    for heading, body in _sections((case / "out" / c.ALERT_CATALOG).read_text()).items():
        assert routes(amtool, config, **_labels(body)) == _receivers(body), heading


def _github_anchors(text: str) -> set[str]:
    """Anchors as GitHub gives headings, written independently of slogen.markdown."""
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6} (.+)$", re.sub(r"```.*?```", "", text, flags=re.S), flags=re.M):
        plain = re.sub(r"\\(.)", r"\1", heading).replace("&lt;", "<").replace("&amp;", "&")
        base = re.sub(r"[^\w\- ]", "", plain.lower()).replace(" ", "-")
        anchor = base
        while anchor in seen:
            seen[base] += 1
            anchor = f"{base}-{seen[base]}"
        seen[anchor] = 0
        out.add(anchor)
    return out


def _links(text: str) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_every_link_of_the_catalog_resolves(case: Path) -> None:
    """Anchors to headings of the catalog; files relative to out/docs/ (rules, specs and
    runbooks beside slo/), with their anchors or line numbers; URLs as the alerts carry them."""
    path = case / "out" / c.ALERT_CATALOG
    text = path.read_text()
    anchors = _github_anchors(text)
    annotations = {v for r in _rules_of(case) for v in r.get("annotations", {}).values()}
    targets = _links(text)
    assert len(targets) > len(_sections(text))
    for target in targets:
        if target.startswith("#"):
            assert target[1:] in anchors, target
        elif re.match(r"^https?://", target):
            assert target in annotations, target
        else:
            _assert_file_link(path.parent, target)


def _rules_of(case: Path) -> list[dict[str, Any]]:
    return [
        r
        for f in sorted((case / "out" / c.RULES_DIR).glob("*.yaml"))
        for g in yaml.safe_load(f.read_text())["groups"]
        for r in g["rules"]
    ]


def _assert_file_link(base: Path, target: str) -> None:
    rel, _, anchor = target.partition("#")
    file = (base / rel).resolve()
    assert file.is_file(), target
    if re.fullmatch(r"L\d+", anchor):
        assert int(anchor[1:]) <= len(file.read_text().splitlines()), target
    elif anchor:
        assert anchor in _github_anchors(file.read_text()), target


def test_the_plans_entries_say_when_they_fire_and_what_inhibits_them() -> None:
    sections = _sections(CATALOG.read_text())
    page = sections["api/availability: SLOErrorBudgetBurn critical"]
    assert "| 1h | 5m | 14.4x | 1.44% | about 52s | 2% |" in page
    assert "| 6h | 30m | 6x | 0.6% | about 2m10s | 5% |" in page
    assert "fires after about 52s." in page
    assert "- **Inhibited by:** nothing" in page
    ticket = sections["api/availability: SLOErrorBudgetBurn warning"]
    assert "- **Inhibited by:** [api/availability: SLOErrorBudgetBurn critical]" in ticket
    assert _receivers(ticket) == ["platform-email", "prod-alerts"]
    # error ratio over 5m above 5%: 15s of total outage, then `for: 5m`
    assert "| availability error ratio above 5% | 5m | 5m | about 5m15s |" in sections["api/error-rate: ErrorRate critical"]
    assert "the series stop being scraped" in sections["api/availability: SLOMetricAbsent warning"]
    link = "(../../docs/INCIDENT_RESPONSE_RUNBOOKS.md#p0-service-down-or-error-rate-above-5)"
    assert link in page


def test_entries_are_ordered_by_service_then_item_then_severity() -> None:
    headings = list(_sections((PLAN.parent / "catalog/out" / c.ALERT_CATALOG).read_text()))
    assert headings[:3] == ["indexer/lag: Lag critical", "indexer/lag: Lag warning", "indexer/lag: SLOMetricAbsent warning"]
    assert headings[-3:] == [
        "search/success-ratio: SuccessRatio critical",
        "search/success-ratio: SuccessRatio warning",
        "search/success-ratio: SLOMetricAbsent warning",
    ]


def test_the_catalog_without_runbook_or_grafana_url_says_so() -> None:
    text = (PLAN.parent / "catalog/out" / c.ALERT_CATALOG).read_text()
    lag = _sections(text)["indexer/lag: Lag critical"]
    assert "- **Runbook:** none: give the SLO, the alert or the service a `runbook:`" in lag
    assert "- **Dashboard:** `/d/slo-indexer` on your Grafana" in lag
    # a success ratio below 90% over 10m: 1m of total outage, then `for: 5m`
    assert "| success ratio below 90% | 10m | 5m | about 6m |" in _sections(text)["search/success-ratio: SuccessRatio critical"]


HOSTILE = "a | b *c* _d_ [x](javascript:alert(1)) <script>x</script> `e` ~f~ \\"


def test_spec_text_cannot_break_the_markdown(tmp_path: Path) -> None:
    spec = tmp_path / "slo"
    spec.mkdir()
    (spec / "web.yaml").write_text(
        "version: 1\nservice: web\nslos:\n  up:\n    objective: 99%\n"
        f"    description: {json.dumps(HOSTILE)}\n"
        "    runbook: 'https://wiki.example.com/web runbook (new)>'\n"
        "    ratio:\n      bad: req_total{job=\"web\", code=~\"5..\"}\n      total: req_total{job=\"web\", path!=\"a`b\"}\n"
    )
    text = api.build_tree(api.load_model(api.Options(spec_dir=spec, templates=None)))[c.ALERT_CATALOG].decode()
    assert "<script>" not in text and not re.search(r"(?<!\\)\]\(javascript", text)
    assert markdown.text(HOSTILE) in text
    assert "[`https://wiki.example.com/web runbook (new)>`](https://wiki.example.com/web%20runbook%20%28new%29%3E)" in text
    assert 'no series matches ``req_total{job="web", path!="a`b"}``:' in text  # a backtick inside a code span
    for line in text.splitlines():
        if line.startswith("|"):
            assert len(re.findall(r"(?<!\\)\|", line)) in (5, 7), line  # no cell split by spec text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a|b", "a\\|b"),
        ("read_latency", "read_latency"),
        ("_x_", "\\_x\\_"),
        ("<b>&", "&lt;b>&amp;"),
        ("two\nlines", "two lines"),
    ],
)
def test_markdown_text_escapes_only_what_renders(value: str, expected: str) -> None:
    assert markdown.text(value) == expected


def test_markdown_code_spans_and_blocks_hold_any_backticks() -> None:
    assert markdown.code("a`b") == "``a`b``"
    assert markdown.code("`x`") == "`` `x` ``"
    assert markdown.code("a|b", in_table=True) == "`a\\|b`"
    assert markdown.block("```\nx", "promql") == "````promql\n```\nx\n````"


def test_markdown_anchors_are_githubs() -> None:
    anchors = markdown.Anchors()
    assert anchors.add("api/availability: SLOErrorBudgetBurn critical") == "apiavailability-sloerrorbudgetburn-critical"
    assert anchors.add("P0: Service down or error rate above 5%") == "p0-service-down-or-error-rate-above-5"
    assert [anchors.add("Contents"), anchors.add("contents"), anchors.add("Contents-1")] == [
        "contents",
        "contents-1",
        "contents-1-1",
    ]


def test_an_out_without_manifest_adopts_a_catalog_with_slogens_mark(tmp_path: Path) -> None:
    options = api.Options(spec_dir=PLAN / "slo", out_dir=tmp_path / "out", templates=None)
    api.generate(options)
    (tmp_path / "out" / c.MANIFEST).unlink()
    catalog = tmp_path / "out" / c.ALERT_CATALOG
    catalog.write_text("<!-- generated from slo/ by slogen; do not edit -->\n# an older catalog\n")
    assert api.generate(options).changed
    assert catalog.read_bytes() == CATALOG.read_bytes()
    (tmp_path / "out" / c.MANIFEST).unlink()
    catalog.write_text("# our own notes\n")
    with pytest.raises(OutputRefused, match="docs/alerts.md: not written by slogen"):
        api.generate(options)


def test_the_readmes_excerpt_is_the_plans_catalog() -> None:
    from .conftest import REPO

    readme = (REPO / "README.md").read_text()
    excerpt = re.search(r"```markdown\n(### api/availability.*?)```", readme, re.S)
    assert excerpt is not None
    catalog = CATALOG.read_text().splitlines()
    lines = [line for line in excerpt.group(1).splitlines() if line]
    assert len(lines) > 10 and all(line in catalog for line in lines)


def test_tiers_with_their_own_for_get_an_entry_each_with_its_own_tier_and_for(tmp_path: Path) -> None:
    """Custom severity values and page tiers with different `for`s are a rule each: each
    entry shows its own tier (found by the rule's labels, not the severity's name), and
    counts its `for` once; the budget spent by then includes it."""
    from slogen.builders.catalog import build_catalog
    from slogen.builders.rules import build_rule_files

    (tmp_path / "slo").mkdir()
    (tmp_path / "slo" / "shop.yaml").write_text(
        "version: 1\nservice: shop\nslos:\n  req:\n    objective: 99.5%\n    window: 28d\n"
        '    ratio: {bad: \'http_requests_total{code=~"5.."}\', total: http_requests_total}\n'
        "    alerting:\n      page: {severity: P1}\n      ticket: {severity: P3}\n      tiers:\n"
        "        - {severity: page, long: 1h, short: 5m, factor: 14, for: 4m}\n"
        "        - {severity: page, long: 6h, short: 30m, factor: 7, for: 15m}\n"
        "        - {severity: ticket, long: 1d, short: 2h, factor: 2, for: 1h}\n"
    )
    model = api.load_model(api.Options(spec_dir=tmp_path / "slo", templates=None))
    sections = _sections(build_catalog(model, build_rule_files(model)))
    fast, slow = sections["shop/req: SLOErrorBudgetBurn P1 (1h/5m)"], sections["shop/req: SLOErrorBudgetBurn P1 (6h/30m)"]
    # 14 x 0.5% x 1h = 4m12s of outage, then the 4m for; 8m12s of a 3h21m36s budget
    assert "| 1h | 5m | 14x | 7% | about 8m12s | 4.07% |" in fast and "| 6h |" not in fast
    assert "fires after about 8m12s, 4m of which is the rule's `for`." in fast
    assert "| 6h | 30m | 7x | 3.5% | about 27m36s | 13.69% |" in slow and "| 1h |" not in slow
    assert "| 1d | 2h | 2x | 1% | about 1h14m24s | 36.9% |" in sections["shop/req: SLOErrorBudgetBurn P3"]


@pytest.mark.parametrize(
    ("matchers", "labels", "expected"),
    [
        (['severity="critical"'], {"severity": "critical"}, True),
        (['severity="critical"'], {"severity": "warning"}, False),
        (['severity=~"critical|page"'], {"severity": "page"}, True),
        (['severity=~"crit"'], {"severity": "critical"}, False),  # anchored, as in Alertmanager
        (['service!~"web|api"'], {"service": "api"}, False),
        (['service!="web"'], {}, True),  # a missing label is the empty string
        (['slo="a\\"b"'], {"slo": 'a"b'}, True),
    ],
)
def test_inhibit_matchers_read_as_alertmanager_reads_them(
    matchers: list[str], labels: dict[str, str], expected: bool
) -> None:
    from slogen.builders.inhibition import matches

    assert matches(matchers, labels) is expected
