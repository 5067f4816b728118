"""Liveness and readiness, kept apart: alive means the process answers; ready means it is useful."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import State
from app.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Alive: the process answers")
def healthz() -> Health:
    return Health(status="ok", checks={"process": "ok"})


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"model": Health}},
    summary="Ready: the store answers and evaluation is not lagging",
)
def readyz(state: State) -> JSONResponse:
    checks: dict[str, str] = {}
    store_ok = state.engine.store.ping()
    checks["store"] = "ok" if store_ok else "unreachable"
    lag = state.engine.evaluation_lag() if store_ok else float("inf")
    bound = state.settings.stale_after
    checks["evaluation_lag"] = f"{lag:.0f}s (bound {bound}s)" if store_ok else "unknown"
    if state.scheduler is not None:
        checks["evaluator"] = state.scheduler.role.description
        sharing = state.scheduler.sharing
        if sharing is not None:  # PostgreSQL: the SLOs this process evaluates
            checks["slo_leases"] = f"{len(sharing.held())} held among {sharing.members} member(s)"
    if state.engine.source_error:
        checks["prometheus"] = state.engine.source_error
    ready = store_ok and lag <= bound
    body = Health(status="ok" if ready else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
