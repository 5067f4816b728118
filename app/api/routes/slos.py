"""SLOs: the list with status, one SLO's report, its history, attribution and incidents."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.api.deps import EngineDep, ReadAccess
from app.api.errors import ApiError
from app.api.ranges import resolve_range
from app.api.schemas import Attribution, Definition, GroupBy, History, HistoryPoint, SLOPage
from app.api.shaping import attribution_for, definition_out
from app.engine.service import Engine
from app.slo.budget import burn_rate, consumed_by, sli_value
from app.slo.definitions import SLODefinition
from app.slo.ledger import WindowTotals
from app.slo.report import IncidentOut, SLOReport, rfc3339
from app.store import history, ledger, registry, status
from app.store.registry import StoredSLO

router = APIRouter(prefix="/api/v1/slos", tags=["slos"], dependencies=[ReadAccess])

SortKey = Literal["remaining", "burn_rate", "name"]


def _lookup(engine: Engine, service: str, slo: str) -> tuple[SLODefinition, StoredSLO]:
    key = f"{service}/{slo}"
    definition = engine.definitions.get(key)
    with engine.store.read() as connection:
        stored = registry.get_slo(connection, key)
    if definition is None or stored is None:
        raise ApiError(404, f"no SLO {key!r}; see GET /api/v1/slos for the loaded ones")
    return definition, stored


@router.get("", response_model=SLOPage, summary="List SLOs with their current status")
def list_slos(
    engine: EngineDep,
    service: Annotated[list[str] | None, Query(description="Keep these services")] = None,
    label: Annotated[list[str] | None, Query(description="NAME:VALUE, all must match")] = None,
    policy: Annotated[
        list[str] | None, Query(description="healthy, watch, at-risk, exhausted")
    ] = None,
    state: Annotated[
        list[str] | None, Query(alias="status", description="ok, no-data, stale, error")
    ] = None,
    search: Annotated[str | None, Query(max_length=200, description="Substring of the key")] = None,
    sort: SortKey = "remaining",
    order: Literal["asc", "desc"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SLOPage:
    wanted_labels = [_label(item) for item in label or []]
    selected = {
        d.key
        for d in engine.definitions.slos
        if (not service or d.service in service)
        and all(d.labels.get(name) == value for name, value in wanted_labels)
        and (not search or search.lower() in d.key.lower())
    }
    with engine.store.read() as connection:
        rows = [
            row
            for row in status.status_rows(connection)
            if row.key in selected
            and (not policy or row.policy in policy)
            and (not state or row.status in state)
        ]
        descending = (order or ("desc" if sort == "burn_rate" else "asc")) == "desc"
        rows.sort(key=lambda row: _sort_value(row, sort), reverse=descending)
        page = rows[offset : offset + limit]
        reports = status.reports(connection, [row.key for row in page])
    items = [SLOReport.model_validate_json(reports[row.key]) for row in page if row.key in reports]
    return SLOPage(items=items, total=len(rows), limit=limit, offset=offset)


def _label(text: str) -> tuple[str, str]:
    name, separator, value = text.partition(":")
    if not separator or not name:
        raise ApiError(422, f"label filter {text!r} is not NAME:VALUE")
    return name, value


def _sort_value(row: status.StatusRow, sort: SortKey) -> tuple[float, str]:
    if sort == "name":
        return (0.0, row.key)
    if sort == "burn_rate":
        return (row.burn_1h if row.burn_1h is not None else -1.0, row.key)
    return (row.remaining, row.key)


@router.get("/{service}/{slo}", response_model=SLOReport, summary="One SLO: the full report")
def get_slo(
    engine: EngineDep,
    service: str,
    slo: str,
    at: Annotated[
        str | None, Query(description="End of the window (RFC 3339); default now")
    ] = None,
) -> SLOReport:
    definition, _ = _lookup(engine, service, slo)
    moment = resolve_range(None, at, engine.clock())[1]
    return engine.report(definition.key, moment)


@router.get(
    "/{service}/{slo}/incidents",
    response_model=list[IncidentOut],
    summary="Budget incidents in the SLO's period",
)
def get_incidents(
    engine: EngineDep, service: str, slo: str, at: Annotated[str | None, Query()] = None
) -> list[IncidentOut]:
    return get_slo(engine, service, slo, at).incidents


@router.get("/{service}/{slo}/history", response_model=History, summary="Ledger as time series")
def get_history(
    engine: EngineDep,
    service: str,
    slo: str,
    start: Annotated[
        str | None, Query(description="RFC 3339 or now-7d; default period start")
    ] = None,
    end: Annotated[str | None, Query(description="RFC 3339; default now")] = None,
    resolution: Annotated[
        str | None, Query(description="Bucket length, e.g. 5m or 1h; default about 300 points")
    ] = None,
) -> History:
    definition, stored = _lookup(engine, service, slo)
    window, step = resolve_range(
        start, end, engine.clock(), definition=definition, resolution=resolution
    )
    budget = definition.spec.budget
    with engine.store.read() as connection:
        series = history.buckets(connection, stored.id, window, step)
    whole = WindowTotals()
    for _, totals in series:
        whole = whole + totals
    points = []
    running = WindowTotals()
    for end_t, totals in series:
        running = running + totals
        cumulative = burn_rate(running, budget) or 0.0
        points.append(
            HistoryPoint(
                t=rfc3339(end_t),
                total=totals.total,
                bad=totals.bad,
                sli=sli_value(totals),
                burn_rate=burn_rate(totals, budget),
                consumed={
                    mode.name: consumed_by(totals.credited.get(mode.name, 0.0), whole, budget)
                    for mode in definition.spec.failure_modes
                },
                unattributed=consumed_by(totals.unattributed, whole, budget),
                no_data_slices=totals.no_data_slices,
                cumulative_consumed=cumulative,
                cumulative_remaining=1.0 - cumulative,
            )
        )
    return History(
        service=definition.service,
        slo=definition.name,
        start=rfc3339(window.start),
        end=rfc3339(window.end),
        resolution_seconds=step,
        objective=definition.spec.objective,
        points=points,
    )


@router.get(
    "/{service}/{slo}/attribution",
    response_model=Attribution,
    summary="Budget spend of one SLO over any range, grouped",
)
def get_attribution(
    engine: EngineDep,
    service: str,
    slo: str,
    start: Annotated[str | None, Query()] = None,
    end: Annotated[str | None, Query()] = None,
    group_by: GroupBy = "failure_mode",
) -> Attribution:
    definition, stored = _lookup(engine, service, slo)
    window, _ = resolve_range(start, end, engine.clock(), definition=definition)
    with engine.store.read() as connection:
        totals = ledger.window_totals(connection, stored.id, [window])[0]
    return attribution_for(engine, window, {definition.key: totals}, group_by)


@router.get("/{service}/{slo}/definition", response_model=Definition, summary="The loaded YAML")
def get_definition(engine: EngineDep, service: str, slo: str) -> Definition:
    definition, stored = _lookup(engine, service, slo)
    return definition_out(definition, stored)
