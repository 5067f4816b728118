"""Backfill jobs: durable ranges to evaluate, with a cursor so an interrupted run resumes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

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
    holder: str | None = None
    lease_expires: float | None = None


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
        holder=row.holder,
        lease_expires=row.lease_expires,
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


def jobs_by_id(connection: Connection, ids: list[int]) -> list[Job]:
    return [_job(row) for row in connection.execute(_select().where(backfill_jobs.c.id.in_(ids)))]


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
    """Set a job's state and give its claim up (a finished job is nobody's)."""
    connection.execute(
        update(backfill_jobs)
        .where(backfill_jobs.c.id == job_id)
        .values(state=state, error=error, updated_at=now, holder=None, lease_expires=None)
    )


def _claimable(holder: str, now: float) -> Any:
    return and_(
        backfill_jobs.c.state.in_(UNFINISHED),
        or_(
            backfill_jobs.c.holder.is_(None),
            backfill_jobs.c.holder == holder,
            backfill_jobs.c.lease_expires <= now,
        ),
    )


def claim(connection: Connection, job_id: int, holder: str, now: float, ttl: float) -> bool:
    """Claim (or renew our claim on) an unfinished job until `now + ttl`; False when another
    live holder has it or it is finished. One conditional UPDATE: atomic on both databases
    (PostgreSQL re-checks the condition on the locked row; SQLite runs it under BEGIN
    IMMEDIATE), so two processes never both claim a job."""
    result = connection.execute(
        update(backfill_jobs)
        .where(backfill_jobs.c.id == job_id, _claimable(holder, now))
        .values(state="running", holder=holder, lease_expires=now + ttl, updated_at=int(now))
    )
    return result.rowcount == 1


def release(connection: Connection, job_id: int, holder: str, now: int) -> None:
    """Give up our claim on an unfinished job (interrupted): anyone may resume it at once."""
    connection.execute(
        update(backfill_jobs)
        .where(backfill_jobs.c.id == job_id, backfill_jobs.c.holder == holder)
        .values(state="pending", holder=None, lease_expires=None, updated_at=now)
    )
