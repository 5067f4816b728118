"""Long range queries of summed counts answered from the raw samples (`app.slo.sample_sums`).

A backfill's chunk of `sum(rate(S[{{window}}]))`, rewritten as differences of samples, costs
Prometheus seven vector-to-vector operations per series and slice end; the samples themselves,
asked as `S[span]` in one instant query, cost it next to nothing, and the same counts are a few
array operations here (bench/RESULTS.md). Used for Prometheus only (VictoriaMetrics bounds and
dedups its samples its own way), and only over many slice ends: a tick's one slice end is
cheaper asked as the formula, and stays so. Nor where series hold more than `MAX_DENSITY`
samples a slice (scrapes much more frequent than slices): there the samples' JSON costs this
process more than the formula costs Prometheus.

Any answer this path cannot use (native histograms among the samples, two series apart only
by their metric name, a query the server refuses) leaves the query to the formula, so it fails
or succeeds exactly as before; the source being unreachable is raised as always.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol, TypeVar

import numpy as np

from app.slo.counts import SummedCount
from app.slo.sample_sums import AmbiguousSeriesError, SummedSeries, fetch_span_ms, summed_counts
from app.sources.answers import Answer, read_samples, read_values
from app.sources.errors import MalformedAnswerError, QueryError
from app.sources.signals import Matrix

# Slice ends from which the raw samples are asked for instead of the formula: the samples of
# one slice end reach back a window and `LOOKBACK` (61 per series at 60 s scrapes).
MIN_SLICES = 60
# Samples asked for in one request at most (its JSON is ~20 bytes a sample, parsed in Python);
# a chunk with more is asked in parts.
MAX_SAMPLES = 200_000
# Samples per series and slice at most: beyond, their JSON costs this process more than the
# formula costs Prometheus (bench/RESULTS.md: at 60 s scrapes on 60 s slices the samples take
# a quarter of the formula's time, at 15 s about as long), and the formula is asked.
MAX_DENSITY = 2.5

T = TypeVar("T")


class InstantReader(Protocol):
    def query_instant(
        self, query: str, at: int, read: Callable[[Answer], T], *, deadline: float | None = None
    ) -> T:
        """One instant query at `at`, its answer read by `read` (retried as any query)."""
        ...


def worth_it(start: int, end: int, step: int) -> bool:
    return (end - start) // step + 1 >= MIN_SLICES


def counted_matrix(
    source: InstantReader,
    counted: SummedCount,
    start: int,
    end: int,
    step: int,
    deadline: float | None = None,
) -> Matrix | None:
    """The answer of the summed count at `start, start + step, …, end`, from the selector's
    raw samples; None when it is to be asked as the formula instead."""
    selector = counted.selector
    slices = (end - start) // step + 1
    whole_span = fetch_span_ms(counted, start, end)
    try:
        counts = source.query_instant(
            f"count_over_time({selector}[{whole_span}ms])",
            end,
            read_values,
            deadline=deadline,
        )
        total = sum(counts)
        parts = max(1, math.ceil(total / MAX_SAMPLES))
        spanned = whole_span / 1000 / step  # slices the samples span
        if parts > slices or total > MAX_DENSITY * len(counts) * spanned:
            return None
        per_part = math.ceil(slices / parts)
        found: dict[tuple[tuple[str, str], ...], list[SummedSeries]] = {}
        for offset in range(0, slices, per_part):
            first = start + offset * step
            last = min(end, first + (per_part - 1) * step)
            span = fetch_span_ms(counted, first, last)
            raw = source.query_instant(
                f"{selector}[{span}ms]", last, read_samples, deadline=deadline
            )
            for series in summed_counts(raw, counted, first, step, (last - first) // step + 1):
                found.setdefault(tuple(sorted(series.labels.items())), []).append(series)
    except (MalformedAnswerError, QueryError, AmbiguousSeriesError):
        return None
    ordered = sorted(found.items())
    return Matrix(
        tuple(
            (
                np.concatenate([part.times for part in parts_of]),
                np.concatenate([part.values for part in parts_of]),
            )
            for _, parts_of in ordered
        ),
        tuple(dict(key) for key, _ in ordered),
    )
