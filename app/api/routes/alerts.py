"""Alerts: what fires now, and one SLO's alert timeline (transitions as notified)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from app.api.deps import EngineDep, ReadAccess
from app.api.lookup import loaded_definition
from app.api.ranges import PeriodStart, RangeEnd, resolve_range
from app.api.schemas import error_responses
from app.engine import views
from app.slo.report import rfc3339
from app.slo.spec import split_slo_key

router = APIRouter(
    tags=["alerts"], dependencies=[ReadAccess], responses=error_responses(401, 404, 422, 503)
)


class FiringAlertOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    service: str
    slo: str
    tier: str
    severity: str
    since: str
    summary: str


class AlertEventOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    t: str
    tier: str
    severity: str
    state: str
    summary: str


@router.get("/api/v1/alerts", response_model=list[FiringAlertOut], summary="Alerts firing now")
def firing(engine: EngineDep) -> list[FiringAlertOut]:
    alerts = views.firing_alerts(engine)
    out = []
    for alert in alerts:
        service, slo = split_slo_key(alert.slo_key)
        out.append(
            FiringAlertOut(
                key=alert.slo_key,
                service=service,
                slo=slo,
                tier=alert.tier,
                severity=alert.severity,
                since=rfc3339(alert.since),
                summary=alert.summary,
            )
        )
    return out


@router.get(
    "/api/v1/slos/{service}/{slo}/alerts",
    response_model=list[AlertEventOut],
    summary="One SLO's alert transitions (firing, resolved) in a time range",
)
def timeline(
    engine: EngineDep,
    service: str,
    slo: str,
    start: PeriodStart = None,
    end: RangeEnd = None,
) -> list[AlertEventOut]:
    definition = loaded_definition(engine, service, slo)
    key = definition.key
    window, _ = resolve_range(start, end, engine.clock(), definition=definition)
    events = views.alert_timeline(engine, key, window.start, window.end)
    return [
        AlertEventOut(
            t=rfc3339(event.t),
            tier=event.tier,
            severity=event.severity,
            state=event.state,
            summary=event.summary,
        )
        for event in events
    ]
