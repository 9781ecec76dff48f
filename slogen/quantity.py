"""Durations, ratios and numbers as the spec writes them, and as PromQL wants them back.

Values are kept exact (int milliseconds, Decimal) so that `1 - 0.999` prints `0.001`.
"""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal, InvalidOperation

# ASCII digits only (`\d` would take any Unicode digit, which Prometheus refuses).
_DURATION = re.compile(
    r"(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?"
)
# Prometheus durations end at ~292y (int64 nanoseconds); nothing slogen writes (an SLO
# period, a window, `for`, Alertmanager timings) makes sense over a year.
MAX_DURATION_MS = 365 * 86_400_000
_UNITS_MS = (
    ("y", 365 * 86_400_000),
    ("w", 7 * 86_400_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1000),
    ("ms", 1),
)
# How durations are printed: weeks and years are avoided so that 30d stays 30d.
_PRINT_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))


def parse_duration(text: str) -> int:
    """`1h30m` -> 5400000 (milliseconds). Raises ValueError with a readable message."""
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match or not text.strip():
        raise ValueError(
            f"not a duration: {text!r} (use Prometheus units such as 5m, 1h30m, 30d){_fraction_hint(text)}"
        )
    total = sum(int(g) * ms for g, (_, ms) in zip(match.groups(), _UNITS_MS, strict=True) if g)
    if total <= 0:
        raise ValueError(f"duration must be positive, got {text!r}")
    if total > MAX_DURATION_MS:
        raise ValueError(f"duration must be at most 365d, got {text!r}")
    return total


@functools.lru_cache(maxsize=1 << 12)  # a few windows, printed ~100 times per SLO
def format_duration(ms: int) -> str:
    """5400000 -> `1h30m`; the inverse of parse_duration for printing."""
    if ms <= 0:
        return "0s"
    parts = []
    for unit, size in _PRINT_UNITS:
        count, ms = divmod(ms, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_ratio(value: object) -> Decimal:
    """`99.9%`, `0.999` or 0.999 -> Decimal('0.999')."""
    if isinstance(value, bool):
        raise ValueError(f"expected a percentage or a ratio, got {value!r}")
    text = str(value).strip()
    try:
        if text.endswith("%"):
            return _finite(Decimal(text[:-1].strip()) / 100, value)
        return _finite(Decimal(text), value)
    except InvalidOperation:
        raise ValueError(f"expected a percentage such as 99.9% or a ratio such as 0.999, got {value!r}") from None


def parse_number(value: object) -> Decimal:
    """A threshold: a plain number, a percentage or a duration (read as seconds)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    text = str(value).strip()
    if text.endswith("%"):
        return parse_ratio(text)
    try:
        return _finite(Decimal(text), value)
    except InvalidOperation:
        pass
    try:
        return Decimal(parse_duration(text)) / 1000
    except ValueError:
        raise ValueError(
            f"expected a number, a percentage (5%) or a duration (250ms), got {value!r}{_fraction_hint(text)}"
        ) from None


def _fraction_hint(text: object) -> str:
    """`2.5s`: Prometheus durations are whole numbers of a unit; say which to write."""
    match = re.fullmatch(r"(\d+\.\d+)(ms|s|m|h|d|w|y)", str(text).strip())
    if not match:
        return ""
    ms = Decimal(match.group(1)) * dict(_UNITS_MS)[match.group(2)]
    if ms != ms.to_integral_value() or ms <= 0:
        return ": durations are whole numbers of a unit"
    return f": durations are whole numbers of a unit, so write {format_duration(int(ms))}"


def _finite(number: Decimal, written: object) -> Decimal:
    """What Prometheus reads as a 64-bit float: no NaN or infinity, no overflow, and no
    value so small that it would silently become 0."""
    if not number.is_finite():
        raise ValueError(f"expected a finite number, got {written!r}")
    as_float = float(number)
    if math.isinf(as_float):
        raise ValueError(f"{written!r} is too large: Prometheus reads numbers as 64-bit floats (up to about 1.8e308)")
    if number != 0 and as_float == 0:
        raise ValueError(f"{written!r} is too small: Prometheus would read it as 0")
    return number


@functools.lru_cache(maxsize=1 << 14, typed=True)  # typed: 0.5 and Decimal("0.5") stay apart
def fmt(value: Decimal | int | float) -> str:
    """Print a number the same way on every machine: no exponent, no trailing zeros."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def fmt_percent(value: Decimal) -> str:
    return fmt(value * 100) + "%"


def fmt_le(value: Decimal) -> str:
    """A bucket boundary as Prometheus 2 client libraries write `le` (1, 0.25, 2.5)."""
    return fmt(value)
