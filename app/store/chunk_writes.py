"""Writing an evaluated chunk (`ChunkOutcome`): slice rows in bulk, rollups from the columns.

Rows go to the driver in bulk (a few hundred a statement on SQLite; on PostgreSQL a `COPY` into a
staging table and one upsert from it). Whole hours of the chunk get their hourly and five-minute
rollups from array sums; the slices of hours the chunk covers only in part (its edges, a tick's
one new slice) take the exact new-minus-old path of `app.store.rollups.apply_writes`, with the
old values read for those slices only. Writing the same chunk twice leaves the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection

from app.slo.chunk_outcome import BucketSums, ChunkOutcome, bucket_spans, bucket_sums
from app.slo.ledger import SliceRecord
from app.slo.windows import Window
from app.store import ledger, rollups
from app.store.bulk_rows import insert_rows
from app.store.hour_sums import note_rewrite
from app.store.locks import lock_slo
from app.store.rollups import FIVE_MINUTES, HOUR, LEVELS, Level
from app.store.slice_rows import SliceRows, slice_rows


@dataclass(frozen=True)
class PreparedChunk:
    """A chunk's rows, built before its write transaction: under SQLite's one writer lock, for
    which every backfilling thread queues, only the statements run (building the rows there
    was a sixth of the lock's time in a 30-SLO backfill)."""

    slo_id: int
    outcome: ChunkOutcome
    whole_hours: NDArray[np.bool_]  # per slice: its hour is whole in the chunk
    slice_rows: SliceRows
    # Per rollup level, the whole buckets' rows: (level, ends, number rows, mode rows).
    rollup_rows: list[tuple[Level, list[int], list[tuple[Any, ...]], list[tuple[Any, ...]]]]


def prepare_chunk(slo_id: int, outcome: ChunkOutcome, dialect: str = "sqlite") -> PreparedChunk:
    """The rows `write_prepared` writes on `dialect`, computed from the chunk's columns."""
    rows = slice_rows(slo_id, outcome, compact=dialect == "sqlite")
    if outcome.size == 0:
        return PreparedChunk(slo_id, outcome, np.zeros(0, dtype=bool), rows, [])
    whole_hours = _in_whole_hours(outcome)
    rollup_rows = []
    if whole_hours.any():
        for level in LEVELS:
            _, starts = bucket_spans(outcome, level.size)
            sums = bucket_sums(outcome, level.size, whole_hours[starts])
            if sums.ends.size:
                rollup_rows.append((level, *_sum_rows(slo_id, sums)))
    return PreparedChunk(slo_id, outcome, whole_hours, rows, rollup_rows)


def write_chunk(
    connection: Connection, slo_id: int, outcome: ChunkOutcome, *, locked: bool = False
) -> None:
    """Upsert the chunk's slices and bring the rollups up to date, in the caller's write
    transaction (see `write_prepared`)."""
    chunk = prepare_chunk(slo_id, outcome, connection.dialect.name)
    write_prepared(connection, chunk, locked=locked)


def write_prepared(connection: Connection, chunk: PreparedChunk, *, locked: bool = False) -> None:
    """Write a prepared chunk in the caller's write transaction; the SLO's lock is taken before
    any old value is read (`locked`: the caller holds it already, as a grouped SLO's writer
    holds its groups')."""
    slo_id, outcome = chunk.slo_id, chunk.outcome
    if outcome.size == 0:
        return
    if not locked:
        lock_slo(connection, slo_id)
    note_rewrite(connection, slo_id, int(outcome.ends[0]))
    edges = np.flatnonzero(~chunk.whole_hours)
    previous: list[SliceRecord] = []
    written: list[SliceRecord] = []
    if edges.size:
        runs = np.split(edges, np.flatnonzero(np.diff(edges) != 1) + 1)
        ends = outcome.ends
        for run in runs:
            window = Window(int(ends[run[0]]) - 1, int(ends[run[-1]]))
            previous += ledger.read_slices(connection, slo_id, window)
            written += outcome.records(range(int(run[0]), int(run[-1]) + 1))
    _upsert_slices(connection, chunk)
    if edges.size:
        rollups.apply_writes(connection, slo_id, written, previous, outcome.step)
    for level, bucket_ends, number_rows, mode_rows in chunk.rollup_rows:
        rollups.replace_rows(
            connection, slo_id, level, bucket_ends, number_rows, mode_rows, every_bucket=True
        )


def _in_whole_hours(outcome: ChunkOutcome) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Per slice: whether the chunk holds every slice of its hour (then its five minutes are
    whole too). Only for slices that divide five minutes; otherwise none (the exact path)."""
    step = outcome.step
    if FIVE_MINUTES % step:
        return np.zeros(outcome.size, dtype=bool)
    _, starts = bucket_spans(outcome, HOUR)
    counts = np.diff(np.r_[starts, outcome.size])
    return np.repeat(counts == HOUR // step, counts)


def _upsert_slices(connection: Connection, chunk: PreparedChunk) -> None:
    slo_id, outcome, rows = chunk.slo_id, chunk.outcome, chunk.slice_rows
    # A backfill's slices are new: inserted straight, without the upsert's per-row conflict
    # handling (on PostgreSQL 2× the cost of a COPY). The SLO's lock is held, so "new" holds.
    columns = ledger.SLICE_COLUMNS
    fresh = not ledger.holds_slices(
        connection, slo_id, Window(int(outcome.ends[0]) - 1, int(outcome.ends[-1]))
    )
    if connection.dialect.name == "postgresql":
        from app.store.copy_upsert import copy_rows, copy_upsert  # noqa: PLC0415 - PostgreSQL only

        assert not rows.quiet, "PostgreSQL takes every row whole"
        if fresh:
            copy_rows(connection, "slices", columns, rows.full)
        else:
            copy_upsert(connection, "slices", columns, ("slo_id", "t"), rows.full)
        return
    conflict = "" if fresh else ledger.SLICE_UPSERT
    insert_rows(connection, "slices", columns, rows.full, on_conflict=conflict)
    insert_rows(
        connection, "slices", columns, rows.quiet, on_conflict=conflict,
        select=rows.quiet_select, shared=rows.quiet_shared,
    )  # fmt: skip


def _sum_rows(
    slo_id: int, sums: BucketSums
) -> tuple[list[int], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(ends, number rows, mode rows) of whole buckets, computed from a chunk's columns; they
    are every bucket of the level from the first to the last (those of a chunk's whole hours
    are), replaced as a range."""
    ends = sums.ends.tolist()
    numbers = [sums.total, sums.bad, sums.unattributed]
    counts = [sums.slices, sums.no_data_slices, sums.excluded_slices]
    number_rows = list(
        zip(
            [slo_id] * len(ends), ends, *(column.tolist() for column in numbers),
            *(column.astype(int).tolist() for column in counts), strict=True,
        )
    )  # fmt: skip
    counted = np.flatnonzero(sums.slices > 0)
    mode_rows: list[tuple[Any, ...]] = []
    for mode in sorted(sums.credited):
        credited = sums.credited[mode][counted].tolist()
        held = sums.held[mode][counted].astype(int).tolist()
        mode_rows += zip(
            repeat(slo_id), sums.ends[counted].tolist(), repeat(mode), credited, held, strict=False
        )
    return ends, number_rows, mode_rows
