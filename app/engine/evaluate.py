"""Evaluate one SLO over a range of slices: read Prometheus chunk by chunk, write the ledger.

Each chunk is read, evaluated column-wise (`app.slo.chunk`) and written (slices, rollups,
checkpoint) in one transaction, so an interruption loses at most the chunk in flight and a
rerun continues where the ledger ends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

import numpy as np
from sqlalchemy import Connection

from app.engine.grouped import GroupedChunks, Read
from app.engine.no_data import explained
from app.slo.chunk import ChunkEvaluator
from app.slo.definitions import SLODefinition
from app.slo.exclusions import ExcludedSlices
from app.sources.shared_reads import Ask
from app.sources.signals import Matrix, SignalReader
from app.store import jobs, registry
from app.store.chunk_writes import PreparedChunk, prepare_chunk, write_prepared
from app.store.store import Store

# Called after each chunk is durable: (slices written, last slice end of the chunk).
ChunkCallback = Callable[[int, int], None]
# The slices budget corrections exclude.
Exclusions = ExcludedSlices
# Asked between two durable chunks: true to stop there (shutdown, the tick's deadline).
StopWhen = Callable[[], bool]
# Runs a chunk's write (given its transaction) in a transaction shared with other writes.
Writes = Callable[[Callable[[Connection], None]], None]
# Checked first in each chunk's write transaction; raises (rolling it back) when this process
# may no longer write the SLO (shared evaluation: its lease was taken over).
Fence = Callable[[Connection], None]


class Shares(Protocol):
    """This process's share of the SLOs (`app.engine.sharing.SharedEvaluation`)."""

    def held(self) -> dict[int, int]:
        """SLO id → lease generation, for the SLOs this process may evaluate now."""
        ...

    def fence(self, slo_id: int, generation: int) -> Fence:
        """The check each chunk write of `slo_id` makes in its transaction."""
        ...


@dataclass(frozen=True)
class RangeResult:
    slices: int
    last: int | None
    stopped: bool = False  # stopped early by `stop`: the rest is left for later
    no_data: Counter[str] = field(default_factory=Counter)  # no-data slices written, by reason


def evaluate_range(
    store: Store,
    source: SignalReader,
    definition: SLODefinition,
    slo_id: int,
    first: int,
    last: int,
    *,
    on_chunk: ChunkCallback | None = None,
    exclusions: Exclusions | None = None,
    job_id: int | None = None,
    stop: StopWhen | None = None,
    fence: Fence | None = None,
    writes: Writes | None = None,
    max_groups_total: int | None = None,
) -> RangeResult:
    """Evaluate slice ends `first..last` (aligned); the adapter's errors propagate.

    `writes`: runs each chunk's write in a transaction shared with other SLOs' writes
    (`app.engine.group_writes`); by default each chunk is written in its own.
    `max_groups_total`: the global cap on groups, for a grouped SLO (None: none)."""
    spec = definition.spec
    step = spec.slice_seconds
    evaluator = ChunkEvaluator(spec)
    queries = _queries(source, evaluator, step)
    # A grouped SLO: one answer per query all the same, split into group ledgers beside its own.
    grouped = GroupedChunks(store, definition, slo_id, max_groups_total) if spec.group_by else None
    written = 0
    done: int | None = None
    no_data: Counter[str] = Counter()
    chunks = source.chunks(first, last, step)
    if grouped is not None:  # each answer holds every group's series: shorter chunks
        chunks = grouped.split(chunks, step)
    # A grouped SLO's backfill asks its queries side by side: each answers for every group.
    read = grouped.reader(source) if grouped is not None and len(chunks) > 1 else source.read
    for chunk_first, chunk_last, data in _read_ahead(read, queries, chunks, step):
        if stop is not None and stop():
            # Between two durable chunks: the checkpoint says where to go on.
            return RangeResult(written, done, stopped=True, no_data=no_data)
        size = (chunk_last - chunk_first) // step + 1
        excluded = None
        if exclusions is not None:
            excluded = np.array(exclusions.mask(chunk_first, chunk_last), dtype=bool)
        if grouped is not None:
            outcome = grouped.evaluate(chunk_first, size, data, excluded)
        else:
            grid = {key: matrix.on_grid(chunk_first, step, size) for key, matrix in data.items()}
            outcome = evaluator.evaluate(chunk_first, size, grid, excluded)
        unexplained = outcome.unexplained()
        if unexplained.size:  # only chunks with `no-series` slices ask the source why
            # Only those slices' records: a chunk of 10,000 slices with one gap built all of
            # them, 3 s of a 30-SLO backfill's interpreter time.
            records = outcome.records(unexplained.tolist())
            refined = explained(source, evaluator.signals, records, last, step)
            outcome.set_no_data(unexplained, [record.no_data for record in refined])
        no_data.update(outcome.no_data_counts())
        write = partial(
            _write,
            chunk=prepare_chunk(slo_id, outcome, store.dialect),  # before the writer lock
            last=chunk_last,
            fence=fence,
            job_id=job_id,
            grouped=grouped,
        )
        # A grouped SLO writes its own transaction: its group ledgers are many writes already,
        # and `grouped` holds the chunk last evaluated until it is written.
        if writes is not None and grouped is None:
            writes(write)
        else:
            with store.begin() as connection:
                write(connection)
        written += size
        done = chunk_last
        if on_chunk is not None:
            on_chunk(size, chunk_last)
    return RangeResult(written, done, no_data=no_data)


