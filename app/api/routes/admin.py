"""Commands: reload definitions, start and list backfills. Writes need the API token."""

from __future__ import annotations

import threading

from fastapi import APIRouter, status

from app.api.deps import EngineDep, ReadAccess, State, WriteAccess
from app.api.errors import ApiError
from app.api.schemas import BackfillRequest, Job, Jobs, ReloadResult, error_responses
from app.engine import backfill, views
from app.slo.report import rfc3339
from app.slo.timeparse import parse_time

router = APIRouter(
    prefix="/api/v1", tags=["commands"], responses=error_responses(401, 403, 404, 422, 503)
)


@router.post(
    "/definitions/reload",
    response_model=ReloadResult,
    dependencies=[WriteAccess],
    summary="Reload SLO, catalog and alert files from disk",
    description="All or nothing: if any file has a problem, the running definitions stay and "
    "the answer (422) lists every problem as `file:line:col: message`.",
)
def reload_definitions(state: State) -> ReloadResult:
    result = state.load_definitions()
    if result.problems:
        raise ApiError(
            422,
            f"{len(result.problems)} problem(s); the previous definitions keep running",
            [str(problem) for problem in result.problems],
        )
    sync = state.engine.replace_definitions(result.definitions)
    state.definition_problems = []
    return ReloadResult(
        loaded=len(result.definitions.slos),
        added=sync.added,
        changed_history=sync.history_reset,
        updated=sync.updated,
        removed=sync.deactivated,
        corrections=sync.corrections,
    )


def _job(job: views.BackfillJob) -> Job:
    return Job(
        id=job.id,
        slo=job.slo_key,
        start=rfc3339(job.start),
        end=rfc3339(job.end),
        done_through=rfc3339(job.cursor) if job.cursor is not None else None,
        state=job.state,
        error=job.error,
    )


@router.post(
    "/backfills",
    response_model=Jobs,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[WriteAccess],
    summary="Queue a backfill; it runs in the background and survives restarts",
)
def start_backfill(state: State, request: BackfillRequest) -> Jobs:
    engine = state.engine
    keys = request.slos or engine.definitions.keys()
    unknown = [key for key in keys if engine.definitions.get(key) is None]
    if unknown:
        raise ApiError(404, f"unknown SLO(s): {', '.join(unknown)}")
    since = f"now-{request.since}" if request.since else request.start
    if since is None:
        raise ApiError(422, "give `since` (e.g. 30d) or `start`")
    now = engine.clock()
    try:
        first = parse_time(since, now)
        last = parse_time(request.end, now) if request.end else int(now)
    except ValueError as error:
        raise ApiError(422, str(error)) from None
    if first >= last:
        raise ApiError(422, "start must be before end")
    queued = backfill.plan(engine, keys, first, last)
    if state.scheduler is None:
        # No scheduler (tests, `serve --no-scheduler`): run the queue in a thread of its own.
        threading.Thread(target=backfill.run, args=(engine, queued), daemon=True).start()
    return Jobs(jobs=[_job(job) for job in queued])


@router.get("/backfills", response_model=Jobs, dependencies=[ReadAccess], summary="Recent jobs")
def list_backfills(engine: EngineDep) -> Jobs:
    return Jobs(jobs=[_job(job) for job in views.recent_jobs(engine)])
