"""Database engines, migrations and the driver-level SQL of the hottest writes: SQLite by default
(WAL), PostgreSQL by URL.

Migrations run on start (`migrate`), so a new version of Faultline upgrades its ledger in place.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from app.store.errors import StoreError
from app.store.locks import lock_migrations

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported only to migrate: a read-only open (`faultline report`) checks the schema
# revision without it, which keeps short commands from paying for its import.
MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default; env.py keeps it
_REVISION_LINE = re.compile(r"^(down_)?revision\s*(?::[^=\n]*)?=\s*[\"']?(\w+)", re.MULTILINE)


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
    # Checkpoints every 10,000 pages (40 MB of WAL), not 1,000: a backfill rewrote the same
    # pages to the file ten times as often, in its writer's critical path (~5 %, 30-SLO runs).
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
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
    from alembic.config import Config  # noqa: PLC0415 - see MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent). Under a lock held in the database
    (an advisory lock on PostgreSQL, the write lock on SQLite), so processes starting together
    on a fresh ledger migrate one after the other and the later ones find nothing to do."""
    from alembic import command  # noqa: PLC0415 - see MIGRATIONS

    try:
        with engine.execution_options(**{WRITE: True}).begin() as connection:
            lock_migrations(connection)
            command.upgrade(alembic_config(connection), "head")
    except SQLAlchemyError as error:
        raise StoreError(f"cannot migrate the database at {engine.url!r}: {error}") from error


@cache
def head_revision() -> str | None:
    """The newest migration's revision, read from the `revision` and `down_revision` lines of
    the migration files (the one no other file names as its parent); Alembic is asked only when
    that is not a single revision."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).add(value)
    heads = revisions - parents
    if len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - see MIGRATIONS

    head: str | None = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return head


def current_revision(connection: Connection) -> str | None:
    """The schema revision Alembic recorded in the database; None on a database without one."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return found[0] if len(found) == 1 else None


def check_revision(engine: Engine) -> None:
    """Raise StoreError unless the schema is at the newest migration; writes nothing."""
    head = head_revision()
    try:
        with engine.connect() as connection:
            current = current_revision(connection)
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


def dialect_insert(dialect: str) -> Any:
    """The dialect's INSERT (the one with ON CONFLICT), imported on first use: the PostgreSQL
    dialect is a large import that a SQLite ledger, and any read, never needs."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql  # noqa: PLC0415

        return postgresql.insert
    from sqlalchemy.dialects import sqlite  # noqa: PLC0415

    return sqlite.insert
