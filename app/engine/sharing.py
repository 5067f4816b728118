"""Shared evaluation on PostgreSQL: this process's share of the SLOs, claimed and renewed.

Every evaluating `faultline serve` on one PostgreSQL ledger is a member; the SLOs are divided
among the live members by leases (`app.store.slo_leases`). A tick evaluates only the SLOs this
process holds, and each chunk write checks the lease's generation in its own transaction
(`fence`), so a process paused past its lease writes nothing once another took the SLO over.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Connection

from app.engine.evaluate import Fence
from app.engine.service import Engine
from app.store import registry, slo_leases
from app.store.errors import StoreError
from app.store.locks import lock_registry

log = logging.getLogger(__name__)


class SharedEvaluation:
    """Renews membership and SLO leases; `held` is what this process may evaluate now."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._held: dict[int, int] = {}  # SLO id → generation
        self.members = 0
        self.renewed_at: float | None = None
        self._failing = False
        self._closed = False
        self._news = False  # SLOs taken since the last `take_news`
        self._guard = threading.Lock()

    def held(self) -> dict[int, int]:
        with self._guard:
            return dict(self._held)

    def renew(self) -> set[int]:
        """Join, renew, rebalance; the SLO ids newly taken (empty on a store outage: what we
        held runs out by itself, and every write checks it anyway)."""
        with self._guard:
            if self._closed:
                return set()
            now = self.engine.clock()
            ttl = self.engine.config.lease_seconds
            try:
                with self.engine.store.begin() as connection:
                    slo_leases.join(
                        connection,
                        self.engine.holder,
                        now,
                        ttl,
                        self.engine.definitions_generation,
                    )
                    lock_registry(connection, shared=True)  # no registration in between
                    registered = registry.declared_hashes(connection)
                    # Only the SLOs registered as this process's files declare them.
                    hashes = {key: declared for key, (_, declared) in registered.items()}
                    ids = [registered[d.key][0] for d in self.engine.evaluable(hashes)]
                    share = slo_leases.claim_share(connection, self.engine.holder, ids, now, ttl)
            except StoreError as error:
                if not self._failing:
                    log.warning("cannot renew the SLO leases: %s", error)
                self._failing = True
                # Past their expiry another process may hold them: evaluate nothing meanwhile.
                if self.renewed_at is not None and now - self.renewed_at >= ttl:
                    self._held = {}
                return set()
            self._failing = False
            gained = set(share.held) - set(self._held)
            lost = set(self._held) - set(share.held)
            if gained or lost:
                log.info(
                    "SLO leases: %d held (%d taken, %d given up) among %d member(s)",
                    len(share.held),
                    len(gained),
                    len(lost),
                    share.members,
                )
            self._held, self.members, self.renewed_at = share.held, share.members, now
            self._news = self._news or bool(gained)
            return gained

    def take_news(self) -> bool:
        """Whether SLOs were taken since the last call: a tick already running when they were
        evaluates them at once in another round, not a tick interval later."""
        with self._guard:
            news, self._news = self._news, False
            return news

    def fence(self, slo_id: int, generation: int) -> Fence:
        """The check every chunk write of `slo_id` makes in its own transaction."""
        holder = self.engine.holder

        def check(connection: Connection) -> None:
            slo_leases.verify(connection, slo_id, holder, generation)

        return check

    def release(self) -> None:
        """A clean shutdown: give every SLO back at once; take nothing any more."""
        with self._guard:
            self._closed = True
            self._held = {}
            try:
                with self.engine.store.begin() as connection:
                    slo_leases.release_all(connection, self.engine.holder)
            except StoreError as error:
                log.warning(
                    "could not release the SLO leases (they expire by themselves): %s", error
                )
