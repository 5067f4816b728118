"""Chunk writes of many SLOs committed together (group commit), for a tick's one-slice chunks.

Each chunk in a transaction of its own cost a tick of a thousand SLOs a thousand BEGIN
IMMEDIATE/COMMIT pairs and hand-overs of SQLite's write lock between threads. Here writers
queue their work, and the first that finds no transaction open writes everything queued in one:
each SLO's work in a savepoint of its own, so a failure (its lease taken over, a store error)
rolls back that SLO's work only and is raised to its writer, as if it had written alone. Each
work still takes its SLO's lock and checks its fence first (`evaluate_range`), so writers of one
SLO stay serialised and a process that lost an SLO writes nothing to it. Writers wait until
their work is committed (or failed): what follows a write sees it durable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from app.store.database import translated
from app.store.errors import StoreError
from app.store.store import Store

# One SLO's part of a shared write transaction.
Work = Callable[[Connection], None]


@dataclass
class _Queued:
    work: Work
    done: bool = False
    error: BaseException | None = None


class GroupWrites:
    """Thread-safe; `write` returns once its work is committed, or raises what it raised."""

    def __init__(self, store: Store, most: int = 64) -> None:
        self.store = store
        self.most = most  # works per transaction at most: the write lock is not held for long
        self._queue: list[_Queued] = []
        self._writing = False
        self._changed = threading.Condition()
        self.transactions = 0
        self.works = 0

    def write(self, work: Work) -> None:
        queued = _Queued(work)
        with self._changed:
            self._queue.append(queued)
            while not queued.done:
                if self._writing:
                    self._changed.wait()
                    continue
                self._writing = True
                batch, self._queue = self._queue[: self.most], self._queue[self.most :]
                self._changed.release()
                try:
                    self._commit(batch)
                finally:
                    self._changed.acquire()
                    self._writing = False
                    self._changed.notify_all()
        if queued.error is not None:
            raise queued.error

    def _commit(self, batch: list[_Queued]) -> None:
        failed: BaseException | None = StoreError("the shared write transaction did not commit")
        try:
            with self.store.begin() as connection:
                for queued in batch:
                    try:
                        with translated("ledger write failed"), connection.begin_nested():
                            queued.work(connection)
                    except Exception as error:  # its own savepoint is rolled back
                        queued.error = error
            failed = None
        except StoreError as error:  # BEGIN or COMMIT failed: nothing of the batch is written
            failed = error
        finally:
            for queued in batch:
                if failed is not None and queued.error is None:
                    queued.error = failed
                queued.done = True
            self.transactions += 1
            self.works += len(batch)
