"""Errors a person can act on: file, line, field path and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can."""

    file: str
    line: int
    path: str
    message: str
    column: int = 0  # only where the line alone is not enough (YAML syntax errors)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.line and self.column:
            where += f":{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(Exception):
    """The user's input is wrong. Carries every problem found, sorted."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class CheckFailed(Exception):
    """An external check (promtool, amtool) rejected generated output."""


class ToolMissing(Exception):
    """A binary slogen needs is not installed."""


class OutputRefused(Exception):
    """The output folder cannot be used as asked (it holds files slogen did not write, or
    the specs): nothing was written."""


class WriteFailed(Exception):
    """The system refused to write the output (permissions, a full disk, a read-only file
    system): the output folder is left as it was."""


def shown(value: Any, limit: int = 80) -> str:
    """A value as the YAML wrote it: quoted, and cut if long."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else repr(value[:limit]) + f"... ({len(value)} characters)"
    return str(value)
