"""What one tick did, and what each SLO's failed evaluation means for it.

A query's own fault or a malformed answer marks only its SLO; an unavailable source (down, slow,
not Prometheus, refusing our credentials) stops the tick early; a query abandoned at shutdown or
at the tick's deadline is left for the next tick and recorded nowhere.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from app.engine.evaluate import planned_reads
from app.engine.reports import Freshness, behind
from app.slo.definitions import SLODefinition
from app.sources.errors import (
    ERROR_KINDS,
    MalformedAnswerError,
    QueryCancelledError,
    QueryError,
    SourceUnavailableError,
)
from app.sources.shared_reads import Ask
from app.sources.signals import SignalReader
from app.store.errors import StoreError
from app.store.registry import StoredSLO

log = logging.getLogger(__name__)

Keyed = TypeVar("Keyed", bound="HasKey")

# A catch-up shorter than this (seconds of slices) is a tick's usual work: its queries are asked
# ahead with the other SLOs', its status written at the end of the tick with theirs. A longer
# one (a first backfill) reads chunk by chunk and shows its status as soon as it is done.
SHORT_CATCH_UP = 3600

# The kinds of query failure the source reports, for /metrics (which never imports the adapter).
QUERY_ERROR_KINDS = ERROR_KINDS


@dataclass
class TickResult:
    started: float
    finished: float = 0.0
    evaluated: dict[str, int] = field(default_factory=dict)  # key → slices written
    errors: dict[str, str] = field(default_factory=dict)  # key → message
    unavailable: str | None = None
    deferred: set[str] = field(default_factory=set)  # left for the next tick (deadline, stop)
    no_data: Counter[str] = field(default_factory=Counter)  # no-data slices written, by reason
    refreshed: set[str] = field(default_factory=set)  # status snapshots already written
    succeeded: dict[str, int] = field(default_factory=dict)  # key → success, not yet recorded
    handed_over: set[str] = field(default_factory=set)  # taken over by another process meanwhile
    # Short catch-ups, failed ones too: their snapshots are written at the end of the tick.
    unwritten: set[str] = field(default_factory=set)

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    def leave_status(self, key: str, succeeded_at: int | None) -> None:
        """SLO `key`'s snapshot (and its success, if at `succeeded_at`) for the tick's end."""
        self.unwritten.add(key)
        if succeeded_at is not None:
            self.succeeded[key] = succeeded_at

    def note_failure(self, key: str, error: Exception) -> tuple[str, str] | None:
        """Count SLO `key`'s failed evaluation; the (kind, message) to keep on the SLO, if any."""
        if isinstance(error, QueryCancelledError):
            self.deferred.add(key)  # shutdown or the tick's deadline: the checkpoint holds
            return None
        if isinstance(error, QueryError | MalformedAnswerError):
            self.errors[key] = error.message
            kind = "query" if isinstance(error, QueryError) else error.kind
            return kind, f"Prometheus: {error.message}"
        if isinstance(error, SourceUnavailableError):
            self.unavailable = str(error)
            return error.kind, str(error)
        if isinstance(error, StoreError):
            self.errors[key] = str(error)
            log.error("store error while evaluating %s: %s", key, error)
            return None
        # A bug in one SLO's evaluation must not stop the others.
        self.errors[key] = f"internal error: {type(error).__name__}"
        log.error("evaluating %s failed", key, exc_info=error)
        return None


class HasKey(Protocol):
    @property
    def key(self) -> str: ...


def furthest_behind_first(definitions: list[Keyed], stored: Mapping[str, StoredSLO]) -> list[Keyed]:
    """The SLOs in the order a tick should reach them: the oldest checkpoint first (never
    evaluated before all), ties in file order.

    A tick cut at its deadline leaves the rest for the next one; starting each tick where the
    ledger is furthest behind makes sure those are the ones reached next, instead of the same
    first SLOs every tick while the others starve.
    """
    return sorted(definitions, key=lambda d: stored[d.key].checkpoint or -1)


def still_to_refresh(
    definitions: list[Keyed],
    stored: Mapping[str, StoredSLO],
    result: TickResult,
    shown: Mapping[int, int],
    wall: int,
    freshness: Freshness,
) -> list[Keyed]:
    """The SLOs whose status snapshot the tick has yet to write: the short catch-ups' (failed
    ones too), and of those it did not evaluate (nothing due, not reached, left at its
    deadline) the ones with no snapshot or that turned stale since theirs (`shown`: when each
    was computed, by SLO id), the one thing that changed for them.

    Refreshing every SLO left made a 3,000-SLO tick cut at its deadline at 48 s last 167 s, so
    the next came late and was cut again; and a takeover's tick, which finds the SLOs held
    before current, rebuilt all their snapshots.
    """
    rest = []
    for definition in definitions:
        slo = stored[definition.key]
        computed = shown.get(slo.id)
        if definition.key in result.unwritten or (
            definition.key not in result.refreshed
            and (
                computed is None
                or (behind(slo, wall, freshness) and not behind(slo, computed, freshness))
            )
        ):
            rest.append(definition)
    return rest


def ahead_reads(
    definitions: Sequence[SLODefinition],
    stored: Mapping[str, StoredSLO],
    due: Callable[[SLODefinition], int],
    source: SignalReader,
) -> list[Ask]:
    """The queries of the SLOs whose catch-up is short, in the order they are evaluated."""
    asks: list[Ask] = []
    for definition in definitions:
        checkpoint, last = stored[definition.key].checkpoint, due(definition)
        first = None if checkpoint is None else checkpoint + definition.spec.slice_seconds
        if first is not None and first <= last and last - first < SHORT_CATCH_UP:
            asks += planned_reads(source, definition, first, last)
    return asks
