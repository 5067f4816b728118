"""APScheduler wiring: ticks aligned to slice boundaries, and a worker for queued backfills.

Ticks never overlap (`max_instances=1`); a tick that is late is run once, not once per missed
interval (`coalesce`), because one tick catches up every missed slice anyway. Shutdown abandons
the queries in flight, lets the chunk being written finish, and waits at most `SHUTDOWN_GRACE`
seconds for that: a chunk is written in one transaction, so a process that ends anyway leaves the
checkpoint where the last durable chunk put it, and that chunk is redone.

On SQLite, ticks and the backfill worker run only while this process holds the evaluator lease
(`app.engine.role`). On PostgreSQL every process ticks the SLOs it holds (`app.engine.sharing`)
and the leader lease replaces the evaluator's: the backfill worker, and what the app hangs on
the role (alerts, the dispatcher), run on the leader only. Leases are renewed on their own
thread so a long tick never lets them lapse, and backfills run on theirs so that ticks (a
takeover's included) never hold up the takeover of a dead leader's backfill.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from app.engine import backfill
from app.engine.role import EVALUATOR, LEADER, EvaluatorRole
from app.engine.service import Engine
from app.engine.sharing import SharedEvaluation
from app.slo.windows import align_up
from app.sources.errors import SourceUnavailableError
from app.store.errors import StoreError

log = logging.getLogger(__name__)

# Seconds shutdown waits for the tick or backfill chunk in progress (queries are abandoned at
# once, so this is only ever the write of one chunk).
SHUTDOWN_GRACE = 10.0
# Share of the tick interval one tick may take; what it has not reached waits for the next.
TICK_SHARE = 0.8


class EngineScheduler:
    def __init__(
        self,
        engine: Engine,
        *,
        tick_seconds: int = 60,
        backfill_seconds: int = 15,
        on_evaluator: Callable[[], None] | None = None,
        on_reader: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        # `on_evaluator` runs when this process becomes the evaluator, `on_reader` when it
        # loses the lease to another process.
        shared = engine.store.dialect == "postgresql"
        self.role = EvaluatorRole(
            engine, on_gained=on_evaluator, on_lost=on_reader, name=LEADER if shared else EVALUATOR
        )
        self.sharing = SharedEvaluation(engine) if shared else None
        engine.sharing = self.sharing
        self.tick_seconds = tick_seconds
        self.backfill_seconds = backfill_seconds
        self._stop = threading.Event()
        self._running = 0  # ticks and backfill runs in progress
        self._backfilling = threading.Lock()  # one backfill run at a time (interval, takeover)
        self._idle = threading.Condition()
        self._scheduler = BackgroundScheduler(
            executors={
                "default": ThreadPoolExecutor(2),  # ticks
                # Not with the ticks: a tick and a takeover's tick waiting for it took both
                # threads, and a dead leader's backfill waited for them (39 s at a 3 s lease).
                "backfill": ThreadPoolExecutor(1),
                "lease": ThreadPoolExecutor(1),
            },
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
            timezone=UTC,
        )

    def start(self) -> None:
        self.role.renew()
        if self.sharing is not None:
            self.sharing.renew()
        now = self.engine.clock()
        # Start a few seconds after a slice boundary so the slice's last scrape has landed.
        first = align_up(int(now), self.tick_seconds) + 5
        self._scheduler.add_job(
            self._counted(self._tick),
            IntervalTrigger(
                seconds=self.tick_seconds, start_date=datetime.fromtimestamp(first, UTC)
            ),
            id="tick",
        )
        # Catch up right away, in a one-off run: an immediate first run of the tick job itself
        # would phase every later tick on the start time (APScheduler adds the interval to the
        # previous run), up to a tick interval after the slices they are due for.
        self._scheduler.add_job(self._counted(self._tick), id="catch-up")
        self._scheduler.add_job(
            self._counted(self._backfills),
            IntervalTrigger(seconds=self.backfill_seconds),
            id="backfills",
            executor="backfill",
        )
        self._scheduler.add_job(
            self._renew,
            IntervalTrigger(seconds=max(1.0, self.engine.config.lease_seconds / 3)),
            id="lease",
            executor="lease",
        )
        self._scheduler.start()

    def next_tick(self) -> float | None:
        """When the tick job runs next (epoch seconds), if it is scheduled."""
        job = self._scheduler.get_job("tick")
        return None if job is None or job.next_run_time is None else job.next_run_time.timestamp()

    def _renew(self) -> None:
        was_evaluator = self.role.held
        leads = self.role.renew() and not was_evaluator
        took_over = leads and self.sharing is None
        if self.sharing is not None and self.sharing.renew():
            took_over = True
        if self._stop.is_set():
            return
        if took_over:
            # Take over now, in a one-off run: moving the tick job itself would shift its phase
            # off the slice boundaries. It waits for a tick in progress (the engine's lock).
            self._scheduler.add_job(self._counted(self._tick), id="takeover", replace_existing=True)
        if leads:  # a dead leader's backfill resumes now, not at the next backfill interval
            self._scheduler.add_job(
                self._counted(lambda: self._backfills(takeover=True)),
                id="backfill-takeover",
                executor="backfill",
                replace_existing=True,
            )

    def shutdown(self, grace: float = SHUTDOWN_GRACE) -> bool:
        """Stop scheduling, abandon queries in flight, and wait up to `grace` seconds for the
        chunk being written; whether everything stopped in time."""
        self._stop.set()
        self.engine.stop()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        with self._idle:
            stopped = self._idle.wait_for(lambda: self._running == 0, timeout=grace)
        if not stopped:
            log.warning(
                "shutdown: gave up waiting for the evaluation in progress after %gs; "
                "its chunk in flight will be evaluated again on the next start",
                grace,
            )
        # Whatever still runs writes under the SLOs' locks: another process may take over now.
        if self.sharing is not None:
            self.sharing.release()
        self.role.release()
        return stopped

    def _counted(self, job: Callable[[], None]) -> Callable[[], None]:
        """`job`, counted as running so that shutdown knows when nothing runs any more."""

        def run() -> None:
            with self._idle:
                self._running += 1
            try:
                job()
            finally:
                with self._idle:
                    self._running -= 1
                    self._idle.notify_all()

        return run

    def _tick(self) -> None:
        if not self.role.held and self.sharing is None:
            return
        if self.sharing is not None:
            self.sharing.take_news()  # this round evaluates them
        self._tick_once()
        while self.sharing is not None and self.sharing.take_news() and not self._stop.is_set():
            self._tick_once()  # SLOs taken over during the round

    def _tick_once(self) -> None:
        try:
            result = self.engine.tick(deadline=TICK_SHARE * self.tick_seconds)
        except StoreError:
            log.exception("tick failed: the ledger store is unavailable")
            return
        except Exception:  # the next tick must still run
            log.exception("tick failed")
            return
        if result.unavailable:
            log.warning("tick stopped early: %s", result.unavailable)
        if result.deferred and not self._stop.is_set():
            log.warning("tick deadline: %d SLO(s) left for the next tick", len(result.deferred))
        log.info(
            "tick: %d SLO(s) advanced, %d error(s), %.1fs",
            len(result.evaluated),
            len(result.errors),
            result.seconds,
        )

    def _backfills(self, *, takeover: bool = False) -> None:
        """Run the queued backfills (the leader). On taking the lead, jobs still claimed by the
        previous leader are waited for and taken over as soon as their claims expire."""
        # A takeover waits for an interval run in progress (which stopped at the jobs still
        # claimed by the dead leader: runs take jobs in order) instead of leaving them to the
        # next interval.
        if not self.role.held or not self._backfilling.acquire(blocking=takeover):
            return
        try:
            self._run_backfills(wait=takeover)
        finally:
            self._backfilling.release()

    def _run_backfills(self, *, wait: bool) -> None:
        queue = backfill.pending(self.engine)
        if not queue:
            return
        try:
            backfill.run(self.engine, queue, stop=self._stop, wait=wait, in_order=True)
        except (SourceUnavailableError, StoreError) as error:
            log.warning("backfill paused: %s", error)
        except Exception:  # the next run must still happen; the job stays resumable
            log.exception("backfill failed")
