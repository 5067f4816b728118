"""The store facade: one engine, migrated on open, with transactions that speak StoreError."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from app.store.database import WRITE, check_revision, open_engine, translated
from app.store.database import migrate as _migrate


class Store:
    """Owns the database engine. Nothing is opened until `open()`."""

    def __init__(
        self,
        url: str,
        *,
        write_idle_timeout: float | None = None,
        application_name: str | None = None,
    ) -> None:
        """`write_idle_timeout` (PostgreSQL): the server ends a write transaction left idle this
        long (its process paused or hung), so its locks never outlive its leases."""
        self.url = url
        self._idle_timeout = (
            text(
                f"SET LOCAL idle_in_transaction_session_timeout = {int(write_idle_timeout * 1000)}"
            )
            if write_idle_timeout is not None and not url.startswith("sqlite")
            else None
        )
        self.engine = open_engine(url, application_name)
        self._write_engine = self.engine.execution_options(**{WRITE: True})
        # SQLite has one writer at a time. Queueing writers on a lock here wakes the next one the
        # moment the previous commits; leaving it to SQLite's busy handler means sleeping and
        # polling, which costs more than the writes themselves when several threads write.
        self._writer: AbstractContextManager[object] = (
            threading.RLock() if url.startswith("sqlite") else nullcontext()
        )

    def open(self, *, migrate: bool = True) -> Store:
        """Apply migrations (safe on every start); with `migrate=False`, only check that the
        schema is current, so a read-only ledger can be read."""
        if migrate:
            _migrate(self.engine)
        else:
            check_revision(self.engine)
        return self

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back on any error. On
        SQLite it holds the file's write lock from its first statement (BEGIN IMMEDIATE)."""
        with (
            self._writer,
            translated("ledger write failed"),
            self._write_engine.begin() as connection,
        ):
            if self._idle_timeout is not None:
                connection.execute(self._idle_timeout)
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with translated("ledger read failed"), self.engine.connect() as connection:
            yield connection

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """Reads that see one consistent state of the ledger while writers work (PostgreSQL:
        REPEATABLE READ; SQLite: a read transaction under WAL already is one)."""
        with translated("ledger read failed"), self.engine.connect() as connection:
            if self.dialect == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
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
