"""Locks held in the database, so that any number of processes may write one ledger.

PostgreSQL: transaction-scoped advisory locks, keyed by the schema (two ledgers in one database
never wait for each other) and by what is locked. SQLite: every write transaction is
`BEGIN IMMEDIATE` (see `app.store.database`), which already serialises writers of the whole
file, so these are no-ops there.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

_XACT_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:scope || current_schema()), :key)")


def _xact_lock(connection: Connection, scope: str, key: int) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(_XACT_LOCK, {"scope": scope, "key": key})


def lock_slo(connection: Connection, slo_id: int) -> None:
    """Serialise writers of one SLO's slices, rollups and checkpoint until the transaction
    ends. Taken before old values are read, so "new minus old" rollup updates never race."""
    _xact_lock(connection, "faultline.slo:", slo_id)


def lock_registry(connection: Connection) -> None:
    """Serialise registrations of definitions (two processes starting on a fresh ledger)."""
    _xact_lock(connection, "faultline.registry:", 0)


def lock_migrations(connection: Connection) -> None:
    """Serialise schema migrations (two processes starting on a fresh schema)."""
    _xact_lock(connection, "faultline.migrate:", 0)
