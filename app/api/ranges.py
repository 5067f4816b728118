"""Time ranges from query parameters, resolved by the engine's shared rules; errors become 422."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from app.api.errors import ApiError
from app.engine import ranges
from app.slo.definitions import SLODefinition
from app.slo.windows import Window

_TIME = "RFC 3339, epoch seconds, `now` or `now-7d`"
# The query parameters of a range over one SLO's ledger.
PeriodStart = Annotated[str | None, Query(description=f"{_TIME}; default the SLO's period start")]
RangeEnd = Annotated[str | None, Query(description=f"{_TIME}; default now")]
WeekStart = Annotated[str | None, Query(description=f"{_TIME}; default 7 days ago")]


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
