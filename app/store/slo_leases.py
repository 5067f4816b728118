"""SLO leases and members: how several evaluating processes share one PostgreSQL ledger.

Each live process keeps a 'member:<holder>' lease; each SLO has a 'slo:<id>' lease in the same
`leases` table. A process holds at most its fair share (the SLOs divided by the live members,
rounded up): it renews what it holds, gives back what is over its share, and claims free or
expired SLOs with `SELECT … FOR UPDATE SKIP LOCKED`, so two processes claiming at once never
wait for, nor take, the same rows. A lease's generation grows whenever its holder changes: every
ledger write of an SLO checks it under the SLO's lock (`verify`), so a process whose lease was
taken while it was paused writes nothing over its successor's work.

A renewal touches every SLO a process may evaluate (3,000 in the benchmark), every third of a
lease period: the names go to PostgreSQL as one array parameter, not one bind parameter each
(compiling and sending a 3,000-row VALUES list took 1.8 s of Python per renewal on a loaded
2-core machine), and writes and renewals take row locks that do not conflict (`verify`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    String,
    any_,
    bindparam,
    case,
    delete,
    func,
    literal,
    not_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

from app.store.errors import StoreError
from app.store.leases import Lease
from app.store.locks import lock_slo
from app.store.tables import leases

log = logging.getLogger(__name__)

SLO_PREFIX = "slo:"
MEMBER_PREFIX = "member:"


class LeaseLostError(StoreError):
    """This process no longer holds the SLO's lease at the generation it evaluated under."""


def slo_name(slo_id: int) -> str:
    return f"{SLO_PREFIX}{slo_id}"


def slo_id_of(name: str) -> int:
    return int(name.removeprefix(SLO_PREFIX))


@dataclass(frozen=True)
class Share:
    held: dict[int, int]  # SLO id → generation held
    members: int  # live members, this one included


def join(
    connection: Connection, holder: str, now: float, ttl: float, definitions: int | None = None
) -> None:
    """Say this process is alive until `now + ttl`, holding the definitions of generation
    `definitions` (kept as the member lease's `generation`); forget members long gone."""
    generation = definitions or 0
    connection.execute(
        postgresql.insert(leases)
        .values(
            name=MEMBER_PREFIX + holder,
            holder=holder,
            generation=generation,
            expires_at=now + ttl,
            acquired_at=now,
        )
        .on_conflict_do_update(
            index_elements=["name"], set_={"expires_at": now + ttl, "generation": generation}
        )
    )
    connection.execute(
        delete(leases).where(
            leases.c.name.startswith(MEMBER_PREFIX), leases.c.expires_at < now - 10 * ttl
        )
    )


def live_members(connection: Connection, now: float) -> list[Lease]:
    rows = connection.execute(
        select(leases)
        .where(leases.c.name.startswith(MEMBER_PREFIX), leases.c.expires_at > now)
        .order_by(leases.c.acquired_at, leases.c.name)
    )
    return [Lease(r.name, r.holder, r.generation, r.expires_at, r.acquired_at) for r in rows]


def others_live(connection: Connection, holder: str, now: float) -> bool:
    """Whether another process evaluates on this ledger now (never on SQLite: one evaluator)."""
    if connection.dialect.name != "postgresql":
        return False
    return any(member.holder != holder for member in live_members(connection, now))


def revoke(connection: Connection, slo_ids: list[int]) -> None:
    """Take these SLOs from whoever holds them (their definition changes): the generation grows,
    so a chunk of the old definition in flight is refused (`verify`) once this commits; taken
    under each SLO's lock, so one already writing finishes first."""
    for slo_id in sorted(slo_ids):
        lock_slo(connection, slo_id)
    if slo_ids:
        connection.execute(
            update(leases)
            .where(leases.c.name.in_([slo_name(slo_id) for slo_id in slo_ids]))
            .values(holder="", generation=leases.c.generation + 1, expires_at=0)
        )


def slo_leases(connection: Connection) -> list[Lease]:
    rows = connection.execute(
        select(leases).where(leases.c.name.startswith(SLO_PREFIX)).order_by(leases.c.name)
    )
    return [Lease(r.name, r.holder, r.generation, r.expires_at, r.acquired_at) for r in rows]


def _names(names: list[str]) -> BindParameter[Sequence[str]]:
    """`names` as one PostgreSQL array parameter."""
    array: postgresql.ARRAY[str] = postgresql.ARRAY(String)
    return bindparam(None, names, type_=array, unique=True)


def _among(names: list[str]) -> ColumnElement[bool]:
    """The lease's name is one of `names` (`= ANY(array)`: one parameter however many)."""
    return leases.c.name == any_(_names(names))


