"""The repository is a team's SLO repo: its slo/ and out/ are theirs. The tool's own tests
run on fixtures under tests/ (tests/cases/plan is the launch plan); `make test` checks the
team's slo/ with slogen itself (generate --check, validate)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from .conftest import PLAN, slogen

TESTS = Path(__file__).parent
# REPO / "slo", REPO / "out/...", or running the CLI in the repository (its default --spec slo)
READS_THE_REPOSITORYS_SPEC = re.compile(r"""\bREPO\s*/\s*["'](slo|out)\b|\bcwd\s*=\s*REPO\b""")
# The exceptions, by module, each with its reason.
MAY_READ_THE_REPOSITORYS_SPEC: set[str] = set()


def test_no_test_reads_the_repositorys_slo_or_out() -> None:
    offenders = [
        f"tests/{path.name}:{number}: {line.strip()}"
        for path in sorted(TESTS.glob("*.py"))
        if path.name not in MAY_READ_THE_REPOSITORYS_SPEC
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if READS_THE_REPOSITORYS_SPEC.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == [], "use the fixtures under tests/ (PLAN / ...):\n" + "\n".join(offenders)


def test_the_cli_helper_runs_in_the_plan_fixture_unless_told_otherwise() -> None:
    """`slogen("validate")` with no cwd reads tests/cases/plan/slo, not the team's slo/."""
    assert inspect.signature(slogen).parameters["cwd"].default == PLAN
    assert (PLAN / "slo").is_dir() and (PLAN / "out").is_dir()


def test_every_python_package_of_slogen_ships_in_the_wheel() -> None:
    """pyproject.toml lists the packages by name: one left out installs without it (the
    importers were, and `slogen import` would have failed outside an editable install)."""
    import tomllib

    root = Path(__file__).resolve().parent.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(root).parts) for init in (root / "slogen").rglob("__init__.py")
    }
    assert found <= listed, f"not in pyproject.toml's packages: {sorted(found - listed)}"
