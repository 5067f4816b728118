"""Parsing times given on the command line and in API parameters."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from app.slo.durations import DurationError, parse_duration

# 9999-12-31T23:59:59Z: the last second RFC 3339 can write. Times outside [0, LATEST] are refused
# here, so no caller hands a database an integer it cannot store.
LATEST = 253_402_300_799


def parse_time(text: str, now: float | None = None) -> int:
    """RFC 3339 / ISO 8601 (`2026-11-27T10:00:00Z`), epoch seconds, `now` or `now-6h`.

    Raises ValueError with a message that says what is accepted.
    """
    moment = _parse(text, int(time.time() if now is None else now))
    if not 0 <= moment <= LATEST:
        raise ValueError(f"{text!r} is out of range: times go from 1970 to the year 9999")
    return moment


def _parse(text: str, current: int) -> int:
    candidate = text.strip()
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
