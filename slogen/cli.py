"""The command line: parse options, call slogen.api, print, exit 0 / 1 / 2 / 3 / 130."""

from __future__ import annotations

import errno
import gc
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import api, backtest_cli
from .errors import CheckFailed, OutputRefused, SpecError, ToolMissing, WriteFailed

ResultT = TypeVar("ResultT")

EXIT_DIFF = 1  # also: the system refused (a file unreadable or unwritable, a full disk)
EXIT_BAD_INPUT = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it

# OSErrors that say the machine refused, not that slogen is wrong: a one-line message and
# exit 1, like an unreachable Prometheus. Any other exception is a bug: exit 3.
_SYSTEM_ERRNOS = {
    errno.EACCES,
    errno.EPERM,
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EIO,
    errno.EMFILE,
    errno.ENFILE,
    errno.ENAMETOOLONG,
}


class SafeGroup(click.Group):
    """No input may end in a traceback (issue 9): whatever a command raises becomes one
    line on stderr and an exit code; the stack only with `slogen --debug`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own: usage errors (exit 2), --help, --version
        except KeyboardInterrupt:
            click.echo("\nslogen: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            # stdout closed early (`slogen schema | head`): nothing left to say to anyone.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_DIFF)
        except Exception as err:  # the last line of defence
            _report_unexpected(ctx, err)


def _report_unexpected(ctx: click.Context, err: Exception) -> None:
    command = f"slogen {ctx.invoked_subcommand}" if ctx.invoked_subcommand else "slogen"
    debug = bool(ctx.params.get("debug"))
    if debug:
        traceback.print_exception(err, file=sys.stderr)
    if isinstance(err, OSError) and err.errno in _SYSTEM_ERRNOS:
        where = f": {err.filename}" if err.filename else ""
        click.echo(f"{command}: {err.strerror}{where}", err=True)
        sys.exit(EXIT_DIFF)
    reason = " ".join(str(err).split())[:300] or "(no message)"
    hint = "" if debug else "; run `slogen --debug ...` for the stack"
    click.echo(
        f"{command}: internal error: {type(err).__name__}: {reason} (this is a bug in slogen, please report it{hint})",
        err=True,
    )
    sys.exit(EXIT_BUG)


def _options(spec: Path, out: Path, templates: Path) -> api.Options:
    return api.Options(spec_dir=spec, out_dir=out, templates=templates)


spec_option = click.option(
    "--spec",
    "spec",
    type=click.Path(path_type=Path),
    default=Path("slo"),
    show_default=True,
    help="Folder of spec files.",
)
out_option = click.option(
    "--out", "out", type=click.Path(path_type=Path), default=Path("out"), show_default=True, help="Output folder."
)
templates_option = click.option(
    "--templates",
    type=click.Path(path_type=Path),
    default=Path("templates"),
    show_default=True,
    help="Folder whose templates override the packaged ones, file by file.",
)


@click.group(cls=SafeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="slogen")
@click.option("--debug", is_flag=True, help="Show the stack of an internal error (a bug in slogen).")
def main(debug: bool) -> None:
    """slogen: SLO-as-code for Prometheus."""
    # A short-lived process that builds millions of small objects, nearly all of them
    # alive until the end: collecting cycles every 700 allocations cost a quarter of
    # `generate` on 1,000 SLOs (bench/generate.py). Collect 100 times less often.
    gc.set_threshold(100_000, 50, 100)


def _fail(err: Exception) -> None:
    if isinstance(err, SpecError):
        for problem in err.problems:
            click.echo(str(problem), err=True)
        click.echo(f"slogen: {len(err.problems)} problem(s) in the spec; nothing was written", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if isinstance(err, ToolMissing):
        click.echo(f"slogen: {err}", err=True)
        sys.exit(EXIT_DIFF)
    if isinstance(err, CheckFailed | WriteFailed):
        click.echo(f"slogen: {err}", err=True)
        sys.exit(EXIT_DIFF)
    if isinstance(err, OutputRefused):
        click.echo(f"slogen: {err}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    raise err


def _warn(outcome_warnings: tuple[str, ...]) -> None:
    for warning in outcome_warnings:
        click.echo(f"warning: {warning}", err=True)


@main.command()
@spec_option
@out_option
@templates_option
@click.option("--check", is_flag=True, help="Write nothing; exit 1 and show the diff if out/ is stale.")
def generate(spec: Path, out: Path, templates: Path, check: bool) -> None:
    """Compile the specs into out/."""
    try:
        outcome = api.generate(_options(spec, out, templates), check_only=check)
    except (SpecError, ToolMissing, CheckFailed, OutputRefused, WriteFailed) as err:
        _fail(err)
        return
    _warn(outcome.warnings)
    if check:
        if outcome.changed:
            click.echo(outcome.diff, nl=False)
            click.echo(
                f"slogen: {out} is stale: {len(outcome.changed)} file(s) differ; run `slogen generate`", err=True
            )
            sys.exit(EXIT_DIFF)
        click.echo(f"{out} is up to date ({len(outcome.tree)} files)")
        return
    if outcome.changed:
        click.echo(f"wrote {out}: {len(outcome.tree)} files, {len(outcome.changed)} changed")
    else:
        click.echo(f"{out} is up to date ({len(outcome.tree)} files); nothing was written")


@main.command()
@spec_option
@templates_option
def validate(spec: Path, templates: Path) -> None:
    """Check the specs and run promtool on everything they generate."""
    try:
        result = api.validate(_options(spec, Path("out"), templates))
    except (SpecError, ToolMissing, CheckFailed) as err:
        _fail(err)
        return
    _warn(result.warnings)
    for stage in result.stages:  # each stage with its failures under it, on stdout
        click.echo(stage.summary())
        for failure in stage.failures:
            click.echo(f"  {failure}")
    if result.failed:
        names = ", ".join(stage.name for stage in result.failed)
        click.echo(f"slogen: {len(result.failed)} of {len(result.stages)} checks failed: {names}", err=True)
        sys.exit(EXIT_DIFF)


@main.command()
@spec_option
@click.argument("target")
def explain(spec: Path, target: str) -> None:
    """Explain the alerts of SERVICE/SLO (or SERVICE/ALERT): windows, factors, time to fire."""
    from .builders.explain import explain as build_explain

    try:
        model = api.load_model(_options(spec, Path("out"), Path("templates")))
        text = build_explain(model, target)
    except SpecError as err:
        _fail(err)
        return
    except KeyError as err:
        click.echo(f"slogen: {err.args[0]}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(text)


@main.command()
@spec_option
@templates_option
@click.option(
    "--prometheus",
    "prometheus_url",
    required=True,
    callback=lambda _ctx, _param, url: _http_url(url),
    help="Prometheus base URL, e.g. http://prometheus:9090",
)
@click.option("--hours", type=click.IntRange(1, 24 * 31), default=24, show_default=True, help="How far back to look.")
@click.option("--at", "at", default=None, help="End of the period (RFC 3339 or unix seconds); default now.")
@click.option("--out", "out_file", type=click.Path(path_type=Path), default=None, help="Write the email to FILE.eml.")
@click.option("--smtp", default=None, metavar="HOST:PORT", help="Send the email through this SMTP server.")
@click.option("--starttls", is_flag=True, help="Use STARTTLS with --smtp.")
@click.option("--smtp-user", default=None, help="SMTP user (with --smtp-password-file).")
@click.option("--smtp-password-file", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None)
@click.option("--from", "sender", default=None, help="Sender; default: smtp.from of slo/alerting.yaml.")
@click.option("--to", "recipient", default=None, help="Recipient; default: the summary receiver's address.")
def digest(
    spec: Path,
    templates: Path,
    prometheus_url: str,
    hours: int,
    at: str | None,
    out_file: Path | None,
    smtp: str | None,
    starttls: bool,
    smtp_user: str | None,
    smtp_password_file: Path | None,
    sender: str | None,
    recipient: str | None,
) -> None:
    """Email what fired over the last day, from Prometheus' ALERTS history."""
    import smtplib

    from . import digest as digest_mod
    from .prometheus import PrometheusError

    try:
        end = _parse_time(at)
        request = api.DigestRequest(prometheus_url, end, hours, sender, recipient)
        message = api.digest_message(_options(spec, Path("out"), templates), request)
    except SpecError as err:
        _fail(err)
        return
    except (PrometheusError, api.DigestError, click.BadParameter) as err:
        click.echo(f"slogen: {err}", err=True)
        sys.exit(EXIT_DIFF)
    data = bytes(message)
    if out_file is not None:
        try:
            out_file.write_bytes(data)
        except OSError as err:
            click.echo(f"slogen: cannot write {out_file}: {err.strerror or err}", err=True)
            sys.exit(EXIT_DIFF)
        click.echo(f"wrote {out_file}: {message['Subject']}")
    if smtp is not None:
        password = _read_secret(smtp_password_file) if smtp_password_file else None
        try:
            digest_mod.send(message, smtp, starttls, smtp_user, password)
        except (OSError, ValueError, smtplib.SMTPException) as err:
            click.echo(f"slogen: cannot send through {smtp}: {err}", err=True)
            sys.exit(EXIT_DIFF)
        click.echo(f"sent to {message['To']} through {smtp}: {message['Subject']}")
    if out_file is None and smtp is None:
        sys.stdout.buffer.write(data)


