"""One log line when the ledger store stops answering, one when it answers again.

During an outage every tick, backfill round, dispatcher poll, scrape and request fails on the
store, and each used to log its own traceback. The store's engine reports connection failures
and the statements that ran to a `StoreOutage`, which logs the change of state once; `QuietOutage`
drops the records caused by store errors while the outage lasts, since that line said it all.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from app.store.errors import StoreError

log = logging.getLogger(__name__)

# Every outage being watched in this process, for the logging filter.
_WATCHED: weakref.WeakSet[StoreOutage] = weakref.WeakSet()


class StoreOutage:
    """Whether the store is down, and since when; logs each change of state once."""

    # Statements that were already in flight when the outage began may still complete; a
    # success this soon after the first failure does not end the outage.
    SETTLE_SECONDS = 2.0

    def __init__(self, shown_url: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.shown_url = shown_url
        self._clock = clock
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self.outages = 0

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, detail: str) -> None:
        with self._lock:
            if self.down_since is not None:
                return
            self.down_since = self._clock()
            self.outages += 1
        log.warning(
            "ledger store at %s is unavailable: %s (logged once until it answers again)",
            self.shown_url,
            detail,
        )

    def answered(self) -> None:
        if not self.down:  # the common case, without taking the lock
            return
        with self._lock:
            since = self.down_since
            if since is None:  # another thread logged the recovery
                return
            seconds = self._clock() - since
            if seconds < self.SETTLE_SECONDS:
                return
            self.down_since = None
        log.warning("ledger store at %s answers again after %.0fs", self.shown_url, seconds)


def first_line(error: BaseException) -> str:
    """The driver's own first line ("connection refused …"), without SQL or parameters."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def watch(engine: Engine) -> StoreOutage:
    """Report `engine`'s connection failures and recoveries to a new `StoreOutage`."""
    outage = StoreOutage(engine.url.render_as_string(hide_password=True))
    _WATCHED.add(outage)

    def on_error(context: ExceptionContext) -> None:
        error = context.sqlalchemy_exception
        # Connection trouble only: a query the database refuses is not an outage.
        if context.is_disconnect or isinstance(error, (OperationalError, InterfaceError)):
            outage.failed(first_line(context.original_exception))

    def on_answer(*_: Any) -> None:
        outage.answered()

    event.listen(engine, "handle_error", on_error)
    # A statement that ran is the proof: a pooled connection checks out before it is used.
    event.listen(engine, "after_cursor_execute", on_answer)
    return outage


def _store_error_in(record: logging.LogRecord) -> bool:
    if record.exc_info and isinstance(record.exc_info[1], StoreError):
        return True
    args = record.args if isinstance(record.args, tuple) else ()
    return any(isinstance(arg, StoreError) for arg in args)


class QuietOutage(logging.Filter):
    """Drops records caused by a store error while a watched store is down."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == __name__ or not _store_error_in(record):
            return True
        return not any(outage.down for outage in list(_WATCHED))


def quiet_handlers(root: logging.Logger | None = None) -> None:
    """Put `QuietOutage` on the root logger's handlers (once each)."""
    for handler in (root or logging.getLogger()).handlers:
        if not any(isinstance(existing, QuietOutage) for existing in handler.filters):
            handler.addFilter(QuietOutage())


def wait_until_answering(
    url: str,
    *,
    cap: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Block until the database at `url` accepts a connection, logging one line per failed
    attempt and waiting 1, 2, 4 … `cap` seconds between attempts; returns the attempts made.

    A supervisor that restarts a crashed process would otherwise crash-loop it while the
    database is down. SQLite is not waited for: a file opens at once or never will.
    """
    if url.startswith("sqlite"):
        return 1
    engine = create_engine(url, poolclass=NullPool)
    shown = engine.url.render_as_string(hide_password=True)
    attempt = 1
    try:
        while True:
            try:
                with engine.connect():
                    return attempt
            except SQLAlchemyError as error:
                delay = min(cap, 2.0 ** (attempt - 1))
                log.warning(
                    "ledger store at %s does not answer (attempt %d: %s); retrying in %.0fs",
                    shown,
                    attempt,
                    first_line(error),
                    delay,
                )
            sleep(delay)
            attempt += 1
    finally:
        engine.dispose()
