"""The summed sample-difference count of `counts.sample_increase`, from the raw samples.

A backfill asks `sum(rate(S[{{window}}]))` over 10,000 slice ends at a time. Prometheus answers
the rewritten count (`counts.sample_increase`) by matching every series at every slice end through
seven vector-to-vector operations: about nine tenths of its work, while the samples it reads are a
few per series and slice. Asked for those samples instead (`S[span]`, one instant query), the
same count is a few array operations per series here: per slice end `t`, with `fresh`, `lowest`,
`highest` the last, least and greatest samples in `(t - W, t]`, `resets` the drops between
successive samples there (as PromQL's `resets()` counts them) and `previous` the last sample in
the `LOOKBACK` before it (`[t - W - LOOKBACK, t - W]` where ranges are closed at their start),

- `fresh - previous` where `previous <= lowest` and nothing resets inside the slice;
- otherwise `fresh + max(highest - previous, 0) * (resets > 0)`;
- nothing for a series without `fresh` or without `previous`,

each series' count divided by the window for a `rate()`, then summed (per `by` group). The same
operations in the same order as PromQL's: the counts are those of the rewritten query. Only the
order of a sum's terms may differ, and PromQL's own order is not fixed (its range evaluation
assembles each step's vector from a hash map): sums of integral counts are exact either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.slo.counts import LOOKBACK_SECONDS, SummedCount
from app.slo.grid import Flags, Floats, Ints

Labels = dict[str, str]


@dataclass(frozen=True)
class RawSeries:
    """One series' raw samples, times in milliseconds, in time order."""

    labels: Labels
    times: Ints
    values: Floats


@dataclass(frozen=True)
class SummedSeries:
    """One output series of the summed count: its labels and its values at the slice ends
    (seconds) where it has one."""

    labels: Labels
    times: Ints
    values: Floats


class AmbiguousSeriesError(ValueError):
    """Two series differ only in their metric name: PromQL's matching would refuse the query,
    so it is left to the server to say so."""


def fetch_span_ms(counted: SummedCount, first: int, last: int) -> int:
    """How far back from `last` (ms) the samples of slice ends `first..last` reach, with a
    second to spare (only the samples inside the exact bounds are used)."""
    return (last - first + counted.window + LOOKBACK_SECONDS + 1) * 1000


def summed_counts(
    series: Sequence[RawSeries], counted: SummedCount, first: int, step: int, slices: int
) -> list[SummedSeries]:
    """The answer of the rewritten `sum [by (…)] (count)` at `first, first + step, …` from
    each series' raw samples (at least those `fetch_span_ms` covers); sorted by labels, as
    Prometheus sorts a range query's series."""
    ends = (first + step * np.arange(slices, dtype=np.int64)) * 1000
    groups: dict[tuple[tuple[str, str], ...], tuple[Floats, Flags]] = {}
    seen: set[tuple[tuple[str, str], ...]] = set()
    for raw in sorted(series, key=lambda s: sorted(s.labels.items())):
        own = tuple(sorted((k, v) for k, v in raw.labels.items() if k != "__name__"))
        if own in seen:
            raise AmbiguousSeriesError(f"two series with the labels {dict(own)}")
        seen.add(own)
        value, present = series_counts(raw.times, raw.values, ends, counted)
        if counted.per_second:
            value = value / counted.window
        key = _group(dict(own), counted.by)
        total, anywhere = groups.setdefault(key, (np.zeros(slices), np.zeros(slices, dtype=bool)))
        with np.errstate(invalid="ignore", over="ignore"):
            added = np.where(anywhere, total + value, value)
        groups[key] = (np.where(present, added, total), anywhere | present)
    return [
        SummedSeries(dict(key), (ends[anywhere] // 1000).astype(np.int64), total[anywhere])
        for key, (total, anywhere) in sorted(groups.items())
        if anywhere.any()
    ]


def series_counts(
    times: Ints, values: Floats, ends: Ints, counted: SummedCount
) -> tuple[Floats, Flags]:
    """One series' count at each slice end (ms), and where it has one (see the module)."""
    if times.shape[0] == 0:
        return np.zeros(ends.shape), np.zeros(ends.shape, dtype=bool)
    window = counted.window * 1000
    after = np.searchsorted(times, ends, side="right")  # past the last sample at or before t
    inside = np.searchsorted(times, ends - window, side="right")  # first sample after t - W
    has = after > inside
    before = np.maximum(inside - 1, 0)  # the last sample at or before t - W
    edge = ends - window - LOOKBACK_SECONDS * 1000
    reached = times[before] >= edge if counted.closed_ranges else times[before] > edge
    has_previous = (inside >= 1) & reached
    fresh = values[np.maximum(after - 1, 0)]
    previous = values[before]
    padded = np.append(values, np.nan)
    bounds = np.stack([inside, np.maximum(after, inside)], axis=1).ravel()
    # NaN-skipping, as min_over_time/max_over_time skip NaN unless every sample is NaN.
    lowest = np.fmin.reduceat(padded, bounds)[::2]
    highest = np.fmax.reduceat(padded, bounds)[::2]
    drops = np.concatenate([[0], np.cumsum(values[1:] < values[:-1])])
    last = np.minimum(np.maximum(after - 1, 0), times.shape[0] - 1)
    first = np.minimum(inside, times.shape[0] - 1)
    resets = np.where(after - inside >= 2, drops[last] - drops[first], 0)
    counted_here = has & has_previous
    with np.errstate(invalid="ignore", over="ignore"):
        steady = counted_here & (previous <= lowest) & ~(resets > 0)
        restarted = fresh + np.maximum(highest - previous, 0) * (resets > 0)
        value = np.where(steady, fresh - previous, restarted)
    return np.where(counted_here, value, 0.0), counted_here


def _group(labels: Labels, by: tuple[str, ...] | None) -> tuple[tuple[str, str], ...]:
    """The labels a `sum by (…)` keeps (empty values are no label), or none for a `sum`."""
    if by is None:
        return ()
    return tuple(sorted((name, labels[name]) for name in set(by) if labels.get(name)))
