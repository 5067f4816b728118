"""Evaluate one SLO over a range of slices: read Prometheus chunk by chunk, write the ledger.

Each chunk is read, evaluated and written (slices, rollups, checkpoint) in one transaction before
the next is asked for, so an interruption loses at most the chunk in flight and a rerun continues
where the ledger ends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Connection

from app.engine.no_data import explained
from app.slo.definitions import SLODefinition
from app.slo.evaluation import SliceEvaluator
from app.slo.ledger import SliceRecord
from app.sources.signals import SignalReader
from app.store import jobs, ledger, registry
from app.store.store import Store

# Called after each chunk is durable: (slices written, last slice end of the chunk).
ChunkCallback = Callable[[int, int], None]
# Marks records inside budget corrections; identity when there are none.
Exclusions = Callable[[SliceRecord], SliceRecord]
# Asked between two durable chunks: true to stop there (shutdown, the tick's deadline).
StopWhen = Callable[[], bool]
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
) -> RangeResult:
    """Evaluate slice ends `first..last` (aligned); the adapter's errors propagate."""
    spec = definition.spec
    step = spec.slice_seconds
    evaluator = SliceEvaluator(spec)
    closed = source.closed_ranges
    queries = {
        key: signal.render(step, closed_ranges=closed) for key, signal in evaluator.signals.items()
    }
    written = 0
    done: int | None = None
    no_data: Counter[str] = Counter()
    for chunk_first, chunk_last in source.chunks(first, last, step):
        if stop is not None and stop():
            # Between two durable chunks: the checkpoint says where to go on.
            return RangeResult(written, done, stopped=True, no_data=no_data)
        data = source.read(queries, chunk_first, chunk_last, step)
        evaluated = [
            evaluator.evaluate(t, {key: data[key].get(t, ()) for key in queries})
            for t in range(chunk_first, chunk_last + 1, step)
        ]
        records = []
        for record in explained(source, evaluator.signals, evaluated, last, step):
            if record.no_data is not None:
                no_data[record.no_data.reason] += 1
            records.append(exclusions(record) if exclusions is not None else record)
        with store.begin() as connection:
            if fence is not None:
                fence(connection)
            ledger.write_slices(connection, slo_id, records, step)
            registry.advance_checkpoint(connection, slo_id, chunk_first, chunk_last, step)
            if job_id is not None:
                jobs.set_cursor(connection, job_id, chunk_last)
        written += len(records)
        done = chunk_last
        if on_chunk is not None:
            on_chunk(len(records), chunk_last)
    return RangeResult(written, done, no_data=no_data)
