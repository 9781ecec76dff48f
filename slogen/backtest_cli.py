"""The `slogen backtest` command: options to slogen.backtest, its result to stdout, every
failure to one line on stderr and an exit code (0 the report, 2 bad input, 3 Prometheus
unreachable or holding no data)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from . import api
from . import backtest as bt
from . import backtest_report as report
from .errors import SpecError
from .promapi import QueryError, Unreachable

EXIT_BAD_INPUT = 2
EXIT_NO_DATA = 3  # as `slogen gate`: Prometheus unreachable or holding none of the data


@click.command()
@click.option(
    "--spec", type=click.Path(path_type=Path), default=Path("slo"), show_default=True, help="Folder of spec files."
)
@click.option("--prometheus", "prometheus_url", required=True, help="Prometheus base URL holding the history.")
@click.option("--from", "start", default=None, help="Start of the window (RFC 3339 or unix seconds).")
@click.option("--to", "end", default=None, help="End of the window (RFC 3339 or unix seconds); default now.")
@click.option("--days", type=float, default=None, help="The last DAYS days up to --to (default 7).")
@click.option("--service", default=None, help="Only this service's alerts.")
@click.option(
    "--evaluation-interval",
    default="1m",
    show_default=True,
    help="The interval of rule groups without their own (Prometheus' global evaluation_interval).",
)
@click.option(
    "--compare",
    type=click.Path(path_type=Path),
    default=None,
    help="A second spec folder replayed over the same history: pages and tickets per week, before and after.",
)
@click.option(
    "--incidents",
    type=click.Path(path_type=Path),
    default=None,
    help="A YAML file of known incidents: which each alert caught, and after how long.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]), default="table", show_default=True)
def backtest(
    spec: Path,
    prometheus_url: str,
    start: str | None,
    end: str | None,
    days: float | None,
    service: str | None,
    evaluation_interval: str,
    compare: Path | None,
    incidents: Path | None,
    fmt: str,
) -> None:
    """Replay every generated alert over the history Prometheus stores: when each would
    have fired. Exit 0, 2 on bad input, 3 when Prometheus is unreachable or holds no data."""
    try:
        window = bt.window_of(start, end, days, time.time())
        client = bt.client_of(prometheus_url)
        interval_s = bt.interval_of(evaluation_interval)
        known = report.load_incidents(incidents) if incidents is not None else None
        folders = [spec] + ([compare] if compare is not None else [])
        # Pages are the page severities of both spec folders (alerting.page shapes them).
        pages = frozenset().union(*(report.page_severities(api.load_model(api.Options(spec_dir=d))) for d in folders))
        replays = [bt.replay(d, client, window.start, window.end, service, interval_s) for d in folders]
    except SpecError as err:
        for problem in err.problems:
            click.echo(str(problem), err=True)
        click.echo(f"slogen: {len(err.problems)} problem(s) in the spec; nothing was replayed", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except bt.BadRequest as err:
        click.echo(f"slogen backtest: {err}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except (Unreachable, QueryError, bt.NoData) as err:
        click.echo(f"slogen backtest: {err}", err=True)
        sys.exit(EXIT_NO_DATA)
    entries, after = replays[0], (replays[1] if len(replays) > 1 else None)
    click.echo(_render(fmt, entries, after, known, window.start, window.end, pages, spec, compare), nl=False)


def _render(
    fmt: str,
    entries: list[dict[str, object]],
    after: list[dict[str, object]] | None,
    known: list[report.Incident] | None,
    start: float,
    end: float,
    pages: frozenset[str],
    spec: Path,
    compare: Path | None,
) -> str:
    """The report in its format: the replay alone, or with the comparison and/or incidents."""
    if fmt == "html":
        title = f"backtest of {spec}" + (f" against {compare}" if compare is not None else "")
        return report.html_report(entries, start, end, after=after, incidents=known, title=title, page_severities=pages)
    comparison = report.compare(entries, after, start, end, page_severities=pages) if after is not None else None
    sides = [entries] + ([after] if after is not None else [])
    matched = [report.match_incidents(e, known, start=start, end=end) for e in sides] if known is not None else None
    if fmt == "json":
        if comparison is None and matched is None:
            return json.dumps(entries, indent=2) + "\n"
        if comparison is None and matched is not None:
            return json.dumps(report.incidents_json(matched[0]), indent=2) + "\n"
        if comparison is not None and matched is None:
            return json.dumps(report.compare_json(comparison), indent=2) + "\n"
        body: dict[str, object] = {"compare": report.compare_json(comparison)} if comparison is not None else {}
        if matched is not None:
            body["incidents"] = {"before": report.incidents_json(matched[0]), "after": report.incidents_json(matched[1])}
        return json.dumps(body, indent=2) + "\n"
    parts = [report.compare_table(comparison)] if comparison is not None else []
    if matched is not None:
        labels = ["before (" + str(spec) + ")", "after (" + str(compare) + ")"] if comparison is not None else [""]
        parts += [(f"{label}:\n" if label else "") + report.incidents_table(m) for label, m in zip(labels, matched, strict=True)]
    if not parts:
        parts = [bt.table(entries, start, end)]
    text = "\n".join(parts)
    return text if text.endswith("\n") else text + "\n"