@main.command()
@spec_option
@click.option("--prometheus", "prometheus_url", required=True, help="Prometheus base URL, e.g. http://prometheus:9090")
@click.option("--service", default=None, help="Gate only this service's SLOs.")
@click.option("--slo", "slo_id", default=None, help="Gate only this SLO (of --service, or of every service).")
@click.option("--window", default="10m", show_default=True, help="How far back to measure the burn rate (5m steps).")
@click.option("--max-burn-rate", default=None, help="Breaching above this burn rate; default: the SLO's lowest page factor.")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def gate(
    spec: Path, prometheus_url: str, service: str | None, slo_id: str | None, window: str,
    max_burn_rate: str | None, output: str,
) -> None:
    """Exit 0 if every SLO burns its budget under the threshold over the window, 1 if one
    breaches, 2 on bad input, 3 if Prometheus cannot be reached or its data is missing."""
    from . import gate as gate_mod
    from .promapi import Client, QueryError, Unreachable

    request = gate_mod.Request(service, slo_id, window, max_burn_rate)
    try:
        client = Client(prometheus_url)
    except ValueError as err:  # not an http(s) URL
        click.echo(f"slogen gate: --prometheus: {err}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    try:
        model = api.load_model(_options(spec, Path("out"), Path("templates")))
        outcome = gate_mod.run(model, client, request)
    except SpecError as err:
        _fail(err)
        return
    except gate_mod.GateInputError as err:
        click.echo(f"slogen gate: {err}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except (Unreachable, QueryError) as err:
        click.echo(f"slogen gate: {err}", err=True)
        sys.exit(gate_mod.EXIT_NO_DATA)
    shown, notes, code = gate_mod.report(outcome, output)
    if shown:
        click.echo(shown)
    for note in notes:
        click.echo(note, err=True)
    sys.exit(code)


def _http_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"wants an http:// or https:// URL, got {url!r}")
    return url


def _read_secret(path: Path) -> str:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError) as err:
        click.echo(f"slogen: cannot read {path}: {getattr(err, 'strerror', None) or err}", err=True)
        sys.exit(EXIT_DIFF)


