"""The command line: parse options, call generator.api, print, exit 0 / 1 / 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import api
from .errors import CheckFailed, SpecError, ToolMissing

EXIT_DIFF = 1
EXIT_BAD_INPUT = 2


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="slogen")
def main() -> None:
    """slogen: SLO-as-code for Prometheus."""


def _fail(err: Exception) -> None:
    if isinstance(err, SpecError):
        for problem in err.problems:
            click.echo(str(problem), err=True)
        click.echo(f"slogen: {len(err.problems)} problem(s) in the spec; nothing was written", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if isinstance(err, ToolMissing):
        click.echo(f"slogen: {err}", err=True)
        sys.exit(EXIT_DIFF)
    if isinstance(err, CheckFailed):
        click.echo(f"slogen: {err}", err=True)
        sys.exit(EXIT_DIFF)
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
    except (SpecError, ToolMissing, CheckFailed) as err:
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
    click.echo(f"wrote {out}: {len(outcome.tree)} files, {len(outcome.changed)} changed")


@main.command()
@spec_option
@templates_option
def validate(spec: Path, templates: Path) -> None:
    """Check the specs and run promtool on everything they generate."""
    try:
        lines = api.validate(_options(spec, Path("out"), templates))
    except (SpecError, ToolMissing, CheckFailed) as err:
        _fail(err)
        return
    for line in lines:
        click.echo(line)


@main.command()
@spec_option
@click.argument("target")
def explain(spec: Path, target: str) -> None:
    """Explain the alerts of SERVICE/SLO (or SERVICE/ALERT): windows, factors, time to fire."""
    from .build.explain import explain as build_explain

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
def schema() -> None:
    """Print the spec's JSON Schema (for editors)."""
    click.echo(json.dumps(api.schema(), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
