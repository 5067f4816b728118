"""The store facade: one engine, migrated on open, with transactions that speak StoreError."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from app.store.database import migrate, open_engine, translated


class Store:
    """Owns the database engine. Nothing is opened until `open()`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = open_engine(url)
        # SQLite has one writer at a time. Queueing writers on a lock here wakes the next one the
        # moment the previous commits; leaving it to SQLite's busy handler means sleeping and
        # polling, which costs more than the writes themselves when several threads write.
        self._writer: AbstractContextManager[object] = (
            threading.RLock() if url.startswith("sqlite") else nullcontext()
        )

    def open(self) -> Store:
        """Apply migrations; safe to call on every start."""
        migrate(self.engine)
        return self

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: committed when the block ends, rolled back on any error."""
        with self._writer, translated("ledger write failed"), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with translated("ledger read failed"), self.engine.connect() as connection:
            yield connection

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()