def _parse_time(text: str | None) -> float:
    import time
    from datetime import datetime

    if text is None:
        return time.time()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise click.BadParameter(f"--at wants RFC 3339 (2026-01-31T08:00:00Z) or unix seconds, got {text!r}") from None


def _converted(convert: Callable[[], ResultT], out_dir: Path) -> ResultT:
    """Run an import or export: what cannot be carried over is bad input (exit 2, every
    problem at its file:line, nothing written); a refusal by the system exits 1."""
    try:
        return convert()
    except SpecError as err:
        for problem in err.problems:
            click.echo(str(problem), err=True)
        click.echo(f"slogen: {len(err.problems)} problem(s); nothing was written", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except OSError as err:
        click.echo(f"slogen: cannot write {out_dir}: {err.strerror or err}", err=True)
        sys.exit(EXIT_DIFF)


@main.command(name="import")
@click.argument("source_format", metavar="FORMAT", type=click.Choice(api.IMPORT_FORMATS))
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    default=Path("slo"),
    show_default=True,
    type=click.Path(path_type=Path),
    help="The spec folder to write the service files into.",
)
@click.option("--force", is_flag=True, help="Overwrite service files that exist.")
@click.option(
    "--period",
    default="30d",
    show_default=True,
    help="The window of SLOs whose format has none (Sloth's default is 30d).",
)
def import_(source_format: str, files: tuple[Path, ...], out_dir: Path, force: bool, period: str) -> None:
    """Turn OpenSLO v1, Sloth or Pyrra specs (FILEs or folders) into slogen service files,
    or refuse (exit 2, file:line: field: why) naming what cannot be carried over."""
    result = _converted(lambda: api.import_specs(source_format, list(files), out_dir, force, period), out_dir)
    _warn(tuple(result.warnings))
    for path in result.written:
        click.echo(f"wrote {path}")


