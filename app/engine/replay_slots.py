"""How many replays one process computes at once: a few; more are refused, not queued.

A replay is seconds of CPU (100 SLOs × 30 days: about 3 s idle), run in the API's thread pool
or a dashboard callback. Unbounded, twenty at once took every core from the tick that pages
people. Refused ones are told to ask again (the API answers 429; the SLO page says so).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from app.engine.replay import ReplayError

REPLAYS_AT_ONCE = 2


class ReplayBusyError(ReplayError):
    """Every replay slot of this process is taken; asking again in a few seconds will do."""


class ReplaySlots:
    """`REPLAYS_AT_ONCE` replays at a time, per process (one per `Engine`)."""

    def __init__(self, count: int = REPLAYS_AT_ONCE) -> None:
        self.count = count
        self._free = threading.BoundedSemaphore(count)

    @contextmanager
    def taken(self) -> Iterator[None]:
        """Hold a slot for the block; ReplayBusyError at once when none is free."""
        if not self._free.acquire(blocking=False):
            raise ReplayBusyError(
                f"{self.count} replays are being computed already; ask again in a few seconds"
            )
        try:
            yield
        finally:
            self._free.release()
