"""Evaluate one SLO over a range of slices: read Prometheus chunk by chunk, write the ledger.

Each chunk is read, evaluated and written (slices, rollups, checkpoint) in one transaction before
the next is asked for, so an interruption loses at most the chunk in flight and a rerun continues
where the ledger ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from app.slo.definitions import SLODefinition
from app.slo.evaluation import SliceEvaluator
from app.slo.ledger import SliceRecord
from app.sources.prometheus import PrometheusSource, SharedReads
from app.store import jobs, ledger, registry
from app.store.store import Store

# Called after each chunk is durable: (slices written, last slice end of the chunk).
ChunkCallback = Callable[[int, int], None]
# Marks records inside budget corrections; identity when there are none.
Exclusions = Callable[[SliceRecord], SliceRecord]


@dataclass(frozen=True)
class RangeResult:
    slices: int
    last: int | None


def evaluate_range(
    store: Store,
    source: PrometheusSource | SharedReads,
    definition: SLODefinition,
    slo_id: int,
    first: int,
    last: int,
    *,
    on_chunk: ChunkCallback | None = None,
    exclusions: Exclusions | None = None,
    job_id: int | None = None,
    stop: threading.Event | None = None,
) -> RangeResult:
    """Evaluate slice ends `first..last` (aligned); the adapter's errors propagate."""
    spec = definition.spec
    step = spec.slice_seconds
    evaluator = SliceEvaluator(spec)
    queries = {key: signal.render(step) for key, signal in evaluator.signals.items()}
    written = 0
    done: int | None = None
    for chunk_first, chunk_last in source.chunks(first, last, step):
        if stop is not None and stop.is_set():
            break  # between two durable chunks: the checkpoint says where to go on
        data = source.read(queries, chunk_first, chunk_last, step)
        records = []
        for t in range(chunk_first, chunk_last + 1, step):
            record = evaluator.evaluate(t, {key: data[key].get(t, ()) for key in queries})
            records.append(exclusions(record) if exclusions is not None else record)
        with store.begin() as connection:
            ledger.write_slices(connection, slo_id, records, step)
            registry.advance_checkpoint(connection, slo_id, chunk_first, chunk_last, step)
            if job_id is not None:
                jobs.set_cursor(connection, job_id, chunk_last)
        written += len(records)
        done = chunk_last
        if on_chunk is not None:
            on_chunk(len(records), chunk_last)
    return RangeResult(written, done)
