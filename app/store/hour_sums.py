"""Whole-hour sums of report windows, kept between ticks, so a status snapshot reads what changed.

Every tick refreshes each SLO's status: its period (30 days: 720 hourly rollups and their modes)
and seven burn windows, summed again. Within an hour the whole-hour parts of those windows stay
the same, and the hours they cover change only when evaluated history is written again. So the
database's sums of those hours are kept per SLO, under the windows they were read for and the
SLO's count of history rewrites (`slos.history_rewrites`), and used again while both are the
same. They are exactly the numbers a full read gives (the same query's result, reused), so a
cached report equals a recomputed one bit for bit.

Kept only for hours the SLO's checkpoint had passed when they were read: a later tick writes
slices after its checkpoint, never inside those hours. Every write that reaches slices at or
before the checkpoint (a backfill of older slices, a re-evaluated chunk, corrections, repairs, a
history reset) counts a rewrite in its own transaction (`note_rewrite`), whichever process makes
it, so no kept sum outlives the history it summed.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, update

from app.slo.ledger import WindowTotals
from app.slo.windows import Window
from app.store import rollup_reads
from app.store.rollups import LEVELS
from app.store.tables import slos


def note_rewrite(connection: Connection, slo_id: int, first: int | None) -> None:
    """Count a write of the SLO's slices from slice end `first` on (None: all its history) if
    it reaches history already evaluated; in the writer's transaction, under the SLO's lock."""
    condition = slos.c.id == slo_id
    if first is not None:
        condition &= slos.c.checkpoint >= first  # no checkpoint: nothing is kept for it
    connection.execute(
        update(slos).where(condition).values(history_rewrites=slos.c.history_rewrites + 1)
    )


@dataclass(frozen=True)
class LedgerMark:
    """What a kept sum of one SLO depends on, as read with the sums."""

    checkpoint: int | None
    rewrites: int


@dataclass(frozen=True)
class _Kept:
    rewrites: int
    windows: tuple[Window, ...]
    totals: list[WindowTotals]


class HourSums:
    """Hourly-rollup sums of windows per SLO, kept while valid (thread-safe)."""

    def __init__(self) -> None:
        self._kept: dict[int, _Kept] = {}
        self._guard = threading.Lock()
        self.hits = 0
        self.misses = 0

    def summed(
        self,
        connection: Connection,
        marks: Mapping[int, LedgerMark],
        windows: Sequence[Window],
    ) -> dict[int, list[WindowTotals]]:
        """`rollup_reads.summed_many` of the hourly level for the SLOs of `marks` (read in
        `connection`'s transaction, as the marks were): kept sums where valid, one read for
        the others."""
        key = tuple(windows)
        found: dict[int, list[WindowTotals]] = {}
        with self._guard:
            for slo_id, mark in marks.items():
                kept = self._kept.get(slo_id)
                if kept is not None and kept.rewrites == mark.rewrites and kept.windows == key:
                    found[slo_id] = kept.totals
            self.hits += len(found)
            self.misses += len(marks) - len(found)
        missing = [slo_id for slo_id in marks if slo_id not in found]
        if not missing:
            return found
        read = rollup_reads.summed_many(connection, missing, LEVELS[0], windows)
        highest = max((window.end for window in windows), default=None)
        with self._guard:
            for slo_id, totals in read.items():
                checkpoint = marks[slo_id].checkpoint
                if highest is not None and checkpoint is not None and highest <= checkpoint:
                    self._kept[slo_id] = _Kept(marks[slo_id].rewrites, key, totals)
                else:
                    self._kept.pop(slo_id, None)
        return found | read

    def summed_for(
        self,
        marks: Mapping[int, LedgerMark],
        connection: Connection,
        slo_ids: Sequence[int],
        windows: Sequence[Window],
    ) -> dict[int, list[WindowTotals]]:
        """`summed` for `slo_ids` among `marks`: the shape `ledger.window_totals_many` calls
        back with, once `marks` is bound (`partial(hours.summed_for, marks)`)."""
        return self.summed(connection, {slo_id: marks[slo_id] for slo_id in slo_ids}, windows)
