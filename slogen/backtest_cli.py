"""The `slogen backtest` command: options to slogen.backtest, its result to stdout, every
failure to one line on stderr and an exit code (0 the report, 2 bad input, 3 Prometheus
unreachable or holding no data)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from . import backtest as bt
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
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def backtest(
    spec: Path,
    prometheus_url: str,
    start: str | None,
    end: str | None,
    days: float | None,
    service: str | None,
    evaluation_interval: str,
    fmt: str,
) -> None:
    """Replay every generated alert over the history Prometheus stores: when each would
    have fired. Exit 0, 2 on bad input, 3 when Prometheus is unreachable or holds no data."""
    try:
        window = bt.window_of(start, end, days, time.time())
        client = bt.client_of(prometheus_url)
        interval_s = bt.interval_of(evaluation_interval)
        entries = bt.replay(spec, client, window.start, window.end, service, interval_s)
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
    if fmt == "json":
        click.echo(json.dumps(entries, indent=2))
    else:
        click.echo(bt.table(entries, window.start, window.end), nl=False)
