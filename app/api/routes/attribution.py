"""Failure modes across the organisation: which modes and design choices spent the most budget."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import EngineDep, ReadAccess
from app.api.ranges import RangeEnd, WeekStart, resolve_range
from app.api.schemas import error_responses
from app.engine import spend
from app.engine.view_models import Attribution, GroupBy

router = APIRouter(
    prefix="/api/v1/attribution",
    tags=["attribution"],
    dependencies=[ReadAccess],
    responses=error_responses(401, 422, 503),
)


@router.get(
    "",
    response_model=Attribution,
    summary="Budget spend across all SLOs, grouped and ranked",
    description="Start and end are rounded outwards to whole hours (sums come from hourly "
    "rollups). `consumed` of a group is the sum, over the SLOs it hit, of the share of each "
    "SLO's budget it spent in the range.",
)
def org_attribution(
    engine: EngineDep,
    start: WeekStart = None,
    end: RangeEnd = None,
    group_by: GroupBy = "failure_mode",
    service: Annotated[list[str] | None, Query()] = None,
) -> Attribution:
    window, _ = resolve_range(start or "now-7d", end, engine.clock())
    return spend.org_attribution(engine, window, group_by, service)
