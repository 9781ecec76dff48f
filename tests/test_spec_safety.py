"""What a spec fuzzer found (issue 9, point 15), as tests: input that crashed slogen, or
that it accepted and promtool, amtool or Grafana then read otherwise. The bad-input
cases with their exact messages are in tests/errors/; here are the oracles (promtool and
amtool themselves) and the limits."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from slogen.errors import SpecError
from slogen.load import load_text, read_file
from slogen.promql import parse_selector, quote
from slogen.quantity import parse_duration, parse_number, parse_ratio
from slogen.usertext import MAX_FILE_BYTES

from .conftest import PLAN, slogen, snapshot

# --- regex matchers: RE2 as promtool reads it ----------------------------------------

# Regexes that slogen and promtool (Go's regexp) agree on: True = both accept.
AGREED = {
    "5..": True,
    "5{1000}": True,
    "a{1000,}": True,
    "(a{10}){100}": True,
    "(?i)get|post": True,
    "(?s:a.b)": True,
    "a*?": True,
    "a{2}?": True,
    "(?P<n>a)": True,
    r"\d+\.\d+": True,
    r"\bfoo\b": True,
    r"\x41": True,
    "[]a]": True,
    "[^a-z]+": True,
    "5{1001}": False,
    "a{1,1001}": False,
    "(a{3}){334}": False,
    "(a{1000}){1000}": False,
    "(?x)5 ..": False,
    "a(?=b)": False,
    "a(?<=b)": False,
    "(a)\\1": False,
    r"\8": False,
    "a*+": False,
    "a++": False,
    "a**": False,
    "a{2}+": False,
    "(?<n>a)": False,
    "(?P=n)": False,
    "(?#comment)a": False,
    "(?>a)": False,
    r"\Z": False,
    r"\u0041": False,
    "[\\b]": False,
    "(" * 1001 + ")" * 1001: False,
}
# Taken by Go but refused by slogen, which builds test series with Python's `re`: Python
# cannot read them, or reads them differently. Each message says what to write instead.
STRICTER = ["a{,3}", "(?U)a+", r"\z", r"\pL", r"\Qa.b\E", "[[:alpha:]]"]


def _slogen_accepts(regex: str) -> bool:
    try:
        parse_selector(f"foo{{a=~{quote(regex)}}}")
    except ValueError:
        return False
    return True


def _promtool_accepts(promtool: str, tmp_path: Path, regex: str) -> bool:
    expr = f"foo{{a=~{quote(regex)}}}"
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [{"record": "x", "expr": expr}]}]}))
    return subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, check=False).returncode == 0


def test_slogen_accepts_a_regex_matcher_exactly_when_promtool_does(promtool: str, tmp_path: Path) -> None:
    promtool_says = {regex: _promtool_accepts(promtool, tmp_path, regex) for regex in AGREED}
    assert promtool_says == AGREED, "the table is promtool's verdict"
    assert {regex: _slogen_accepts(regex) for regex in AGREED} == AGREED


def test_where_slogen_is_stricter_than_promtool_it_says_so(promtool: str, tmp_path: Path) -> None:
    for regex in STRICTER:
        assert _promtool_accepts(promtool, tmp_path, regex), regex
        with pytest.raises(ValueError, match="regex|regular expression"):
            parse_selector(f"foo{{a=~{quote(regex)}}}")


def test_raw_expressions_have_their_matchers_checked_too() -> None:
    from slogen.promql import check_expression

    check_expression('sum(rate(jobs_total{queue=~"a|b"}[5m]))')
    with pytest.raises(ValueError, match=r"\(\?x\)"):
        check_expression('sum(rate(jobs_total{queue=~"(?x) a"}[5m])) / sum(rate(jobs_total[5m]))')


def test_a_label_replace_regex_is_checked_though_prometheus_compiles_it_only_when_the_rule_runs() -> None:
    from slogen.promql import check_expression

    check_expression('label_replace(up, "host", "$1", "instance", "(.*):[0-9]+")')
    with pytest.raises(ValueError, match="label_replace: .*lookahead"):
        check_expression('label_replace(up, "host", "$1", "instance", "(.*)(?=:)")')


# --- label values that Grafana would interpolate ----------------------------------------


@pytest.mark.parametrize("value", ["$__range", "$datasource", "${datasource}", "[[datasource]]", "a$__interval"])
def test_grafana_variables_in_label_values_are_refused(value: str) -> None:
    for op in ("=", "=~"):
        with pytest.raises(ValueError, match="Grafana would replace it|brace"):
            parse_selector(f"foo{{a{op}{quote(value)}}}")
    with pytest.raises(ValueError, match="Grafana would replace it"):
        parse_selector(f"foo{{a=~{quote(value)}}}")


@pytest.mark.parametrize("value", ["^/api$", "(a|b)$", "US$", "[[:alpha:]x]"])
def test_a_dollar_that_grafana_leaves_alone_is_kept(value: str) -> None:
    op = "=" if value == "US$" else "=~"
    try:
        parse_selector(f"foo{{a{op}{quote(value)}}}")
    except ValueError as exc:
        assert "Grafana" not in str(exc)


# --- numbers and durations ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), float("-inf"), "nan", "NaN%", "-Infinity", "sNaN", "1e309", "-1e309", "1e-400"],
)
def test_numbers_prometheus_cannot_hold_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_number(value)
    with pytest.raises(ValueError):
        parse_ratio(value)


@pytest.mark.parametrize("value", ["1e308", "1e-300", "0", "0.0001%"])
def test_large_and_small_numbers_within_a_float_are_kept(value: str) -> None:
    assert parse_number(value) == Decimal(value.removesuffix("%")) / (100 if value.endswith("%") else 1)


@pytest.mark.parametrize("text", ["300y", "366d", "53w", "8761h"])
def test_durations_over_a_year_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="at most 365d"):
        parse_duration(text)


def test_a_year_is_the_longest_duration_and_digits_are_ascii() -> None:
    assert parse_duration("365d") == parse_duration("1y")
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("\u0665m")  # an Arabic-Indic five


# --- sizes and nesting ---------------------------------------------------------------------


def test_a_spec_file_over_1_mb_is_refused_before_it_is_read(tmp_path: Path) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text("version: 1\nservice: api\ndescription: " + "x" * MAX_FILE_BYTES + "\n")
    with pytest.raises(SpecError, match="may be at most 1,000,000"):
        read_file(spec, "slo/api.yaml")


@pytest.mark.parametrize("depth", [21, 500, 990])
def test_deep_nesting_is_refused_without_a_recursion_error(depth: int) -> None:
    with pytest.raises(SpecError, match="nested more than 20 levels"):
        load_text("labels: " + "[" * depth + "]" * depth + "\n", "slo/api.yaml")


def test_a_long_string_is_refused_with_its_length_and_the_bound() -> None:
    with pytest.raises(SpecError, match="at most 4096 characters, got 5000"):
        load_text("description: " + "x" * 5000 + "\n", "slo/api.yaml")


# --- +Inf as the last bucket --------------------------------------------------------------

LATENCY = """version: 1
service: api
slos:
  latency:
    objective: 95%
    latency:
      histogram: http_request_duration_seconds{job="api"}
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5BUCKET]
      threshold: 250ms