def claim_share(
    connection: Connection, holder: str, slo_ids: list[int], now: float, ttl: float
) -> Share:
    """Renew our SLO leases among `slo_ids` (those we may evaluate), give back the others and
    what is over our fair share, claim free ones up to it, and any SLO nobody has taken for a
    whole lease period (one only some processes may evaluate, say), whatever our share."""
    names = [slo_name(slo_id) for slo_id in slo_ids]
    # Ours no longer (its definition changed): free for those who hold the registered one.
    connection.execute(
        update(leases)
        .where(leases.c.name.startswith(SLO_PREFIX), not_(_among(names)), leases.c.holder == holder)
        .values(expires_at=now - ttl)
    )
    if names:  # a lease row for every SLO, free (expired) until claimed
        connection.execute(
            postgresql.insert(leases)
            .from_select(
                ["name", "holder", "generation", "expires_at", "acquired_at"],
                select(
                    func.unnest(_names(names)), literal(""), literal(0), literal(0.0), literal(0.0)
                ),
            )
            .on_conflict_do_nothing(index_elements=["name"])
        )
    _end_sessions_of_lapsed_members(connection, now)
    members = max(1, len(live_members(connection, now)))
    fair = math.ceil(len(names) / members)
    # Never waits for our own chunk write in flight (it holds the row FOR KEY SHARE, which an
    # update of these columns does not conflict with), nor for a taker: once another process
    # took a row, the re-checked condition no longer matches it.
    mine = connection.execute(
        update(leases)
        .where(_among(names), leases.c.holder == holder)
        .values(expires_at=now + ttl)
        .returning(leases.c.name, leases.c.generation)
    ).all()
    held = {slo_id_of(row.name): row.generation for row in sorted(mine)}
    excess = sorted(held)[fair:]
    if excess:  # expired at once: the next taker bumps the generation (another holder)
        connection.execute(
            update(leases)
            .where(_among([slo_name(i) for i in excess]), leases.c.holder == holder)
            .values(expires_at=now)
        )
        for slo_id in excess:
            del held[slo_id]
    # Up to our share; beyond it only orphans, free for a whole lease period.
    chosen = _lock_free(connection, names, now, limit=max(0, fair - len(held)))
    locked = set(chosen)
    chosen += _lock_free(connection, [n for n in names if n not in locked], now - ttl)
    if chosen:
        taken = connection.execute(
            update(leases)
            .where(_among(chosen))
            .values(
                holder=holder,
                generation=case(
                    (leases.c.holder == holder, leases.c.generation),
                    else_=leases.c.generation + 1,
                ),
                expires_at=now + ttl,
                acquired_at=now,
            )
            .returning(leases.c.name, leases.c.generation)
        ).all()
        held.update({slo_id_of(row.name): row.generation for row in taken})
    return Share(held, members)


_END_LAPSED = text(
    "SELECT pg_terminate_backend(activity.pid) FROM pg_stat_activity AS activity"
    " WHERE activity.pid <> pg_backend_pid() AND activity.application_name IN ("
    "  SELECT left(holder, 63) FROM leases"
    "  WHERE name LIKE 'member:%' AND expires_at <= :now AND expires_at > :forgotten)"
)


def _end_sessions_of_lapsed_members(connection: Connection, now: float) -> None:
    """A member whose lease lapsed is dead or frozen: end its database sessions, so that a
    transaction it left open (frozen mid-statement, where no idle timeout applies) releases its
    locks and rolls back. Needs the same database role for every replica (or
    pg_signal_backend); without it, the frozen transaction holds until it ends by itself."""
    try:
        with connection.begin_nested():
            connection.execute(_END_LAPSED, {"now": now, "forgotten": now - 3600})
    except DBAPIError as error:
        log.warning("cannot end the sessions of a lapsed member: %s", error.orig)


def _lock_free(
    connection: Connection, names: list[str], expired_by: float, limit: int | None = None
) -> list[str]:
    """Lock SLO lease rows among `names` expired by `expired_by` that no other transaction has
    locked (FOR UPDATE SKIP LOCKED: claimers never wait for nor take each other's rows)."""
    if limit == 0 or not names:
        return []
    return list(
        connection.execute(
            select(leases.c.name)
            .where(_among(names), leases.c.expires_at <= expired_by)
            .order_by(leases.c.expires_at, leases.c.name)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    )


def verify(connection: Connection, slo_id: int, holder: str, generation: int) -> None:
    """Fencing, inside a write transaction: take the SLO's lock and check that `holder` still
    holds its lease at `generation`; raise `LeaseLostError` (rolling the write back) if not.

    The row is held FOR KEY SHARE until commit: a taker's claim (FOR UPDATE SKIP LOCKED) skips
    it while this write is in flight, and a write after a claim waits for it and reads the new
    holder. Our own renewals only move the expiry, an update that weaker lock does not conflict
    with: under FOR SHARE every renewal waited for the writes in flight while holding the rows
    it had renewed, and every write waited for the renewal (3,000 SLOs: a third of the time).
    A definition change's `revoke` waits for the write through the SLO's lock."""
    lock_slo(connection, slo_id)
    row = connection.execute(
        select(leases.c.holder, leases.c.generation)
        .where(leases.c.name == slo_name(slo_id))
        .with_for_update(read=True, key_share=True)
    ).first()
    if row is None or row.holder != holder or row.generation != generation:
        raise LeaseLostError(
            f"SLO {slo_id}: lease generation {generation} of {holder} was taken over"
            + (f" by {row.holder} (generation {row.generation})" if row is not None else "")
        )


def release_all(connection: Connection, holder: str) -> None:
    """A clean shutdown: our SLOs are free at once, and we are no member any more."""
    connection.execute(
        update(leases)
        .where(leases.c.name.startswith(SLO_PREFIX), leases.c.holder == holder)
        .values(expires_at=0)
    )
    connection.execute(delete(leases).where(leases.c.name == MEMBER_PREFIX + holder))
