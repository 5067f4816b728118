"""VictoriaMetrics 1.79 semantics of `rate()`, for the ground truth's `when` on VictoriaMetrics.

A `when` condition is the user's query asked as written, so on VictoriaMetrics it means what
MetricsQL's `rate()` computes there, not Prometheus' extrapolated one: near a threshold the two
disagree on a minute or two (measured: a 1 %-of-payment-calls condition over `[5m]` at 30 s
scrapes holds a minute later and a minute longer). Written from VictoriaMetrics' documented
algorithm (its `rate` is `rollupDerivFast` over counter values with resets removed), not by
calling it, so the truth stays independent of the server under test:

- the window is left-open, `(t - w, t]`;
- counter resets are removed over the whole series first: a drop is a restart (the value before
  it is added from then on), unless it is less than an eighth of the value before it, which is
  taken as jitter and replaced by that value;
- `previous` is the last sample before `t - w` if it is less than `max_prev` before it
  (`max_prev` is the scrape interval, estimated as the 0.6 quantile of the first 20 sample
  intervals, widened by a quarter up to 32 s, an eighth above);
- with a `previous`: (last in the window - previous) / (their time apart), 0 with no sample in
  the window; without one: (last - first) / (their time apart), none below two samples.

Instant selectors keep Prometheus' 5-minute lookback (no shipped scenario tells them apart).
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import pairwise

from app.testbed.dataset import Dataset
from app.testbed.promsemantics import Evaluator


def _quantile(q: float, values: list[float]) -> float:
    """VictoriaMetrics' `quantile`: linear between the two nearest ranks of the sorted values."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def max_prev_interval(scrape: float) -> float:
    """How far before a window its `previous` sample may be, for a scrape interval in seconds."""
    if scrape <= 2:
        return scrape * 5
    if scrape <= 4:
        return scrape * 3
    if scrape <= 8:
        return scrape * 2
    if scrape <= 16:
        return scrape + scrape / 2
    if scrape <= 32:
        return scrape + scrape / 4
    return scrape + scrape / 8


def without_resets(raw: list[float]) -> list[float]:
    """VictoriaMetrics' `removeCounterResets`: after a drop the value before it is added from
    then on, unless the drop is less than an eighth of that value (replica jitter: the value
    before it stands instead)."""
    values: list[float] = []
    correction = 0.0
    before: float | None = None
    for sample in raw:
        value = sample
        if before is not None and value < before:
            if (before - value) * 8 < before:
                value = before
            else:
                correction += before
        before = value
        values.append(value + correction)
    return values


class VictoriaMetricsEvaluator(Evaluator):
    """`Evaluator` whose `rate()` is VictoriaMetrics'."""

    def __init__(self, dataset: Dataset) -> None:
        super().__init__(dataset)
        self._series: dict[int, tuple[list[float], list[float], float]] = {}

    def _samples(self, series: int) -> tuple[list[float], list[float], float]:
        """(sample times, values with resets removed, max_prev) of one series, made once."""
        if series not in self._series:
            mask, raw = self._masks[series], self.dataset.values[series]
            present = [i for i in range(len(raw)) if mask[i]]
            times = [self.dataset.times[i] for i in present]
            steps = [b - a for a, b in pairwise(times[:21])]
            scrape = _quantile(0.6, steps) if steps else 300.0
            values = without_resets([raw[i] for i in present])
            self._series[series] = (times, values, max_prev_interval(scrape))
        return self._series[series]

    def rate(self, series: int, t: int, seconds: int) -> float | None:
        times, values, max_prev = self._samples(series)
        start = t - seconds
        first = bisect_right(times, start)  # the first sample inside (t - w, t]
        last = bisect_right(times, t) - 1
        inside = last - first + 1
        if first > 0 and first < len(times) and times[first - 1] > start - max_prev:
            if inside <= 0:
                return 0.0
            begin = first - 1
        elif inside < 2:
            return None
        else:
            begin = first
        return (values[last] - values[begin]) / (times[last] - times[begin])