"""


@pytest.mark.parametrize("last", [", +Inf", ", .inf", ", +inf"])
def test_a_trailing_inf_bucket_as_exporters_list_it_is_dropped(tmp_path: Path, last: str) -> None:
    outs = []
    for name, bucket in (("plain", ""), ("inf", last)):
        work = tmp_path / name
        (work / "slo").mkdir(parents=True)
        (work / "slo/api.yaml").write_text(LATENCY.replace("BUCKET", bucket))
        result = slogen("generate", "--spec", "slo", "--out", "out", cwd=work)
        assert result.returncode == 0, result.stderr
        outs.append(snapshot(work / "out"))
    assert outs[0] == outs[1]


# --- legitimate text still comes out verbatim from the real template engines -------------

RUNBOOK = "https://wiki.example.com/runbooks/api?page=p0&lang=en%7Bx%7D#p0-service-down"
MENTION = "<!subteam^S0ONCALL|oncall> @here"


def _generate_with_text(tmp_path: Path) -> Path:
    shutil.copytree(PLAN / "slo", tmp_path / "slo")
    api = tmp_path / "slo/api.yaml"
    api.write_text(api.read_text().replace("runbook: docs/INCIDENT_RESPONSE_RUNBOOKS.md", f"runbook: '{RUNBOOK}'"))
    routing = tmp_path / "slo/alerting.yaml"
    text = routing.read_text().replace(
        'channel: "#prod-alerts"', f'channel: "#prod-alerts"\n      mention: "{MENTION}"'
    )
    routing.write_text(text)
    result = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / "out"


def test_a_runbook_url_comes_out_of_prometheus_templating_verbatim(promtool: str, tmp_path: Path) -> None:
    out = _generate_with_text(tmp_path)
    generated = yaml.safe_load((out / "prometheus/rules/api.availability.yaml").read_text())
    alert = next(r for g in generated["groups"] for r in g["rules"] if "alert" in r)
    url = alert["annotations"]["runbook_url"]
    assert url.startswith(RUNBOOK.split("#")[0])
    # promtool expands annotations with Prometheus' own template engine.
    rule = {"alert": "Probe", "expr": "vector(1)", "annotations": {"runbook_url": url}}
    (tmp_path / "r.yaml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]}))
    test = {
        "rule_files": ["r.yaml"],
        "tests": [
            {
                "input_series": [],
                "alert_rule_test": [
                    {"eval_time": "1m", "alertname": "Probe", "exp_alerts": [{"exp_annotations": {"runbook_url": url}}]}
                ],
            }
        ],
    }
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(test))
    result = subprocess.run([promtool, "test", "rules", "t.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_slack_mention_and_channel_come_out_of_alertmanager_templating_verbatim(tmp_path: Path) -> None:
    amtool = shutil.which("amtool")
    assert amtool, "amtool not found"
    out = _generate_with_text(tmp_path)
    config = yaml.safe_load((out / "alertmanager/alertmanager.yml").read_text())
    slack = next(r["slack_configs"][0] for r in config["receivers"] if "slack_configs" in r)
    data = out / "alertmanager/tests/notification.json"
    assert json.loads(data.read_text())["commonLabels"]["severity"] == "critical"
    rendered = {}
    for field in ("text", "channel"):
        args = ["template", "render", f"--template.glob={out}/alertmanager/templates/*.tmpl"]
        args += [f"--template.text={slack[field]}", f"--template.data={data}"]
        result = subprocess.run([amtool, *args], capture_output=True, text=True, check=True)
        rendered[field] = result.stdout
    assert rendered["text"].startswith(MENTION + " ")
    assert rendered["channel"].strip() == "#prod-alerts"


def test_a_duration_with_a_trailing_newline_is_read_without_it() -> None:
    from slogen.resolve import resolve

    doc = load_text(
        'version: 1\nservice: api\nslos:\n  a:\n    objective: 99%\n    window: "30d\\n"\n'
        "    ratio: {bad: errors_total, total: requests_total}\n",
        "slo/api.yaml",
    )
    slo = resolve([doc]).services[0].slos[0]
    assert slo.description == "99% of api events are good over 30d"


GROUPED = """version: 1
service: cache
alerts:
  hit-rate:
    ratio:
      good: cache_hit_total{job="api", cache=~"project_list|job_read"}
      bad: cache_miss_total
    measure: good
    by: [cache]
    warning: {below: 60%, for: 15m}
"""


def test_grouped_series_meet_in_one_group_when_only_one_selector_fixes_the_label(promtool: str, tmp_path: Path) -> None:
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo/cache.yaml").write_text(GROUPED)
    result = slogen("generate", "--spec", "slo", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    test = tmp_path / "out/prometheus/tests/cache.hit-rate.test.yaml"
    assert 'cache_miss_total{cache="project_list"}' in test.read_text()
    run = subprocess.run([promtool, "test", "rules", str(test)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout
