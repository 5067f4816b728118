"""SLOs: the list with status, one SLO's report, its history, attribution and incidents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import EngineDep, ReadAccess
from app.api.errors import ApiError
from app.api.lookup import registered_slo
from app.api.paging import Limit, Offset, Order, Search
from app.api.ranges import PeriodStart, RangeEnd, resolve_range
from app.api.responses import model_json
from app.api.schemas import Definition, SLOPage, error_responses
from app.api.shaping import definition_out
from app.engine import spend, views
from app.engine.service import Engine
from app.engine.view_models import Attribution, GroupBy, History
from app.engine.views import SortKey
from app.slo.conventions import PolicyState, Status
from app.slo.report import IncidentOut, SLOReport

router = APIRouter(
    prefix="/api/v1/slos",
    tags=["slos"],
    dependencies=[ReadAccess],
    responses=error_responses(401, 404, 422, 503),
)


@router.get("", response_model=SLOPage, summary="List SLOs with their current status")
def list_slos(
    engine: EngineDep,
    service: Annotated[list[str] | None, Query(description="Keep these services")] = None,
    label: Annotated[
        list[Annotated[str, Query(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*:")]] | None,
        Query(description="NAME:VALUE, all must match"),
    ] = None,
    policy: Annotated[list[PolicyState] | None, Query()] = None,
    state: Annotated[list[Status] | None, Query(alias="status")] = None,
    search: Search = None,
    sort: SortKey = "remaining",
    order: Order = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    try:
        labels = [views.parse_label(item) for item in label or []]
    except views.FilterError as error:
        raise ApiError(422, str(error)) from None
    selection = views.SLOFilter(
        services=service or (),
        labels=labels,
        policies=policy or (),
        statuses=state or (),
        search=search,
    )
    listing = views.list_slos(engine, selection, sort, order, limit, offset)
    return model_json(
        SLOPage(items=listing.reports, total=listing.total, limit=limit, offset=offset)
    )


@router.get("/{service}/{slo}", response_model=SLOReport, summary="One SLO: the full report")
def get_slo(
    engine: EngineDep,
    service: str,
    slo: str,
    at: Annotated[
        str | None, Query(description="End of the window (RFC 3339); default now")
    ] = None,
) -> Response:
    return model_json(_report(engine, service, slo, at))


def _report(engine: Engine, service: str, slo: str, at: str | None) -> SLOReport:
    definition, _ = registered_slo(engine, service, slo)
    moment = resolve_range(None, at, engine.clock())[0].end
    return engine.report(definition.key, moment)


@router.get(
    "/{service}/{slo}/incidents",
    response_model=list[IncidentOut],
    summary="Budget incidents in the SLO's period",
)
def get_incidents(
    engine: EngineDep, service: str, slo: str, at: Annotated[str | None, Query()] = None
) -> list[IncidentOut]:
    return _report(engine, service, slo, at).incidents


@router.get("/{service}/{slo}/history", response_model=History, summary="Ledger as time series")
def get_history(
    engine: EngineDep,
    service: str,
    slo: str,
    start: PeriodStart = None,
    end: RangeEnd = None,
    resolution: Annotated[
        str | None, Query(description="Bucket length, e.g. 5m or 1h; default about 300 points")
    ] = None,
) -> Response:
    definition, stored = registered_slo(engine, service, slo)
    window, step = resolve_range(
        start, end, engine.clock(), definition=definition, resolution=resolution
    )
    return model_json(views.history_of(engine, definition, stored, window, step))


@router.get(
    "/{service}/{slo}/attribution",
    response_model=Attribution,
    summary="Budget spend of one SLO over any range, grouped",
)
def get_attribution(
    engine: EngineDep,
    service: str,
    slo: str,
    start: PeriodStart = None,
    end: RangeEnd = None,
    group_by: GroupBy = "failure_mode",
) -> Attribution:
    definition, stored = registered_slo(engine, service, slo)
    window, _ = resolve_range(start, end, engine.clock(), definition=definition)
    return spend.slo_attribution(engine, definition.key, stored, window, group_by)


@router.get("/{service}/{slo}/definition", response_model=Definition, summary="The loaded YAML")
def get_definition(engine: EngineDep, service: str, slo: str) -> Definition:
    definition, stored = registered_slo(engine, service, slo)
    return definition_out(definition, stored)
