"""Time ranges from query parameters, resolved by the engine's shared rules; errors become 422."""

from __future__ import annotations

from app.api.errors import ApiError
from app.engine import ranges
from app.slo.definitions import SLODefinition
from app.slo.windows import Window


def resolve_range(
    start: str | None,
    end: str | None,
    now: float,
    *,
    definition: SLODefinition | None = None,
    resolution: str | None = None,
) -> tuple[Window, int]:
    """(window, bucket seconds); see `app.engine.ranges.resolve_range`."""
    try:
        return ranges.resolve_range(start, end, now, definition=definition, resolution=resolution)
    except ranges.RangeError as error:
        raise ApiError(422, str(error)) from None
