"""Failure modes across the organisation: which modes and design choices spent the most budget."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import EngineDep, ReadAccess
from app.api.ranges import resolve_range
from app.api.schemas import Attribution, GroupBy
from app.api.shaping import attribution_for
from app.slo.ledger import WindowTotals
from app.slo.windows import Window, align_down, align_up
from app.store import history

router = APIRouter(prefix="/api/v1/attribution", tags=["attribution"], dependencies=[ReadAccess])


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
    start: Annotated[
        str | None, Query(description="RFC 3339 or now-7d; default 7 days ago")
    ] = None,
    end: Annotated[str | None, Query(description="RFC 3339; default now")] = None,
    group_by: GroupBy = "failure_mode",
    service: Annotated[list[str] | None, Query()] = None,
) -> Attribution:
    window, _ = resolve_range(start or "now-7d", end, engine.clock())
    hours = Window(align_down(window.start, 3600), align_up(window.end, 3600))
    keys = [d.key for d in engine.definitions.slos if not service or d.service in service]
    with engine.store.read() as connection:
        spends, modes = history.spend_by_mode(connection, hours, keys)
    credited: dict[str, dict[str, float]] = {}
    for mode in modes:
        credited.setdefault(mode.slo_key, {})[mode.failure_mode] = mode.credited
    totals = {
        spend.slo_key: WindowTotals(
            total=spend.total,
            bad=spend.bad,
            unattributed=spend.unattributed,
            credited=credited.get(spend.slo_key, {}),
            slices=1,
        )
        for spend in spends
    }
    return attribution_for(engine, hours, totals, group_by)
