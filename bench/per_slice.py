"""The per-slice production path of before (one `SliceEvaluator.evaluate` per slice, answers
read as dicts per timestamp, `ledger.write_slices` with per-slice rollup sums, status reports
summed inside the write transaction one SLO at a time, queries parsed again at every
evaluation, each query its own request), kept for the benchmarks only: `--per-slice` swaps it
in so both paths can be measured side by side in one run.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from app.engine import evaluate, service
from app.engine.evaluate import RangeResult
from app.engine.no_data import explained
from app.engine.reports import build_slo_report
from app.slo import promql
from app.slo.definitions import SLODefinition
from app.slo.evaluation import SliceEvaluator
from app.sources.shared_reads import SharedReads
from app.sources.signals import SignalReader
from app.store import jobs, ledger, registry, status
from app.store.store import Store


def evaluate_range_per_slice(
    store: Store,
    source: SignalReader,
    definition: SLODefinition,
    slo_id: int,
    first: int,
    last: int,
    *,
    on_chunk: Any = None,
    exclusions: Any = None,
    job_id: int | None = None,
    stop: Any = None,
    fence: Any = None,
    writes: Any = None,  # each chunk in its own transaction, as before
) -> RangeResult:
    spec = definition.spec
    step = spec.slice_seconds
    evaluator = SliceEvaluator(spec)
    closed = source.closed_ranges
    queries = {k: s.render(step, closed_ranges=closed) for k, s in evaluator.signals.items()}
    written, done, no_data = 0, None, Counter[str]()
    for chunk_first, chunk_last in source.chunks(first, last, step):
        if stop is not None and stop():
            return RangeResult(written, done, stopped=True, no_data=no_data)
        data = {
            k: m.by_time() for k, m in source.read(queries, chunk_first, chunk_last, step).items()
        }
        evaluated = [
            evaluator.evaluate(t, {key: data[key].get(t, ()) for key in queries})
            for t in range(chunk_first, chunk_last + 1, step)
        ]
        records = []
        for record in explained(source, evaluator.signals, evaluated, last, step):
            if record.no_data is not None:
                no_data[record.no_data.reason] += 1
            records.append(exclusions.mark(record) if exclusions is not None else record)
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


@contextlib.contextmanager
def per_slice_path() -> Iterator[None]:
    """Ticks and backfills evaluate slice by slice while inside."""
    column_wise, snapshot = service.evaluate_range, service.Engine._snapshot
    refresh = service.Engine.refresh_statuses
    names, selectors = promql.function_names, promql._instant_selectors
    service.evaluate_range = evaluate_range_per_slice  # type: ignore[assignment]
    service.Engine._snapshot = snapshot_in_one_write  # type: ignore[method-assign]
    # Each status written by its SLO's evaluation, one by one, summing the whole period.
    service.Engine.deferred_statuses = False
    service.Engine.refresh_statuses = refresh_one_by_one  # type: ignore[method-assign]
    # Every query its own request.
    prefetch = SharedReads.prefetch
    SharedReads.prefetch = ask_nothing_ahead  # type: ignore[method-assign]
    # Queries were parsed again whenever an SLO was evaluated.
    promql.function_names = names.__wrapped__  # type: ignore[assignment]
    promql._instant_selectors = selectors.__wrapped__  # type: ignore[assignment]
    try:
        yield
    finally:
        service.evaluate_range = column_wise
        service.Engine._snapshot = snapshot  # type: ignore[method-assign]
        service.Engine.deferred_statuses = True
        service.Engine.refresh_statuses = refresh  # type: ignore[method-assign]
        SharedReads.prefetch = prefetch  # type: ignore[method-assign]
        promql.function_names, promql._instant_selectors = names, selectors
        assert evaluate.evaluate_range is column_wise


def snapshot_in_one_write(
    engine: service.Engine, definition: SLODefinition, moment: int, succeeded_at: int | None = None
) -> None:
    """The status snapshot of before: the report summed inside the write transaction."""
    with engine.store.begin() as connection:
        stored = registry.get_slo(connection, definition.key)
        if stored is None:
            return
        if succeeded_at is not None:
            registry.record_success(connection, stored.id, succeeded_at)
            stored = replace(
                stored, last_error=None, last_error_kind=None, last_error_at=None,
                last_success_at=succeeded_at,
            )  # fmt: skip
        report = build_slo_report(
            connection, stored, definition, engine.definitions, moment,
            freshness=engine.config.freshness, with_incidents=False,
        )  # fmt: skip
        status.save_status(connection, stored.id, report, moment)


def refresh_one_by_one(
    engine: service.Engine, now: float, definitions: Any, succeeded: Any = None
) -> None:
    """The end-of-tick refresh of before: one snapshot after another."""
    for definition in definitions:
        engine._snapshot(definition, int(now))


def ask_nothing_ahead(reads: SharedReads, asks: Any, threads: int) -> None:
    """Before queries were asked several to a request."""
