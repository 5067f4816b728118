"""Database engines, migrations and the driver-level SQL of the hottest writes: SQLite by default
(WAL), PostgreSQL by URL.

Migrations run on start (`migrate`), so a new version of Faultline upgrades its ledger in place.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from app.store.errors import StoreError
from app.store.locks import lock_migrations

MIGRATIONS = Path(__file__).parent / "migrations"


_WAL_ATTEMPTS = 100  # 10 s at most
# Execution option naming a write transaction; on SQLite it begins with BEGIN IMMEDIATE.
WRITE = "faultline_write"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite would begin transactions itself, lazily at the first write: a read of old values
    # before it would run outside any lock. We emit BEGIN ourselves instead (`_sqlite_begin`).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the scheduler writes; NORMAL sync is durable across process
    # crashes (the case we design for) and much faster than FULL.
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL once. Processes opening a fresh file together race for the
    exclusive lock the switch needs, and SQLite answers "locked" at once instead of waiting:
    the loser tries again and finds WAL set. A file already in WAL is only read (read-only
    ledgers open too)."""
    for attempt in range(_WAL_ATTEMPTS):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt + 1 == _WAL_ATTEMPTS:
                raise
            time.sleep(0.1)


def _sqlite_begin(connection: Connection) -> None:
    """BEGIN IMMEDIATE for write transactions: the file's write lock is taken before the first
    read, so a read-then-write (rollups as new minus old) never interleaves with another
    process's. Reads begin deferred and, under WAL, never wait for a writer."""
    immediate = connection.get_execution_options().get(WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def open_engine(url: str, application_name: str | None = None) -> Engine:
    """An engine for `url`; SQLite files get WAL and a generous busy timeout. PostgreSQL
    sessions carry `application_name` (the process's lease holder id), so the process that
    takes over from a dead or frozen holder can end that holder's sessions."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    arguments = {"application_name": application_name[:63]} if application_name else {}
    return create_engine(
        url, pool_pre_ping=True, pool_size=8, max_overflow=8, connect_args=arguments
    )


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent). Under a lock held in the database
    (an advisory lock on PostgreSQL, the write lock on SQLite), so processes starting together
    on a fresh ledger migrate one after the other and the later ones find nothing to do."""
    try:
        with engine.execution_options(**{WRITE: True}).begin() as connection:
            lock_migrations(connection)
            command.upgrade(alembic_config(connection), "head")
    except SQLAlchemyError as error:
        raise StoreError(f"cannot migrate the database at {engine.url!r}: {error}") from error


def check_revision(engine: Engine) -> None:
    """Raise StoreError unless the schema is at the newest migration; writes nothing."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as error:
        raise StoreError(f"cannot read the ledger at {engine.url!r}: {error}") from error
    if current != head:
        found = "no Faultline schema" if current is None else f"schema revision {current}"
        raise StoreError(
            f"the ledger at {engine.url!r} has {found}; this version needs revision {head}. "
            "Run `faultline serve` or `faultline backfill` once with write access to upgrade it."
        )


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Re-raise SQLAlchemy errors as StoreError, saying what we were doing."""
    try:
        yield
    except SQLAlchemyError as error:
        raise StoreError(f"{action}: {error}") from error


@cache
def insert_sql(table: str, columns: tuple[str, ...], paramstyle: str) -> str:
    """`INSERT INTO table (columns) VALUES (…)` in the DB-API driver's parameter style, for the
    hottest writes, which go straight to the driver (SQLite and PostgreSQL share the text)."""
    marker = "?" if paramstyle == "qmark" else "%s"
    # Built from the tables' own column names, never from input.
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join(marker for _ in columns)})"
    )
