"""Definitions by generation: which set of SLO definitions is current in a shared ledger.

Each process loads definitions from its own files. When it registers them, the set's digest (of
its SLOs' declared hashes: what the files say, not what each process learned since) is recorded
with a generation, numbered in the order sets are first seen:

- the current set registers as before (nothing changes);
- a set never seen becomes the next generation and is registered: it is the newest;
- a set seen before at an older generation is superseded while any other process is live: it is
  not registered again, so a replica restarted with the old files during a rolling deploy never
  writes them back (no flip-flop). Alone (a single process whose files were reverted, a SQLite
  ledger) or when an operator reloads it explicitly, it becomes the newest generation again.
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

    @property
    def superseded(self) -> bool:
        return not self.register


@dataclass(frozen=True)
class Generation:
    generation: int
    set_hash: str
    registered_at: int
    holder: str


def set_hash(declared_hashes: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(declared_hashes)).encode()).hexdigest()[:32]


def decide(
    connection: Connection,
    digest: str,
    holder: str,
    now: int,
    *,
    others_live: bool,
    force: bool = False,
) -> Decision:
    """Inside the registration transaction (takes the registry lock). `others_live`: another
    process evaluates on this ledger now."""
    lock_registry(connection)
    rows = connection.execute(select(table).order_by(table.c.generation.desc())).all()
    latest = rows[0] if rows else None
    if latest is not None and latest.set_hash == digest:
        return Decision(latest.generation, latest.generation, register=True)
    known = next((row for row in rows if row.set_hash == digest), None)
    if known is not None and latest is not None and others_live and not force:
        return Decision(latest.generation, known.generation, register=False)
    generation = latest.generation + 1 if latest is not None else 1
    if known is not None:  # brought back on purpose: it becomes the newest
        connection.execute(delete(table).where(table.c.set_hash == digest))
    connection.execute(
        table.insert().values(
            generation=generation, set_hash=digest, registered_at=now, holder=holder
        )
    )
    return Decision(generation, generation, register=True)


def history(connection: Connection) -> list[Generation]:
    """Every set registered, oldest first (a set brought back keeps only its newest number)."""
    rows = connection.execute(select(table).order_by(table.c.generation))
    return [Generation(r.generation, r.set_hash, r.registered_at, r.holder) for r in rows]


def current(connection: Connection) -> Generation | None:
    found = history(connection)
    return found[-1] if found else None
