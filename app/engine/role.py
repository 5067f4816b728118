"""One evaluator per ledger: the process holding the 'evaluator' lease ticks, judges alerts and
delivers notifications; any other `faultline serve` on the same ledger serves reads only and
takes over when the lease expires (its holder died or hung).
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


class EvaluatorRole:
    """Takes and renews the evaluator lease; `held` says whether this process evaluates."""

    def __init__(
        self,
        engine: Engine,
        on_gained: Callable[[], None] | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        """`on_gained` runs whenever this process becomes the evaluator, `on_lost` whenever
        another process took the lease over (this one was paused or cut off too long)."""
        self.engine = engine
        self.on_gained = on_gained
        self.on_lost = on_lost
        self.held = False
        self.description = "not yet claimed"
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
                        EVALUATOR,
                        self.engine.holder,
                        now,
                        self.engine.config.lease_seconds,
                    )
            except StoreError as error:
                # Nothing can be written meanwhile anyway; our lease, if any, runs out by itself.
                # Said once per outage: the store's own outage line says the rest.
                if not self._failing:
                    log.warning("cannot renew the evaluator lease: %s", error)
                self._failing = True
                return self.held
            self._failing = False
            self._update(lease, now)
            return self.held

    def _update(self, lease: leases.Lease, now: float) -> None:
        mine = lease.held_by(self.engine.holder, now)
        if mine and not self.held:
            log.info(
                "evaluator lease taken (generation %d): this process evaluates", lease.generation
            )
        elif not mine and (self.held or lease.holder != self._seen_holder):
            log.warning(
                "evaluator lease held by %s: this process serves reads only and takes over "
                "if that lease expires (%.0fs without renewal)",
                lease.holder,
                self.engine.config.lease_seconds,
            )
        changed = mine != self.held
        self.held, self._seen_holder = mine, lease.holder
        self.description = (
            f"this process (generation {lease.generation})"
            if mine
            else f"held by {lease.holder} (this process serves reads)"
        )
        hook = self.on_gained if mine else self.on_lost
        if changed and hook is not None:
            hook()

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
                    leases.release(connection, EVALUATOR, self.engine.holder)
            except StoreError as error:
                log.warning(
                    "could not release the evaluator lease (it expires by itself): %s", error
                )
