"""APScheduler wiring: ticks aligned to slice boundaries, and a worker for queued backfills.

Ticks never overlap (`max_instances=1`); a tick that is late is run once, not once per missed
interval (`coalesce`), because one tick catches up every missed slice anyway. Shutdown waits for
the running tick, so no chunk is left half-written (and a half-written one would be redone).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from app.engine import backfill
from app.engine.service import Engine
from app.slo.windows import align_up
from app.sources.errors import SourceUnavailableError
from app.store.errors import StoreError

log = logging.getLogger(__name__)


class EngineScheduler:
    def __init__(
        self, engine: Engine, *, tick_seconds: int = 60, backfill_seconds: int = 15
    ) -> None:
        self.engine = engine
        self.tick_seconds = tick_seconds
        self.backfill_seconds = backfill_seconds
        self._stop = threading.Event()
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(2)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
            timezone=UTC,
        )

    def start(self) -> None:
        now = self.engine.clock()
        # Start a few seconds after a slice boundary so the slice's last scrape has landed.
        first = align_up(int(now), self.tick_seconds) + 5
        self._scheduler.add_job(
            self._tick,
            IntervalTrigger(
                seconds=self.tick_seconds, start_date=datetime.fromtimestamp(first, UTC)
            ),
            id="tick",
            next_run_time=datetime.now(UTC),  # catch up right away on start
        )
        self._scheduler.add_job(
            self._backfills,
            IntervalTrigger(seconds=self.backfill_seconds),
            id="backfills",
        )
        self._scheduler.start()

    def shutdown(self) -> None:
        """Stop scheduling and wait for the tick or backfill chunk in progress."""
        self._stop.set()
        self.engine.stopping.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def _tick(self) -> None:
        try:
            result = self.engine.tick()
        except StoreError:
            log.exception("tick failed: the ledger store is unavailable")
            return
        if result.unavailable:
            log.warning("tick stopped early: %s", result.unavailable)
        log.info(
            "tick: %d SLO(s) advanced, %d error(s), %.1fs",
            len(result.evaluated),
            len(result.errors),
            result.seconds,
        )

    def _backfills(self) -> None:
        queue = backfill.pending(self.engine)
        if not queue:
            return
        try:
            backfill.run(self.engine, queue, stop=self._stop)
        except (SourceUnavailableError, StoreError) as error:
            log.warning("backfill paused: %s", error)
