"""Backfill: evaluate a past range for some SLOs, durably, with progress, resumable.

Each SLO's range is a job row with a cursor that moves with every chunk written. An interrupted
backfill (Ctrl-C, a crash, a Prometheus outage) resumes from its cursor on the next run; upserts
make any overlap harmless. Only the query's own fault (bad PromQL) or a removed SLO fails a job
for good; a source that is down, slow, misconfigured or answering garbage leaves it `pending`
with the error shown, to be resumed once the source behaves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from app.engine.evaluate import evaluate_range
from app.engine.exclusions import exclusion_marker
from app.engine.service import Engine
from app.slo.windows import Window, align_down, align_up
from app.sources.errors import (
    MalformedAnswerError,
    QueryCancelledError,
    QueryError,
    SourceUnavailableError,
)
from app.store import jobs, registry
from app.store.errors import StoreError
from app.store.jobs import Job

# (job, slices done so far in this job, slices in the job)
Progress = Callable[[Job, int, int], None]


@dataclass(frozen=True)
class BackfillOutcome:
    done: list[str]
    failed: dict[str, str]
    interrupted: bool


def plan(engine: Engine, keys: Sequence[str], start: int, end: int) -> list[Job]:
    """Jobs covering `(start, end]` for each SLO; an unfinished job of an SLO is resumed instead."""
    now = int(engine.clock())
    created = []
    with engine.store.begin() as connection:
        stored = {slo.key: slo for slo in registry.list_slos(connection)}
        unfinished = {job.slo_key: job for job in jobs.unfinished_jobs(connection)}
        for key in keys:
            definition = engine.definitions.get(key)
            if definition is None or key not in stored:
                raise KeyError(key)
            if key in unfinished:
                created.append(unfinished[key])
                continue
            step = definition.spec.slice_seconds
            first, last = (
                align_up(start + 1, step),
                align_down(min(end, engine.due(definition, now)), step),
            )
            if first > last:
                continue
            job_id = jobs.create_job(connection, stored[key].id, first, last, now)
            created.append(
                Job(job_id, stored[key].id, key, first, last, None, "pending", None, now, now)
            )
    return created


def pending(engine: Engine) -> list[Job]:
    with engine.store.read() as connection:
        return jobs.unfinished_jobs(connection)


def slices_in(job: Job, step: int) -> int:
    return (job.end - job.start) // step + 1


def run(
    engine: Engine,
    queue: Sequence[Job],
    *,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> BackfillOutcome:
    """Run jobs oldest first; a query error fails only its job, a malformed answer leaves only
    its job pending, unavailability stops the run (raised, its job left pending)."""
    done: list[str] = []
    failed: dict[str, str] = {}
    for job in queue:
        if stop is not None and stop.is_set():
            return BackfillOutcome(done, failed, interrupted=True)
        try:
            with _pending_on_error(engine, job):
                _run_job(engine, job, progress, stop)
        except (InterruptedError, QueryCancelledError):
            return BackfillOutcome(done, failed, interrupted=True)
        except (QueryError, KeyError) as error:
            message = error.message if isinstance(error, QueryError) else "SLO no longer defined"
            _finish(engine, job, "failed", message)
            failed[job.slo_key] = message
            continue
        except MalformedAnswerError as error:
            failed[job.slo_key] = f"{error.message} (the job resumes on the next run)"
            continue
        _finish(engine, job, "done", None)
        done.append(job.slo_key)
    return BackfillOutcome(done, failed, interrupted=False)


@contextmanager
def _pending_on_error(engine: Engine, job: Job) -> Iterator[None]:
    """Any failure puts the job back to `pending` with its error: resumable, never `running`."""
    try:
        yield
    except (InterruptedError, QueryCancelledError, KeyboardInterrupt):
        _release(engine, job, None)
        raise
    except (MalformedAnswerError, SourceUnavailableError) as error:
        _release(engine, job, str(error))
        raise
    except (QueryError, KeyError):
        raise  # failed for good by the caller
    except Exception as error:
        _release(engine, job, f"{type(error).__name__}: {error}")
        raise


def _release(engine: Engine, job: Job, error: str | None) -> None:
    # When the store is down too, the job is resumed from its cursor all the same.
    with suppress(StoreError):
        _finish(engine, job, "pending", error)


def _run_job(
    engine: Engine, job: Job, progress: Progress | None, stop: threading.Event | None
) -> None:
    definition = engine.definitions.get(job.slo_key)
    if definition is None:
        raise KeyError(job.slo_key)
    step = definition.spec.slice_seconds
    total = slices_in(job, step)
    done = 0 if job.cursor is None else (job.cursor - job.start) // step + 1
    first = job.start if job.cursor is None else job.cursor + step
    if first <= job.end:
        with engine.store.begin() as connection:
            jobs.set_state(connection, job.id, "running", int(engine.clock()))

        def on_chunk(count: int, _last: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(job, done, total)
            if stop is not None and stop.is_set():
                # Raised between two durable chunks: the cursor already says where to resume.
                raise InterruptedError

        with engine.lock_for(job.slo_key):
            exclusions = exclusion_marker(
                engine.store, job.slo_key, Window(first - step, job.end), step
            )
            evaluate_range(
                engine.store,
                engine.source,
                definition,
                job.slo_id,
                first,
                job.end,
                on_chunk=on_chunk,
                exclusions=exclusions,
                job_id=job.id,
            )
    if progress is not None:
        progress(job, total, total)


def _finish(engine: Engine, job: Job, state: str, error: str | None) -> None:
    with engine.store.begin() as connection:
        jobs.set_state(connection, job.id, state, int(engine.clock()), error)
