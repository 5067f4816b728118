"""Prometheus 2.42 evaluation semantics over a generated dataset, for the ground truth's `when`.

Only what the shipped `when` conditions need: instant selectors with the 5-minute lookback, and
`rate()` with Prometheus' extrapolation. Both range ends are closed in 2.x (`[t - range, t]`),
and the lookback includes a sample exactly 5 minutes old. Written from the documented algorithm,
not by calling Prometheus, so the truth stays independent of the system under test.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from app.testbed.dataset import Dataset

LOOKBACK_SECONDS = 300


class Evaluator:
    def __init__(self, dataset: Dataset, lookback: int = LOOKBACK_SECONDS) -> None:
        self.dataset = dataset
        self.lookback = lookback
        self._masks = [dataset.present[series.target] for series in dataset.catalog.series]

    def _span(self, t: int, seconds: int) -> range:
        """Sample positions with timestamps in the closed range [t - seconds, t]."""
        times = self.dataset.times
        return range(bisect_left(times, t - seconds), bisect_right(times, t))

    def instant(self, series: int, t: int) -> float | None:
        """The newest sample not older than the lookback, as an instant selector returns it."""
        mask, values = self._masks[series], self.dataset.values[series]
        for i in reversed(self._span(t, self.lookback)):
            if mask[i]:
                return values[i]
        return None

    def rate(self, series: int, t: int, seconds: int) -> float | None:
        """`rate(series[seconds])` at `t`, extrapolated exactly as Prometheus 2.42 does."""
        mask, values = self._masks[series], self.dataset.values[series]
        positions = [i for i in self._span(t, seconds) if mask[i]]
        if len(positions) < 2:
            return None
        times = self.dataset.times
        first_value = values[positions[0]]
        increase = values[positions[-1]] - first_value
        previous = first_value
        for i in positions[1:]:
            if values[i] < previous:  # a counter reset: the counter restarted from zero
                increase += previous
            previous = values[i]
        first_time, last_time = times[positions[0]], times[positions[-1]]
        to_start = float(first_time - (t - seconds))
        to_end = float(t - last_time)
        sampled = float(last_time - first_time)
        average_step = sampled / (len(positions) - 1)
        if increase > 0 and first_value >= 0:
            # A counter does not go below zero: extrapolate at most to where it would be zero.
            to_start = min(to_start, sampled * (first_value / increase))
        threshold = average_step * 1.1
        extrapolated = sampled
        extrapolated += to_start if to_start < threshold else average_step / 2
        extrapolated += to_end if to_end < threshold else average_step / 2
        return increase * (extrapolated / sampled) / seconds

    def sum_rate(self, series: Sequence[int], t: int, seconds: int) -> float | None:
        """`sum(rate(...))`: empty when no series has a rate."""
        rates = [r for r in (self.rate(s, t, seconds) for s in series) if r is not None]
        return math.fsum(rates) if rates else None

    def instants(self, series: Sequence[int], t: int) -> list[float]:
        return [v for v in (self.instant(s, t) for s in series) if v is not None]

    def max_instant(self, series: Sequence[int], t: int) -> float | None:
        return max(self.instants(series, t), default=None)

    def min_instant(self, series: Sequence[int], t: int) -> float | None:
        return min(self.instants(series, t), default=None)

    def sum_instant(self, series: Sequence[int], t: int) -> float | None:
        values = self.instants(series, t)
        return math.fsum(values) if values else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """`a / b` of two aggregated vectors: empty if either is, NaN or ±Inf like Prometheus."""
    if numerator is None or denominator is None:
        return None
    if denominator == 0:
        return math.nan if numerator == 0 else math.copysign(math.inf, numerator)
    return numerator / denominator


def holds(value: float | None, op: str, threshold: float) -> bool:
    """A comparison filter: true when the vector is non-empty and the sample passes."""
    if value is None or math.isnan(value):
        return False
    return compare(value, op, threshold)


def compare(value: float, op: str, threshold: float) -> bool:
    match op:
        case "<":
            return value < threshold
        case "<=":
            return value <= threshold
        case ">":
            return value > threshold
        case ">=":
            return value >= threshold
        case "==":
            return value == threshold
        case "!=":
            return value != threshold
    raise ValueError(f"unknown comparison {op!r}")
