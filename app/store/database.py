"""Database engines, migrations and the driver-level SQL of the hottest writes: SQLite by default
(WAL), PostgreSQL by URL.

Migrations run on start (`migrate`), so a new version of Faultline upgrades its ledger in place.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from app.store.errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the scheduler writes; NORMAL sync is durable across process
    # crashes (the case we design for) and much faster than FULL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL and a generous busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
    except SQLAlchemyError as error:
        raise StoreError(f"cannot migrate the database at {engine.url!r}: {error}") from error


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
