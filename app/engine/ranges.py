"""Time ranges from user input: defaults, validation, and a sensible chart resolution.

The API and the dashboards resolve ranges here, so one query string means the same buckets on
both surfaces.
"""

from __future__ import annotations

from app.slo.definitions import SLODefinition
from app.slo.durations import DurationError, parse_duration
from app.slo.timeparse import parse_time
from app.slo.windows import Window, align_down, align_up, period_window

MAX_POINTS = 2000
NICE_STEPS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86400)


class RangeError(ValueError):
    """A range that cannot be served; the message says what to change."""


def _time(text: str, now: float, name: str) -> int:
    try:
        return parse_time(text, now)
    except ValueError as error:
        raise RangeError(f"{name}: {error}") from None


def nice_step(seconds: int, points: int, floor: int = 60) -> int:
    """The smallest nice bucket length that cuts `seconds` into at most `points` buckets."""
    step = next((s for s in NICE_STEPS if seconds / s <= points), NICE_STEPS[-1])
    return max(step, floor)


def resolve_range(
    start: str | None,
    end: str | None,
    now: float,
    *,
    definition: SLODefinition | None = None,
    resolution: str | None = None,
) -> tuple[Window, int]:
    """(window, bucket seconds). Defaults: the SLO's period up to now, about 300 points."""
    step_floor = definition.spec.slice_seconds if definition is not None else 60
    end_t = align_down(_time(end, now, "end") if end else int(now), step_floor)
    if start:
        start_t = _time(start, now, "start")
    elif definition is not None:
        start_t = period_window(definition.spec.period, end_t).start
    else:
        start_t = end_t - 86400
    if start_t >= end_t:
        raise RangeError("start must be before end")
    if resolution:
        try:
            step = parse_duration(resolution)
        except DurationError as error:
            raise RangeError(f"resolution: {error}") from None
        if step % step_floor:
            raise RangeError(f"resolution must be a multiple of the slice ({step_floor}s)")
    else:
        step = nice_step(end_t - start_t, 300, step_floor)
    if (end_t - start_t) / step > MAX_POINTS:
        raise RangeError(f"that is more than {MAX_POINTS} points; choose a coarser resolution")
    # Align the start to the resolution so buckets line up with rollups and with each other.
    start_t = align_down(start_t, step) if step % 3600 == 0 else start_t
    end_t = align_up(end_t, step) if step % 3600 == 0 and end_t % step else end_t
    return Window(start_t, end_t), step
