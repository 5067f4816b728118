"""Grouped SLOs in the engine: each chunk's answers split into groups, every group's ledger
written in the same transaction as the SLO's, and each group's status snapshot kept.

`evaluate_range` asks each query once per chunk, as for any SLO; `GroupedChunks` turns the
answers (with their series' labels) into the SLO-level outcome it writes as usual, and writes
the groups' outcomes beside it (`write`), so the group ledgers and the SLO's never disagree.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Connection

from app.engine.reports import Freshness, build_slo_report, report_windows
from app.slo.chunk_outcome import ChunkOutcome
from app.slo.definitions import DefinitionSet, SLODefinition
from app.slo.grid import Flags
from app.slo.group_chunk import GroupedChunk, GroupedEvaluator, LabelledAnswer
from app.slo.groups import group_definition, group_labels, group_slo_key
from app.slo.windows import period_window
from app.sources.signals import Matrix, SignalReader
from app.store import groups, ledger, registry, status
from app.store.chunk_writes import write_chunk
from app.store.errors import StoreError
from app.store.hour_sums import HourSums, LedgerMark
from app.store.locks import lock_slo
from app.store.store import Store

log = logging.getLogger(__name__)

# Points of one answer at most for a grouped SLO's chunk: its queries return every group's
# series at once, so its chunks are shorter than `max_points` per series (500 groups: 960
# one-minute slices, 16 whole hours, instead of 10,000).
ANSWER_POINTS = 500_000
# Queries of a grouped SLO's chunk asked at once in a backfill: one SLO holds every group's
# ledger, so its queries are side by side as the SLOs of an ungrouped backfill are.
PARALLEL_QUERIES = 4

# `SignalReader.read`: (queries, first, last, step) → answers.
Read = Callable[[Mapping[str, str], int, int, int], dict[str, Matrix]]


class GroupedChunks:
    """The chunks of one grouped SLO (`slo_id`), evaluated and written group by group."""

    def __init__(
        self,
        store: Store,
        definition: SLODefinition,
        slo_id: int,
        max_groups_total: int | None = None,
    ) -> None:
        self.store = store
        self.max_groups_total = max_groups_total  # the global cap on groups (None: none)
        self.definition = definition
        self.slo_id = slo_id
        self.group_by = definition.spec.group_by or ()
        self.evaluator = GroupedEvaluator(definition.spec)
        self._pending: GroupedChunk | None = None
        self._known: dict[tuple[str, ...], int] = {}
        self._retired: set[tuple[str, ...]] = set()
        self._left = 0  # the global cap's room, as last counted

    def evaluate(
        self,
        first: int,
        size: int,
        data: dict[str, Matrix],
        excluded: Flags | None,
    ) -> ChunkOutcome:
        """The SLO-level outcome of the chunk; its groups' wait for `write`."""
        self._pending = None  # the last chunk's, written: not held beside this one's
        step = self.definition.spec.slice_seconds
        answers: dict[str, LabelledAnswer] = {
            key: (matrix.on_grid(first, step, size), matrix.labels or ({},) * len(matrix.series))
            for key, matrix in data.items()
        }
        # Read per chunk (not kept): a rolled-back chunk or another process may have added some.
        with self.store.read() as connection:
            self._known, self._retired = groups.known_groups(connection, self.slo_id, self.group_by)
        room = None if self.max_groups_total is None else self._room_left
        self._pending = self.evaluator.evaluate(
            first, size, answers, self._known, excluded, self._retired, room
        )
        if self._pending.beyond_total:
            _TOTAL_REACHED.tell(self.definition.key, self._pending.beyond_total, self._left)
        return self._pending.slo

    def split(self, chunks: list[tuple[int, int]], step: int) -> list[tuple[int, int]]:
        """The source's chunks (first, last slice ends), cut so that an answer of
        `max_groups` groups holds `ANSWER_POINTS` at most, in whole hours where slices divide
        one (so that pieces starting on an hour fill whole hours: their rollups are written
        from sums, not slice by slice)."""
        most = max(1, ANSWER_POINTS // self.definition.spec.group_limit)
        hour = 3600 // step if 3600 % step == 0 else 1
        most = max(hour, most // hour * hour)
        pieces = []
        for first, upper in chunks:
            pieces += [
                (lower, min(upper, lower + (most - 1) * step))
                for lower in range(first, upper + 1, most * step)
            ]
        return pieces

    def reader(self, source: SignalReader) -> Read:
        """`source.read`, each query of the chunk asked in a thread of its own (at most
        `PARALLEL_QUERIES`); the first failure raises, as `source.read`'s."""

        def read(queries: Mapping[str, str], first: int, last: int, step: int) -> dict[str, Matrix]:
            slices = (last - first) // step + 1
            with ThreadPoolExecutor(PARALLEL_QUERIES, thread_name_prefix="group-read") as pool:
                asked = {
                    key: pool.submit(source.read, {key: query}, first, last, step)
                    for key, query in queries.items()
                }
                # On the grid at once: the points are not held beside it until the chunk is written.
                return {
                    key: future.result()[key].placed(first, step, slices)
                    for key, future in asked.items()
                }

        return read

    def _room_left(self) -> int:
        """The global cap's room, counted only when a new group would get a ledger (a count
        over every group's row: not on every chunk)."""
        assert self.max_groups_total is not None
        with self.store.read() as connection:
            self._left = self.max_groups_total - groups.groups_total(connection)
        return self._left

    def write(self, connection: Connection, first: int, last: int) -> None:
        """Write the groups of the chunk last evaluated, in the SLO's write transaction."""
        chunk = self._pending
        assert chunk is not None, "evaluate() first"
        step = self.definition.spec.slice_seconds
        fresh = [group for group in chunk.groups if group not in self._known]
        labels = [group_labels(group, self.group_by) for group in fresh]
        keys = [group_slo_key(self.definition.service, self.definition.name, x) for x in labels]
        added = groups.add_groups(connection, self.slo_id, list(zip(keys, labels, strict=True)))
        ids = self._known | dict(zip(fresh, added, strict=True))
        groups.reactivate(connection, [ids[g] for g in chunk.groups if g in self._retired])
        lock_slo(connection, self.slo_id)  # held already: it covers every group's ledger too
        for group, outcome in chunk.groups.items():
            write_chunk(connection, ids[group], outcome, locked=True)
            registry.advance_checkpoint(connection, ids[group], first, last, step)
        overflowing = [group_labels(group, self.group_by) for group in chunk.overflow]
        groups.record_overflow(connection, self.slo_id, overflowing, last)


class _OnceLog:
    """Logs that the global cap on groups turned groups away, once per process (they are
    reported all the same: counted in "other", named as overflow, exported in /metrics)."""

    def __init__(self) -> None:
        self._told = False
        self._lock = threading.Lock()

    def tell(self, key: str, count: int, room_left: int) -> None:
        with self._lock:
            told, self._told = self._told, True
        log.log(
            logging.DEBUG if told else logging.WARNING,
            "the global cap on groups (FAULTLINE_MAX_GROUPS_TOTAL) is reached: %d new groups "
            "of %s are counted in its other group (room left: %s); raise the cap or group by "
            "fewer labels (logged once)",
            count,
            key,
            max(0, room_left),
        )


_TOTAL_REACHED = _OnceLog()


def save_group_statuses(
    store: Store,
    definitions: DefinitionSet,
    freshness: Freshness,
    definition: SLODefinition,
    moment: int,
    hours: HourSums | None = None,
) -> None:
    """Refresh the status snapshot of every group of a grouped SLO (what the group listing
    sorts and pages in the database); nothing for an ungrouped SLO. `hours`: the whole-hour
    sums kept between ticks (`app.store.hour_sums`), as for SLOs."""
    if not definition.spec.group_by:
        return
    try:
        with store.begin() as connection:
            parent = registry.get_slo(connection, definition.key)
            if parent is not None:
                start = period_window(definition.spec.period, moment).start
                groups.retire_vanished(connection, parent.id, start)
        with store.snapshot() as connection:
            listed = [] if parent is None else registry.list_groups(connection, parent.id)
            members = [member for member in listed if member.active]
            # Every group's windows in the same few queries, not a few queries per group.
            windows = report_windows(definition, definitions, moment)
            marks = {m.id: LedgerMark(m.checkpoint, m.history_rewrites) for m in members}
            totals = ledger.window_totals_in_parts(connection, marks, windows, hours, GROUP)
            reports = [
                (
                    member.id,
                    build_slo_report(
                        connection,
                        member,
                        group_definition(definition, member.group_labels or {}),
                        definitions,
                        moment,
                        freshness=freshness,
                        with_incidents=False,
                        totals=totals[member.id],
                    ),
                )
                for member in members
            ]
        with store.begin() as connection:
            for group_id, report in reports:
                status.save_status(connection, group_id, report, moment)
    except StoreError:
        log.exception("could not refresh the group statuses of %s", definition.key)


# Groups summed in one set of queries: each range condition repeats the list of ids, which
# must stay under SQLite's parameter limit (500 ids × the report windows' ranges).
GROUP = 500
