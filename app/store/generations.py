"""Definitions by generation: which set of SLO definitions is current in a shared ledger.

Each process loads definitions from its own files. When it registers them, the set's digest is
recorded with a generation: a set not seen before becomes the next generation and is
registered; the current set is registered as before (nothing changes). A set recorded at an
older generation is superseded while a live process (another member, on PostgreSQL) holds the
current one: it is not registered again, so a process restarted with the old files during a
rolling deploy never writes them back. With no such process (a single process whose files were
reverted, any SQLite ledger) it becomes the newest generation again, as does any set an
operator reloads explicitly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from app.store.locks import lock_registry
from app.store.tables import definition_generations as table


@dataclass(frozen=True)
class Decision:
    generation: int  # the current generation after the decision
    own: int  # the generation of this process's set
    register: bool  # this process's set is (now) current: register it
    superseded_by: int | None = None  # this set is an older generation's


def set_hash(content_hashes: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(content_hashes)).encode()).hexdigest()[:32]


def decide(
    connection: Connection,
    digest: str,
    holder: str,
    now: int,
    *,
    force: bool = False,
    live: frozenset[int] = frozenset(),
) -> Decision:
    """Inside the registration transaction, under the registry lock. `live`: the generations
    other live processes hold."""
    lock_registry(connection)
    rows = connection.execute(select(table).order_by(table.c.generation.desc())).all()
    latest = rows[0] if rows else None
    if latest is not None and latest.set_hash == digest:
        return Decision(latest.generation, latest.generation, register=True)
    known = next((row for row in rows if row.set_hash == digest), None)
    if known is not None and latest is not None and latest.generation in live and not force:
        return Decision(
            latest.generation, known.generation, register=False, superseded_by=latest.generation
        )
    generation = latest.generation + 1 if latest is not None else 1
    if known is not None:  # forced back in: it becomes the newest
        connection.execute(delete(table).where(table.c.set_hash == digest))
    connection.execute(
        table.insert().values(
            generation=generation, set_hash=digest, registered_at=now, holder=holder
        )
    )
    return Decision(generation, generation, register=True)


def current(connection: Connection) -> int | None:
    return connection.execute(
        select(table.c.generation).order_by(table.c.generation.desc())
    ).scalar()
