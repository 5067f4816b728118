"""The store facade: one engine, migrated on open, with transactions that speak StoreError."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from app.store.database import migrate, open_engine, translated


class Store:
    """Owns the database engine. Nothing is opened until `open()`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = open_engine(url)

    def open(self) -> Store:
        """Apply migrations; safe to call on every start."""
        migrate(self.engine)
        return self

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: committed when the block ends, rolled back on any error."""
        with translated("ledger write failed"), self.engine.begin() as connection:
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
