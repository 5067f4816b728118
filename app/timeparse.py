"""Parsing times given on the command line and in API parameters."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from app.slo.durations import DurationError, parse_duration


def parse_time(text: str, now: float | None = None) -> int:
    """RFC 3339 / ISO 8601 (`2026-11-27T10:00:00Z`), epoch seconds, `now` or `now-6h`.

    Raises ValueError with a message that says what is accepted.
    """
    candidate = text.strip()
    current = int(time.time() if now is None else now)
    if candidate == "now":
        return current
    if candidate.startswith("now-"):
        try:
            return current - parse_duration(candidate[4:])
        except DurationError as error:
            raise ValueError(str(error)) from None
    if candidate.isdigit():
        return int(candidate)
    try:
        moment = datetime.fromisoformat(candidate.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time; use RFC 3339 (2026-11-27T10:00:00Z), epoch seconds or now-6h"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