def _write(
    connection: Connection,
    *,
    chunk: PreparedChunk,
    last: int,
    fence: Fence | None,
    job_id: int | None,
    grouped: GroupedChunks | None,
) -> None:
    """A chunk's slices, rollups and checkpoint (and its backfill job's cursor), fenced; a
    grouped SLO's group ledgers in the same transaction."""
    if fence is not None:
        fence(connection)
    write_prepared(connection, chunk)
    slo_id, outcome = chunk.slo_id, chunk.outcome
    if grouped is not None:
        grouped.write(connection, outcome.first, last)
    registry.advance_checkpoint(connection, slo_id, outcome.first, last, outcome.step)
    if job_id is not None:
        jobs.set_cursor(connection, job_id, last)


def _queries(source: SignalReader, evaluator: ChunkEvaluator, step: int) -> dict[str, str]:
    """The PromQL of each signal, as this source is asked it."""
    closed = source.closed_ranges
    return {
        key: signal.render(step, closed_ranges=closed) for key, signal in evaluator.signals.items()
    }


def planned_reads(
    source: SignalReader, definition: SLODefinition, first: int, last: int
) -> list[Ask]:
    """The queries `evaluate_range` asks for slices `first..last` when they fit one chunk
    (a tick's usual work), to be asked ahead for many SLOs at once; none otherwise."""
    step = definition.spec.slice_seconds
    if len(source.chunks(first, last, step)) != 1:
        return []
    queries = _queries(source, ChunkEvaluator(definition.spec), step)
    return [(query, first, last, step) for query in queries.values()]


def _read_ahead(
    read: Read, queries: dict[str, str], chunks: list[tuple[int, int]], step: int
) -> Iterator[tuple[int, int, dict[str, Matrix]]]:
    """Each chunk with its answers; the next chunk is asked for (in one helper thread) while the
    caller evaluates and writes this one, so fetching overlaps writing. One chunk ahead at most;
    an error is raised where the chunk's answers are taken."""
    if len(chunks) <= 1:  # a tick's one chunk: no thread
        for chunk_first, chunk_last in chunks:
            yield chunk_first, chunk_last, read(queries, chunk_first, chunk_last, step)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as pool:
        ahead = pool.submit(read, queries, *chunks[0], step)
        for index, (chunk_first, chunk_last) in enumerate(chunks):
            data = ahead.result()
            if index + 1 < len(chunks):
                ahead = pool.submit(read, queries, *chunks[index + 1], step)
            yield chunk_first, chunk_last, data
