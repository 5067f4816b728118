"""Locks held in the database, so that any number of processes may write one ledger.

PostgreSQL: transaction-scoped advisory locks, keyed by the schema (two ledgers in one database
never wait for each other) and by what is locked. SQLite: every write transaction is
`BEGIN IMMEDIATE` (see `app.store.database`), which already serialises writers of the whole
file, so these are no-ops there.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

_XACT_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:scope || current_schema()), :key)")
_XACT_LOCK_SHARED = text(
    "SELECT pg_advisory_xact_lock_shared(hashtext(:scope || current_schema()), :key)"
)
# A group's ledger is locked by its SLO's lock (`parent_id`), in the same one statement.
_LEDGER_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtext('faultline.slo:' || current_schema()), "
    "coalesce((SELECT parent_id FROM slos WHERE id = :key), :key))"
)


def _xact_lock(connection: Connection, scope: str, key: int, *, shared: bool = False) -> None:
    if connection.dialect.name == "postgresql":
        statement = _XACT_LOCK_SHARED if shared else _XACT_LOCK
        connection.execute(statement, {"scope": scope, "key": key})


def lock_slo(connection: Connection, slo_id: int) -> None:
    """Serialise writers of one SLO's slices, rollups and checkpoint until the transaction
    ends. Taken before old values are read, so "new minus old" rollup updates never race.

    The ledgers of a grouped SLO's groups share its lock: a transaction writing an SLO and
    its thousands of groups holds one lock, not one per group (PostgreSQL's lock table holds
    `max_locks_per_transaction` × connections in all), and every writer of a group, whichever
    path it takes, waits for the writers of its SLO."""
    if connection.dialect.name == "postgresql":
        connection.execute(_LEDGER_LOCK, {"key": slo_id})


def lock_registry(connection: Connection, *, shared: bool = False) -> None:
    """Serialise registrations of definitions (two processes starting on a fresh ledger).
    `shared`: for a reader that acts on what is registered (claiming SLOs by definition), so
    that no registration commits between its read and its act."""
    _xact_lock(connection, "faultline.registry:", 0, shared=shared)


def lock_migrations(connection: Connection) -> None:
    """Serialise schema migrations (two processes starting on a fresh schema)."""
    _xact_lock(connection, "faultline.migrate:", 0)
