"""Every name slogen emits, in one place: recording rules, alerts, labels, files, groups."""

from __future__ import annotations

from decimal import Decimal

from .quantity import format_duration

# Labels every generated series and alert carries.
LABEL_SERVICE = "service"
LABEL_SLO = "slo"
LABEL_OWNER = "owner"
LABEL_SEVERITY = "severity"

# A burn-rate tier with a `for` of its own is its own rule, labelled with its windows
# (Pyrra's labels): two rules with one label set would write one ALERTS series.
LABEL_LONG = "long"
LABEL_SHORT = "short"

SEVERITY_CRITICAL = "critical"  # pages
SEVERITY_WARNING = "warning"  # tickets / Slack
SEVERITIES = (SEVERITY_CRITICAL, SEVERITY_WARNING)
# The kinds a spec names (alerting.page, alerting.tiers[].severity) and their default values.
KIND_SEVERITY = {"page": SEVERITY_CRITICAL, "ticket": SEVERITY_WARNING}

# The short window every SLI is recorded at from raw series; longer windows and the
# period are computed from these recordings (traffic-weighted, cheap).
BASE_WINDOW_MS = 5 * 60_000

# Recording rules (level:metric:operations).
BAD_RATE = "slo:sli_bad_events:rate5m"
TOTAL_RATE = "slo:sli_total_events:rate5m"
OBJECTIVE = "slo:objective:ratio"
ERROR_BUDGET = "slo:error_budget:ratio"
PERIOD_BUDGET_REMAINING = "slo:period_error_budget_remaining:ratio"
PERIOD_SLI = "slo:period_sli:ratio"  # 1 - the period's error ratio, whatever the period
CURRENT_BURN_RATE = "slo:current_burn_rate:ratio"
PERIOD_BURN_RATE = "slo:period_burn_rate:ratio"

# Sloth's labels and series, for its users' dashboards (compatibility.sloth_labels): its
# pkg/common/conventions. sloth_window is not added: slogen's alerts join the windows of a
# tier with `and`, which a label per window would never match (Sloth's use max without).
SLOTH_ID = "sloth_id"  # <service>-<slo>
SLOTH_SERVICE = "sloth_service"
SLOTH_SLO = "sloth_slo"
SLOTH_OBJECTIVE = "sloth_objective"  # on the info series: the objective in percent, 99.9
SLOTH_INFO = "sloth_slo_info"
SLOTH_TIME_PERIOD_DAYS = "slo:time_period:days"


def sloth_labels(service: str, slo: str) -> dict[str, str]:
    return {SLOTH_ID: f"{service}-{slo}", SLOTH_SERVICE: service, SLOTH_SLO: slo}


def error_ratio(window_ms: int) -> str:
    """`slo:sli_error:ratio_rate1h`: the error ratio over one window."""
    return f"slo:sli_error:ratio_rate{format_duration(window_ms)}"


# Alert names: one name per kind, told apart by labels (service, slo, severity), so that
# routing and inhibition can match on labels alone.
ALERT_BURN_RATE = "SLOErrorBudgetBurn"
ALERT_ABSENT = "SLOMetricAbsent"
# Alertmanager's root receiver: only alerts no route takes end here.
BLACKHOLE_RECEIVER = "slogen-blackhole"


def threshold_alert_name(alert_id: str) -> str:
    """`error-rate` -> `ErrorRate`."""
    return "".join(part[:1].upper() + part[1:] for part in alert_id.replace("_", "-").split("-") if part)


# Rule groups and files.
def group_name(service: str, item: str, suffix: str = "") -> str:
    return f"slogen:{service}:{item}" + (f":{suffix}" if suffix else "")


COARSE_GROUP_SUFFIX = "30m"
PERIOD_GROUP_SUFFIX = "period"


def slo_group_names(service: str, slo: str) -> list[str]:
    """An SLO's rule groups in the order its unit tests evaluate them: the 5m level (with
    the page windows and the pages), then the 30m sums of its 5m rates, then the period
    group (the period, the windows only tickets read, the tickets) from both. The first
    two read each other only when a page reads a window past a day (custom tiers): with
    the 5m level first, a sum includes the rates of its own instant and such a window sees
    the sums of the step before, as in production, where they lag by up to 30 minutes."""
    return [
        group_name(service, slo),
        group_name(service, slo, COARSE_GROUP_SUFFIX),
        group_name(service, slo, PERIOD_GROUP_SUFFIX),
    ]


# Under Prometheus' 5m lookback: dashboards query these series at an instant, and a
# series recorded every 5m would be just too old for a moment before each evaluation.
# The tickets and the windows only they read run here too: a ticket fires up to 1m30s
# later than it would every minute, over windows of hours and days.
PERIOD_GROUP_INTERVAL = "2m30s"

