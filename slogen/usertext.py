"""What every string in a spec must be, whatever field it is in.

Spec text lands in places that run it: Prometheus expands `{{ }}` in alert labels and
annotations (a runbook URL holding `{{ with query "..." }}` printed another job's label),
and Alertmanager expands it in most notifier fields (a Slack mention of `{{ query "up" }}`
broke every critical message). No field has a use for `{{`, so it is refused in every
string rather than escaped per field: a runbook URL or channel holding it is a mistake or
an attack, and a refusal says so where an escape would hide it. Secret-looking values are
refused everywhere too (out/ is committed), and sizes are bounded: one 10 MB label value
made a 921 MB out/.
"""

from __future__ import annotations

import re

from .errors import shown

MAX_TEXT = 4096  # characters in any one string of a spec (a long PromQL expression fits)
MAX_FILE_BYTES = 1_000_000  # a spec file; split a large service over several files
MAX_DEPTH = 20  # nesting of mappings and lists; no slogen spec needs more than 8

SECRET_VALUE = re.compile(
    r"hooks\.slack\.com/services/|[?&](?:token|key|secret|password|sig)=|^[0-9a-f]{32}$|://[^/\s:@]+:[^/\s@]+@",
    re.IGNORECASE,
)
SECRET_MESSAGE = "this looks like a secret: put it in a file and reference the file (a *_file field)"


def text_problem(value: str) -> str | None:
    """Why this string may not appear in a spec, or None."""
    if len(value) > MAX_TEXT:
        return f"a text may be at most {MAX_TEXT} characters, got {len(value)}"
    if re.search(r"\{\{\s*\.window\s*\}\}", value):
        return "Sloth's {{.window}} placeholder: slogen's is $window (rate(x[$window]))"
    if "{{" in value:
        return (
            "template braces {{ are not allowed: Prometheus and Alertmanager run this text as a template, "
            f"where it could read other series or break notifications: {shown(value)}"
        )
    if SECRET_VALUE.search(value):
        return SECRET_MESSAGE
    return None
