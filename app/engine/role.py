"""One evaluator per SQLite ledger: the process holding the 'evaluator' lease ticks, judges
alerts and delivers notifications; any other `faultline serve` on the same ledger serves reads
only and takes over when the lease expires (its holder died or hung).

On PostgreSQL the same role is the 'leader' lease: every process evaluates its share of the SLOs
(`app.engine.sharing`), and the leader alone does the single-owner work (alert evaluation, the
outbox dispatcher, backfill jobs).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app.engine.service import Engine
from app.store import leases
from app.store.errors import StoreError

log = logging.getLogger(__name__)

EVALUATOR = "evaluator"
LEADER = "leader"


class EvaluatorRole:
    """Takes and renews the evaluator lease; `held` says whether this process evaluates."""

    def __init__(
        self,
        engine: Engine,
        on_gained: Callable[[], None] | None = None,
        on_lost: Callable[[], None] | None = None,
        *,
        name: str = EVALUATOR,
    ) -> None:
        """`on_gained` runs whenever this process becomes the evaluator, `on_lost` whenever
        another process took the lease over (this one was paused or cut off too long)."""
        self.engine = engine
        self.name = name
        self.on_gained = on_gained
        self.on_lost = on_lost
        self.held = False
        self.description = "not yet claimed"
        self.renewed_at: float | None = None  # the last renewal that reached the store
        self._seen_holder: str | None = None
        self._failing = False
        self._closed = False
        self._guard = threading.Lock()

    def renew(self) -> bool:
        """Take the lease, or renew ours; True when this process is the evaluator."""
        with self._guard:
            if self._closed:  # released at shutdown: a renewal still in flight takes nothing
                return False
            now = self.engine.clock()
            try:
                with self.engine.store.begin() as connection:
                    lease = leases.acquire(
                        connection,
                        self.name,
                        self.engine.holder,
                        now,
                        self.engine.config.lease_seconds,
                    )
            except StoreError as error:
                # Nothing can be written meanwhile anyway; our lease, if any, runs out by itself.
                # Said once per outage: the store's own outage line says the rest.
                if not self._failing:
                    log.warning("cannot renew the %s lease: %s", self.name, error)
                self._failing = True
                return self.held
            self._failing = False
            self.renewed_at = now
            self._update(lease, now)
            return self.held

    def _update(self, lease: leases.Lease, now: float) -> None:
        mine = lease.held_by(self.engine.holder, now)
        others = self._others_do()
        if mine and not self.held:
            log.info(
                "%s lease taken (generation %d): %s", self.name, lease.generation, self._we_do()
            )
        elif not mine and (self.held or lease.holder != self._seen_holder):
            log.warning(
                "%s lease held by %s: %s and takes over if that lease expires "
                "(%.0fs without renewal)",
                self.name,
                lease.holder,
                others,
                self.engine.config.lease_seconds,
            )
        changed = mine != self.held
        self.held, self._seen_holder = mine, lease.holder
        self.description = (
            f"this process (generation {lease.generation})"
            if mine
            else f"held by {lease.holder} ({others.removesuffix(' only')})"
        )
        hook = self.on_gained if mine else self.on_lost
        if changed and hook is not None:
            hook()

    def _we_do(self) -> str:
        if self.name == LEADER:
            return "this process leads (alerts, deliveries, backfills) and evaluates its share"
        return "this process evaluates"

    def _others_do(self) -> str:
        if self.name == LEADER:
            return "this process evaluates its share of the SLOs"
        return "this process serves reads only"

    def release(self) -> None:
        """Give the lease up on a clean shutdown, so another process takes over at once; this
        role takes nothing any more."""
        with self._guard:
            self._closed = True
            if not self.held:
                return
            self.held = False
            try:
                with self.engine.store.begin() as connection:
                    leases.release(connection, self.name, self.engine.holder)
            except StoreError as error:
                log.warning(
                    "could not release the %s lease (it expires by itself): %s", self.name, error
                )
