"""One line when the store goes away, one when it is back; nothing in between."""

from __future__ import annotations

import logging

import pytest

from app.store.errors import StoreError
from app.store.outage import QuietOutage, StoreOutage, watch
from app.store.store import Store


def test_an_outage_is_logged_once_and_its_end_once(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    outage = StoreOutage("postgresql://app:***@db/x", clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="app.store.outage"):
        outage.failed("connection refused")
        outage.failed("connection refused")
        now[0] += 1
        outage.answered()  # a statement that was in flight as the outage began
        assert outage.down
        now[0] += 41
        outage.answered()
        outage.answered()
    assert [record.getMessage() for record in caplog.records] == [
        "ledger store at postgresql://app:***@db/x is unavailable: connection refused "
        "(logged once until it answers again)",
        "ledger store at postgresql://app:***@db/x answers again after 42s",
    ]
    assert not outage.down and outage.outages == 1


def test_store_errors_are_quiet_only_while_a_watched_store_is_down(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path}/ledger.db")
    outage = watch(store.engine)
    quiet = QuietOutage()
    caused = logging.LogRecord("app.x", logging.ERROR, __file__, 1, "failed: %s", None, None)
    caused.args = (StoreError("ledger read failed"),)
    other = logging.LogRecord("app.x", logging.ERROR, __file__, 1, "unrelated", None, None)
    assert quiet.filter(caused) and quiet.filter(other)
    outage.failed("disk I/O error")
    try:
        assert not quiet.filter(caused) and quiet.filter(other)
    finally:
        outage.down_since = None  # the filter is process-wide: end the outage for later tests
        store.close()
