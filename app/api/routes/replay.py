"""Replay: alert policies and design changes judged over the ledger's history (read-only).

A computation, not a write: it reads the ledger, changes nothing and delivers nothing, so it
needs no more than a read. Bounded: at most 92 days and 10 million slice ends per request, and
a few requests at once (`app.engine.replay_slots`: more are answered 429).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from app.api.deps import EngineDep, ReadAccess, State
from app.api.errors import ApiError
from app.api.responses import model_json
from app.api.schemas import error_responses
from app.engine.replay import ReplayError, run_replay
from app.engine.replay_slots import ReplayBusyError
from app.slo.replay_models import ReplayOut, ReplayRequest

router = APIRouter(
    prefix="/api/v1/replay",
    tags=["replay"],
    dependencies=[ReadAccess],
    responses=error_responses(401, 422, 429, 503),
)


@router.post(
    "",
    response_model=ReplayOut,
    summary="Backtest alert policies and design changes over a past range of the ledger",
)
async def replay(request: ReplayRequest, engine: EngineDep, state: State) -> Response:
    """What happened and, with a `change`, what would have happened: budget consumed, policy
    state, incidents, every alert transition (replayed, never delivered) and per tier the
    SRE Workbook's precision, recall, detection and reset times."""
    try:
        with engine.replay_slots.taken():
            answer = await run_in_threadpool(
                run_replay,
                engine.store,
                engine.definitions,
                request,
                base_url=state.settings.base_url,
            )
    except ReplayBusyError as error:
        raise ApiError(429, str(error)) from None
    except ReplayError as error:
        raise ApiError(422, str(error)) from None
    return model_json(answer)