@main.command(name="export")
@click.argument("target_format", metavar="FORMAT", type=click.Choice(api.EXPORT_FORMATS))
@click.option(
    "--spec",
    "spec_dir",
    default=Path("slo"),
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder of spec files.",
)
@click.option(
    "--out",
    "out_dir",
    default=Path("openslo"),
    show_default=True,
    type=click.Path(path_type=Path),
    help="The folder to write one OpenSLO file per service into.",
)
def export(target_format: str, spec_dir: Path, out_dir: Path) -> None:
    """Write the specs as OpenSLO v1 documents (Service, SLI, SLO with alertPolicies),
    and list on stderr what OpenSLO cannot hold (threshold alerts, routing)."""
    result = _converted(lambda: api.export_specs(target_format, spec_dir, out_dir), out_dir)
    for item in result.left_out:
        click.echo(f"not exported: {item}", err=True)
    for path in result.written:
        click.echo(f"wrote {path}")


@main.command()
@click.argument("kind", type=click.Choice(api.SCHEMA_KINDS), default="service")
def schema(kind: str) -> None:
    """Print the JSON Schema of a spec file: service (default), routing or settings."""
    click.echo(json.dumps(api.schema(kind), indent=2, sort_keys=True))


@main.command()
@click.argument("directory", type=click.Path(path_type=Path), default=Path("slo"))
@click.option("--force", is_flag=True, help="Overwrite the starter files where they exist.")
def init(directory: Path, force: bool) -> None:
    """Start a spec in DIRECTORY (default slo): a commented service file, alerting.yaml
    and slogen.yaml, to edit. Refuses to overwrite any of them without --force."""
    from .scaffold import ScaffoldRefused

    try:
        written = api.init(directory, force)
    except ScaffoldRefused as err:
        for problem in err.problems:
            click.echo(problem, err=True)
        hint = "; `slogen init --force` overwrites the starter files" if err.force_helps else ""
        click.echo(f"slogen: nothing was written{hint}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except OSError as err:
        click.echo(f"slogen: cannot write {directory}: {err.strerror or err}", err=True)
        sys.exit(EXIT_DIFF)  # the system refused, as for generate: not bad input
    for path in written:
        click.echo(f"wrote {path}")
    service = next(path for path in written if path.name not in ("alerting.yaml", "slogen.yaml"))
    # Beside the specs, as `slo` and `out` are: a bare `out` would be the current folder's.
    out = directory.parent / "out"
    spec = "" if directory == Path("slo") else f" --spec {directory}"
    target = "" if directory == Path("slo") else f" --out {out}"
    click.echo(
        f"next: rename {service} after your service and edit the files (each field is commented), then\n"
        f"  slogen generate{spec}{target}   compiles them into {out}/\n"
        f"  slogen validate{spec}   proves the output with promtool and amtool"
    )


# `slogen backtest` lives beside its module (backtest_cli.py): cli.py stays a list of commands.
main.add_command(backtest_cli.backtest)

if __name__ == "__main__":
    main()
