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
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol, TypeVar

import numpy as np

from app.slo.counts import summed_count
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

# How long the last raw answers of a selector stand in for counting its samples again: a
# backfill asks the same selectors chunk after chunk, seconds apart.
KNOWN_FOR = 600.0

T = TypeVar("T")


class Densities:
    """What each selector's last raw answers held: samples per millisecond of span and series.
    A backfill's next chunk plans its requests from them instead of first asking Prometheus to
    count the samples (a fifth of the raw queries' time: one more request per query and chunk).
    Planning is about cost only: an estimate that is off changes how many requests ask for the
    samples, or whether the formula is asked, never the counts."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, most: int = 4096) -> None:
        self._clock, self._most = clock, most
        self._known: OrderedDict[str, tuple[float, int, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, selector: str) -> tuple[float, int] | None:
        with self._lock:
            known = self._known.get(selector)
        if known is None or self._clock() - known[2] > KNOWN_FOR:
            return None
        return known[0], known[1]

    def put(self, selector: str, samples: int, span_ms: int, series: int) -> None:
        with self._lock:
            self._known[selector] = (samples / max(span_ms, 1), series, self._clock())
            self._known.move_to_end(selector)
            while len(self._known) > self._most:
                self._known.popitem(last=False)


class InstantReader(Protocol):
    def query_instant(
        self, query: str, at: int, read: Callable[[Answer], T], *, deadline: float | None = None
    ) -> T:
        """One instant query at `at`, its answer read by `read` (retried as any query)."""
        ...


def worth_it(start: int, end: int, step: int) -> bool:
    return (end - start) // step + 1 >= MIN_SLICES


def from_samples(
    source: InstantReader,
    query: str,
    start: int,
    end: int,
    step: int,
    deadline: float | None = None,
    densities: Densities | None = None,
) -> Matrix | None:
    """`query`'s answer at `start, start + step, …, end`, counted from the raw samples of its
    selector when it is a summed count over enough slice ends; None when it is to be asked as
    written (also when this path cannot use an answer: the formula is asked then).
    `densities`: what the selector's last answers held, asked to count the samples only when
    it does not know."""
    counted = summed_count(query) if worth_it(start, end, step) else None
    if counted is None:
        return None
    selector = counted.selector
    slices = (end - start) // step + 1
    whole_span = fetch_span_ms(counted, start, end)
    known = densities.get(selector) if densities is not None else None
    try:
        if known is None:
            counts = source.query_instant(
                f"count_over_time({selector}[{whole_span}ms])", end, read_values, deadline=deadline
            )
            total, series_count = sum(counts), len(counts)
        else:
            total, series_count = known[0] * whole_span, known[1]
        parts = max(1, math.ceil(total / MAX_SAMPLES))
        spanned = whole_span / 1000 / step  # slices the samples span
        if parts > slices or total > MAX_DENSITY * series_count * spanned:
            return None
        per_part = math.ceil(slices / parts)
        found: dict[tuple[tuple[str, str], ...], list[SummedSeries]] = {}
        received, asked_span, most_series = 0, 0, 0
        for offset in range(0, slices, per_part):
            first = start + offset * step
            last = min(end, first + (per_part - 1) * step)
            span = fetch_span_ms(counted, first, last)
            raw = source.query_instant(
                f"{selector}[{span}ms]", last, read_samples, deadline=deadline
            )
            received += sum(len(series.times) for series in raw)
            asked_span, most_series = asked_span + span, max(most_series, len(raw))
            for series in summed_counts(raw, counted, first, step, (last - first) // step + 1):
                found.setdefault(tuple(sorted(series.labels.items())), []).append(series)
    except (MalformedAnswerError, QueryError, AmbiguousSeriesError):
        return None
    if densities is not None:
        densities.put(selector, received, asked_span, most_series)
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