# A second level for long windows: every 30 minutes, the 5m rates summed over the last
# 30 minutes. Windows longer than a day and the period sum these: a 30-day period reads
# 1,440 samples a series instead of 43,200. Both sums are weighted alike, so the ratio
# stays traffic-weighted; the 30-minute windows tile time.
COARSE_GROUP_INTERVAL = "30m"
COARSE_WINDOW = "30m"
COARSE_FROM_MS = 86_400_000  # windows longer than this read the 30m sums
BAD_SUM = "slo:sli_bad_events:rate5m_sum30m"
TOTAL_SUM = "slo:sli_total_events:rate5m_sum30m"
# A raw SLI has no events, only its 5m error ratio: the second level keeps that ratio's
# sum and its number of samples over 30 minutes, so longer windows are its time average.
RAW_RATIO_SUM = "slo:sli_error:ratio_rate5m_sum30m"
RAW_RATIO_COUNT = "slo:sli_error:ratio_rate5m_count30m"
RULES_DIR = "prometheus/rules"
TESTS_DIR = "prometheus/tests"


# One flat folder: Prometheus globs only the last path segment of rule_files, so one
# `rules/*.yaml` picks up every service, today's and tomorrow's. Ids have no dots.
def rules_file(service: str, item: str) -> str:
    return f"{RULES_DIR}/{service}.{item}.yaml"


def tests_file(service: str, item: str) -> str:
    return f"{TESTS_DIR}/{service}.{item}.test.yaml"


ALERTMANAGER_CONFIG = "alertmanager/alertmanager.yml"
ALERTMANAGER_TEMPLATE = "alertmanager/templates/slogen.tmpl"
ALERTMANAGER_ROUTE_TESTS = "alertmanager/tests/routes.yaml"
ALERTMANAGER_TEMPLATE_DATA = "alertmanager/tests/notification.json"

# The alert catalog for the on-call: one entry per generated alert rule. Relative runbook
# links (`docs/RUNBOOKS.md#p0`) are relative to the folder that holds the spec folder and
# out/ (a repository's root): from out/docs/alerts.md that folder is two levels up.
ALERT_CATALOG = "docs/alerts.md"
CATALOG_TO_ROOT = "../../"

# Grafana: one dashboard per service and an overview; uids are stable and at most 40
# characters (service names are at most 32).
OVERVIEW_UID = "slogen-overview"
OVERVIEW_NAME = "overview"  # out/grafana/overview.json: no service may take its file
GRAFANA_DIR = "grafana"
GRAFANA_PROVISIONING = "grafana/provisioning/dashboards.yml"
# Past this many SLOs a service dashboard stops drawing a row per SLO (about 17 KB of JSON
# and 11 panels each) and shows a table of every SLO and one row repeated over the `slo`
# variable instead: its size then no longer grows with the SLO count. 20 rows is about
# what a person scrolls through (220 panels, ~350 KB); past that a table is the better index.
DASHBOARD_SLO_ROWS_MAX = 20
# The overview table grows a grid unit per SLO up to this height, then scrolls.
OVERVIEW_TABLE_MAX_H = 40


def dashboard_uid(service: str) -> str:
    return f"slo-{service}"


def dashboard_file(service: str) -> str:
    return f"{GRAFANA_DIR}/{service}.json"


def dashboard_url(grafana_url: str, service: str) -> str:
    return f"{grafana_url}/d/{dashboard_uid(service)}"


HEADER = "# generated from {source} by slogen; do not edit\n"

# The list of files slogen wrote into out/: `generate` replaces exactly these and refuses
# to touch a folder holding anything else (issue 9: `--out mydocs` deleted a user's notes).
MANIFEST = ".slogen-manifest"

# Multi-window multi-burn-rate alerts (SRE workbook, chapter 5), for a 30-day period.
# Each tier: (severity, long window, short window, share of the period's budget spent in
# the long window when the alert starts). The factor is share * period / long window:
# 14.4, 6, 3 and 1 for 30 days. Other periods scale the windows, keeping the factors.
REFERENCE_PERIOD_MS = 30 * 86_400_000
BURN_RATE_TIERS = (
    (SEVERITY_CRITICAL, 3_600_000, 300_000, Decimal("0.02")),
    (SEVERITY_CRITICAL, 21_600_000, 1_800_000, Decimal("0.05")),
    (SEVERITY_WARNING, 86_400_000, 7_200_000, Decimal("0.10")),
    (SEVERITY_WARNING, 259_200_000, 21_600_000, Decimal("0.10")),
)
# How long an absent metric is tolerated before SLOMetricAbsent fires, unless the spec
# says otherwise (alerting.absent).
ABSENT_FOR_MS = 600_000
