"""The engine: keeps definitions, evaluates ticks and backfills, refreshes status snapshots.

A tick evaluates every slice since each SLO's checkpoint, so a restart or a Prometheus outage
leaves no hole once Prometheus answers again. A query error or a malformed answer marks only its
SLO; an unavailable Prometheus stops the tick early (nothing else would answer either) and SLOs
turn stale. The scheduler gives each tick a deadline: SLOs not reached by then, and the rest of a
long catch-up, are left for the next tick (the checkpoint moves with each durable chunk, so
nothing is lost).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from app.engine.evaluate import Fence, Shares, evaluate_range
from app.engine.exclusions import exclusion_marker, sync_declared
from app.engine.group_writes import GroupWrites
from app.engine.registration import evaluable, register, say_superseded
from app.engine.replay_slots import ReplaySlots
from app.engine.reports import Freshness, build_slo_report
from app.engine.sampling import learn_sampling, unknown
from app.engine.statuses import Statuses
from app.engine.ticks import SHORT_CATCH_UP, TickResult, ahead_reads, furthest_behind_first
from app.slo.definitions import DefinitionSet, SLODefinition
from app.slo.report import SLOReport
from app.slo.windows import Window, align_down, align_up, period_window
from app.sources.shared_reads import SharedReads
from app.sources.signals import SignalSource
from app.store import leases, registry
from app.store.errors import StoreError
from app.store.registry import StoredSLO, SyncResult
from app.store.slo_leases import LeaseLostError
from app.store.store import Store

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class EngineConfig:
    evaluation_delay: int = 60
    stale_after: int = 300
    initial_backfill: int | None = None  # default: each SLO's period
    history_limit: int = 90 * 86400
    concurrency: int = 4
    # How long a claim (the evaluator lease, a backfill job) holds without renewal: a process
    # that dies is replaced after at most this long.
    lease_seconds: float = 60.0
    scrape_interval: int | None = None  # the source's, when known; else learned per SLO
    max_groups_total: int | None = None  # groups over all grouped SLOs at most (None: no cap)

    @property
    def freshness(self) -> Freshness:
        return Freshness(stale_after=self.stale_after, evaluation_delay=self.evaluation_delay)


class Engine:
    """Thread-safe: ticks, backfills and reloads may come from the scheduler and the API."""

    # Statuses of short catch-ups written together at the end of a tick (see `_catch_up`).
    deferred_statuses = True

    def __init__(
        self,
        store: Store,
        source: SignalSource,
        definitions: DefinitionSet,
        config: EngineConfig | None = None,
        clock: Clock = time.time,
        holder: str | None = None,
    ) -> None:
        self.store, self.source = store, source
        self.config = config or EngineConfig()
        self.replay_slots = ReplaySlots()  # replays computed at once (API, dashboards)
        self.clock = clock
        self.started_at = int(clock())  # live alert judging begins with this process
        self._declared = definitions  # as loaded; `_definitions` runs them on effective slices
        self._definitions = definitions
        self._tick_lock = threading.Lock()
        self._slo_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.after_tick: list[Callable[[TickResult], None]] = []
        self.last_tick: TickResult | None = None
        self.source_error: str | None = None
        # Set on shutdown: a long catch-up stops after the chunk in flight, losing nothing.
        self.stopping = threading.Event()
        # This process, as the holder of leases and job claims in the shared ledger.
        self.holder = holder or leases.holder_id()
        # Shared evaluation (PostgreSQL, set by the scheduler): ticks evaluate only the SLOs
        # this process holds, each chunk write fenced by its lease's generation.
        self.sharing: Shares | None = None
        # Definitions by generation: the generation of the loaded set, the newer one that
        # superseded it (then it is not registered), and the SLOs left to other processes.
        self.definitions_generation: int | None = None
        self.superseded_by: int | None = None
        self.withheld: list[str] = []
        self.statuses = Statuses(store, self.config.freshness)

    def stop(self) -> None:
        """Shutdown: stop after the durable chunks, and abandon the queries in flight."""
        self.stopping.set()
        self.source.cancel()

    # -- definitions ---------------------------------------------------------------------

    @property
    def definitions(self) -> DefinitionSet:
        return self._definitions

    def sync(self, *, force: bool = False) -> SyncResult:
        """Register the current definitions in the store (new, changed, removed SLOs) and make
        the stored budget corrections match the YAML declarations; not if a newer set was
        registered by another process (`app.store.generations`), unless `force`d."""
        # No query here (startup, reloads): intervals still unknown are learned by the next
        # tick, before it evaluates anything, within its deadline.
        self._definitions = self._sampled(ask=False)
        now = int(self.clock())
        registration = register(self.store, self._definitions.slos, self.holder, now, force=force)
        decision, result = registration.decision, registration.result
        self.definitions_generation = decision.own
        if decision.superseded:
            if self.superseded_by != decision.generation:
                say_superseded(decision)  # once per newer generation
            self.superseded_by = decision.generation
            return result
        self.superseded_by = None
        for key in result.history_reset:
            log.info("definition of %s changed its queries: history will be recomputed", key)
        synced = sync_declared(self.store, self._definitions, self.lock_for, int(self.clock()))
        result.corrections = [change.describe() for change in synced.changes]
        self.refresh_statuses(self.clock(), synced.remarked_definitions(self._definitions))
        return result

    def replace_definitions(self, definitions: DefinitionSet) -> SyncResult:
        """Swap in new definitions (after they validated) and register them."""
        with self._tick_lock:
            self._declared = definitions
            return self.sync(force=True)  # an operator's reload: these are the newest

    def _sampled(self, deadline: float | None = None, *, ask: bool = True) -> DefinitionSet:
        """The declared definitions on the slices their series' sample intervals allow.

        Intervals learned before, by this process or (as the registry keeps them) by another
        one, are kept: a `faultline backfill` beside `serve` evaluates on the same slices."""
        now, interval = int(self.clock()), self.config.scrape_interval
        known = {slo.key: registry.definition_of(slo) for slo in self.stored_slos().values()}
        known.update((slo.key, slo) for slo in self._definitions.slos if slo.sampling)
        return learn_sampling(
            self.source, self._declared, now, interval, known=known, deadline=deadline, ask=ask
        )

    def _relearn(self, deadline: float | None) -> None:
        """Learn the intervals still unknown (within the tick's deadline); register again what
        was learned."""
        before = {slo.key: slo.sampling for slo in self._definitions.slos}
        self._definitions = self._sampled(deadline)
        if any(before.get(slo.key) != slo.sampling for slo in self._definitions.slos):
            self.sync()  # the registry keeps what was learned, and a changed slice's history

    def lock_for(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._slo_locks.setdefault(key, threading.Lock())

    # -- evaluation ----------------------------------------------------------------------

    def due(self, definition: SLODefinition, now: float) -> int:
        """The newest slice end that may be evaluated at wall time `now`."""
        return align_down(int(now) - self.config.evaluation_delay, definition.spec.slice_seconds)

    def initial_start(self, definition: SLODefinition, due: int) -> int:
        """Where a new SLO's history starts: its period (or the configured span), capped."""
        span = self.config.initial_backfill
        start = due - span if span is not None else period_window(definition.spec.period, due).start
        start = max(start, due - self.config.history_limit)
        return align_up(start + 1, definition.spec.slice_seconds)

    def stored_slos(self) -> dict[str, StoredSLO]:
        with self.store.read() as connection:
            return {slo.key: slo for slo in registry.list_slos(connection)}

    def evaluable(self, registered: Mapping[str, str | None]) -> list[SLODefinition]:
        """The loaded definitions registered (declared hash by key) as declared here; the
        others (another generation's) are left alone, logged once."""
        held, withheld = evaluable(self._definitions.slos, registered)
        if withheld != self.withheld:
            if withheld:
                log.warning(
                    "not evaluating %d SLO(s) registered with another definition than these "
                    "files declare (another generation's): %s",
                    len(withheld),
                    ", ".join(withheld),
                )
            self.withheld = withheld
        return held

    def tick(self, now: float | None = None, *, deadline: float | None = None) -> TickResult:
        """Evaluate every active SLO up to its due slice, then refresh status snapshots.

        With `deadline` (seconds of wall time), SLOs not reached by then and the rest of a long
        catch-up are left for the next tick, and queries are cut at it.
        """
        with self._tick_lock:
            wall = self.clock() if now is None else now
            ends = None if deadline is None else time.monotonic() + deadline
            if self.superseded_by is not None and not self.stopping.is_set():
                self.sync()  # current again once no other process holds the newer set
            if unknown(self._definitions) and not self.stopping.is_set():
                self._relearn(ends)
            result = TickResult(started=time.monotonic())
            stored = self.stored_slos()
            held = None if self.sharing is None else self.sharing.held()
            evaluable = self.evaluable({key: slo.declared_hash for key, slo in stored.items()})
            definitions = furthest_behind_first(
                [d for d in evaluable if held is None or stored[d.key].id in held], stored
            )
            abort = threading.Event()
            reads = SharedReads(self.source, ends)
            writes = GroupWrites(self.store)
            # The one-chunk catch-ups' queries asked ahead, many to a request.
            asks = ahead_reads(definitions, stored, partial(self.due, now=wall), reads)
            reads.prefetch(asks, self.config.concurrency)

            def over() -> bool:
                return self.stopping.is_set() or (ends is not None and time.monotonic() >= ends)

            def run(definition: SLODefinition) -> None:
                if abort.is_set():
                    return
                if over():
                    result.deferred.add(definition.key)
                    return
                slo = stored[definition.key]
                fence = None
                if held is not None and self.sharing is not None:
                    fence = self.sharing.fence(slo.id, held[slo.id])
                self._catch_up(definition, slo, wall, result, abort, (reads, writes), over, fence)

            try:
                with ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
                    list(pool.map(run, definitions))
            finally:
                reads.close()
            self.source_error = result.unavailable
            # Long catch-ups refreshed their status as they finished; the short ones' and those
            # of SLOs turned stale are written now. Not while shutting down: that must stay short.
            if not self.stopping.is_set():
                rest = self.statuses.to_refresh(definitions, stored, result, int(wall))
                self.refresh_statuses(wall, rest, result.succeeded)
            else:
                self.statuses.record_successes(result.succeeded)
            result.finished = time.monotonic()
            self.last_tick = result
        if self.stopping.is_set():
            return result  # alerts are judged again by the next process, from the same ledger
        for hook in self.after_tick:
            try:
                hook(result)
            except Exception:  # a failing hook (alerting) must not stop evaluation
                log.exception("after-tick hook failed")
        return result

    def _catch_up(
        self,
        definition: SLODefinition,
        stored: StoredSLO,
        wall: float,
        result: TickResult,
        abort: threading.Event,
        shared: tuple[SharedReads, GroupWrites],
        over: Callable[[], bool],
        fence: Fence | None = None,
    ) -> None:
        reads, writes = shared
        due = self.due(definition, wall)
        step = definition.spec.slice_seconds
        first = stored.checkpoint + step if stored.checkpoint is not None else None
        if first is None:
            first = self.initial_start(definition, due)
        if first > due:
            return
        now = int(self.clock())
        with self.lock_for(definition.key):
            try:
                # Read inside the SLO's lock: a correction changed meanwhile is either in
                # force here or re-marks these slices once they are written.
                exclusions = exclusion_marker(
                    self.store, definition.key, Window(first - step, due), step
                )
                outcome = evaluate_range(
                    self.store,
                    reads,
                    definition,
                    stored.id,
                    first,
                    due,
                    exclusions=exclusions,
                    stop=over,
                    fence=fence,
                    # A tick's usual work, committed with the other SLOs' (group commit).
                    writes=writes.write if due - first < SHORT_CATCH_UP else None,
                    max_groups_total=self.config.max_groups_total,
                )
                result.evaluated[definition.key] = outcome.slices
                result.no_data.update(outcome.no_data)
                if outcome.stopped:
                    result.deferred.add(definition.key)
                succeeded_at: int | None = now
            except LeaseLostError as error:
                # Another process took this SLO over: its work stands, ours stops here.
                log.info("stopped evaluating %s: %s", definition.key, error)
                result.handed_over.add(definition.key)
                return
            except Exception as error:  # named by note_failure; nothing escapes a tick
                succeeded_at = None
                kept = result.note_failure(definition.key, error)
                if result.unavailable is not None:
                    abort.set()  # nothing else will answer either; try again next tick
                if kept is not None:
                    self._record_error(stored.id, *kept, now)
        if self.deferred_statuses and due - first < SHORT_CATCH_UP:
            # A tick's usual work (a slice or a few): its status is written with the others'
            # at the end of the tick, in one read and one write for all.
            result.leave_status(definition.key, succeeded_at)
            return
        # Right away, not at the end of the tick: during a long first backfill each SLO
        # shows its figures as soon as its own history is in.
        self._snapshot(definition, int(wall), succeeded_at)
        result.refreshed.add(definition.key)

    def _record_error(self, slo_id: int, kind: str, message: str, now: int) -> None:
        try:
            with self.store.begin() as connection:
                registry.record_error(connection, slo_id, kind, message, now)
        except StoreError:
            log.exception("could not record the error of SLO %s", slo_id)

    # -- reports -------------------------------------------------------------------------

    def report(self, key: str, at: float | None = None, *, incidents: bool = True) -> SLOReport:
        definition = self._definitions.get(key)
        if definition is None:
            raise KeyError(key)
        moment = int(self.clock() if at is None else at)
        with self.store.read() as connection:
            stored = registry.get_slo(connection, key)
            if stored is None:
                raise KeyError(key)
            return build_slo_report(
                connection,
                stored,
                definition,
                self._definitions,
                moment,
                freshness=self.config.freshness,
                with_incidents=incidents,
            )

    def refresh_statuses(
        self,
        now: float,
        definitions: Sequence[SLODefinition],
        succeeded: Mapping[str, int] | None = None,
    ) -> None:
        """Store each SLO's current report (without incidents) for fast listing, all at once;
        `succeeded`: key → when its evaluation succeeded, recorded with it."""
        self.statuses.refresh(self._definitions, definitions, int(now), succeeded)

    def _snapshot(
        self, definition: SLODefinition, moment: int, succeeded_at: int | None = None
    ) -> None:
        """Write one SLO's status snapshot, and its last success when given."""
        succeeded = None if succeeded_at is None else {definition.key: succeeded_at}
        self.statuses.refresh(self._definitions, [definition], moment, succeeded)

    def evaluation_lag(self, now: float | None = None) -> float:
        """Age in seconds of the oldest slice that is due but not yet evaluated (0 if none)."""
        wall = self.clock() if now is None else now
        worst = 0.0
        registered = self.stored_slos()
        for definition in self._definitions.slos:
            stored = registered.get(definition.key)
            if stored is None:
                continue
            due = self.due(definition, wall)
            if stored.checkpoint is None:
                oldest_missing = self.initial_start(definition, due)
            else:
                oldest_missing = stored.checkpoint + definition.spec.slice_seconds
            if oldest_missing <= due:
                worst = max(worst, float(wall - oldest_missing))
        return worst
