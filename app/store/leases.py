"""Named leases held in the database: one holder at a time, renewed while it works, free to
take once it expires (its holder died or hung).

Taking, renewing and checking is one atomic upsert, correct on SQLite (inside BEGIN IMMEDIATE)
and PostgreSQL (ON CONFLICT locks the row). Times are the callers' wall clocks, so hosts
sharing a ledger need synchronised clocks, as evaluation already does. The 'evaluator' lease
uses it; SLO batches and leader election can take other names.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from app.store.tables import leases


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    generation: int  # grows whenever the holder changes: a fencing token
    expires_at: float
    acquired_at: float

    def held_by(self, holder: str, now: float) -> bool:
        return self.holder == holder and self.expires_at > now


def holder_id() -> str:
    """Who this process is, readable in logs and /readyz: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@cache
def _take_statement(dialect: str) -> Any:
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(leases)
    excluded = statement.excluded
    same = leases.c.holder == excluded.holder
    return statement.on_conflict_do_update(
        index_elements=["name"],
        set_={
            "holder": excluded.holder,
            "generation": case((same, leases.c.generation), else_=leases.c.generation + 1),
            "expires_at": excluded.expires_at,
            "acquired_at": case((same, leases.c.acquired_at), else_=excluded.acquired_at),
        },
        # Ours already, or expired: anyone may take it. A live lease of another holder stays.
        where=same | (leases.c.expires_at <= excluded.acquired_at),
    )


def acquire(connection: Connection, name: str, holder: str, now: float, ttl: float) -> Lease:
    """Take or renew `name` for `holder` until `now + ttl` if it is free, expired or already
    ours; returns the lease as it stands (check `held_by`)."""
    connection.execute(
        _take_statement(connection.dialect.name),
        {
            "name": name,
            "holder": holder,
            "generation": 1,
            "expires_at": now + ttl,
            "acquired_at": now,
        },
    )
    current = get(connection, name)
    assert current is not None  # just written, or held by another
    return current


def get(connection: Connection, name: str) -> Lease | None:
    row = connection.execute(select(leases).where(leases.c.name == name)).first()
    if row is None:
        return None
    return Lease(row.name, row.holder, row.generation, row.expires_at, row.acquired_at)


def release(connection: Connection, name: str, holder: str) -> None:
    """Give the lease up at once (a clean shutdown), if it is still ours."""
    connection.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))
