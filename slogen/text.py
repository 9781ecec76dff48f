"""Jinja2 for the text inside generated data: alert summaries and descriptions.

Jinja's delimiters are `[[ ]]` and `[% %]` here, so that Prometheus' own `{{ $value }}`
passes through untouched. A `templates/` folder in the working directory overrides the
packaged defaults file by file. Values are computed in Python; templates only place them.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2


@lru_cache(maxsize=8)
def environment(override_dir: str | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if override_dir and Path(override_dir).is_dir():
        loaders.append(jinja2.FileSystemLoader(override_dir))
    loaders.append(jinja2.FileSystemLoader(str(files("slogen.templates"))))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        auto_reload=False,  # templates do not change during a run: no stat of each file per render
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        comment_start_string="[#",
        comment_end_string="#]",
    )


def render(name: str, override_dir: str | None = None, **context: Any) -> str:
    """Render one template to a single stripped string (newlines kept inside)."""
    return environment(override_dir).get_template(name).render(**context).strip()
