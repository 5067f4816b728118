"""Prometheus-style durations ("90s", "5m", "1h30m", "30d", "2w") as whole seconds."""

from __future__ import annotations

import re
from datetime import timedelta

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_PART = re.compile(r"(\d+)(ms|[smhdwy])")
_WHOLE = re.compile(r"^(?:\d+(?:ms|[smhdwy]))+$")


class DurationError(ValueError):
    """A duration string that does not follow Prometheus' syntax."""


def parse_duration(text: str) -> int:
    """Parse a Prometheus duration into whole seconds.

    Milliseconds are refused: slices and windows are whole seconds so that every slice boundary
    is an exact integer timestamp.
    """
    candidate = text.strip()
    if not candidate or not _WHOLE.match(candidate):
        raise DurationError(
            f"{text!r} is not a duration; use a number and a unit, e.g. 30s, 5m, 1h, 28d, 2w"
        )
    total = 0
    for amount, unit in _PART.findall(candidate):
        if unit == "ms":
            raise DurationError(f"{text!r}: durations below one second are not supported")
        total += int(amount) * _UNIT_SECONDS[unit]
    if total <= 0:
        raise DurationError(f"{text!r}: a duration must be longer than zero")
    return total


def format_duration(seconds: int) -> str:
    """Format seconds the way Prometheus prints durations, largest units first ("1d6h", "5m")."""
    if seconds <= 0:
        raise DurationError("a duration must be longer than zero")
    parts: list[str] = []
    remaining = seconds
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if unit == "w" and remaining % size != 0:
            # "30d" reads better than "4w2d" and is what people write in SLO specs.
            continue
        amount, remaining = divmod(remaining, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


def as_timedelta(text: str) -> timedelta:
    return timedelta(seconds=parse_duration(text))
