"""Backfill jobs: durable ranges to evaluate, with a cursor so an interrupted run resumes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from app.store.tables import backfill_jobs, slos

UNFINISHED = ("pending", "running")


@dataclass(frozen=True)
class Job:
    id: int
    slo_id: int
    slo_key: str
    start: int
    end: int
    cursor: int | None
    state: str
    error: str | None
    created_at: int
    updated_at: int


def _job(row: Any) -> Job:
    return Job(
        id=row.id,
        slo_id=row.slo_id,
        slo_key=row.key,
        start=row.start,
        end=row.end,
        cursor=row.cursor,
        state=row.state,
        error=row.error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _select() -> Any:
    return select(backfill_jobs, slos.c.key).join(slos, slos.c.id == backfill_jobs.c.slo_id)


def create_job(connection: Connection, slo_id: int, start: int, end: int, now: int) -> int:
    result = connection.execute(
        backfill_jobs.insert().values(
            slo_id=slo_id, start=start, end=end, state="pending", created_at=now, updated_at=now
        )
    )
    inserted = result.inserted_primary_key
    assert inserted is not None
    return int(inserted[0])


def unfinished_jobs(connection: Connection, slo_ids: list[int] | None = None) -> list[Job]:
    query = _select().where(backfill_jobs.c.state.in_(UNFINISHED)).order_by(backfill_jobs.c.id)
    if slo_ids is not None:
        query = query.where(backfill_jobs.c.slo_id.in_(slo_ids))
    return [_job(row) for row in connection.execute(query)]


def recent_jobs(connection: Connection, limit: int = 50) -> list[Job]:
    query = _select().order_by(backfill_jobs.c.id.desc()).limit(limit)
    return [_job(row) for row in connection.execute(query)]


def set_cursor(connection: Connection, job_id: int, cursor: int) -> None:
    connection.execute(
        update(backfill_jobs).where(backfill_jobs.c.id == job_id).values(cursor=cursor)
    )


def set_state(
    connection: Connection, job_id: int, state: str, now: int, error: str | None = None
) -> None:
    connection.execute(
        update(backfill_jobs)
        .where(backfill_jobs.c.id == job_id)
        .values(state=state, error=error, updated_at=now)
    )
