"""How often an SLO's series are sampled, and the slice length that follows from it.

A slice must hold at least one new sample of its series, or it can only say "no data". When the
series are scraped less often than the configured slice (Prometheus' default is once a minute; a
`slice: 30s` SLO, or a 2-minute scrape with the default 1-minute slice), the SLO is evaluated on
a coarser slice: the sample interval rounded up to a whole number of configured slices that is
itself a valid slice length. The YAML stays as written; the slice used is shown next to it.

The interval comes from `scrape_interval:` in the SLO, else from the source's setting, else from
the data: the most samples the densest series holds in any half hour of the last six hours that
it covers from end to end (it was sampled in the half hour before too).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.slo.durations import format_duration

LEARNING_SPAN = 1800  # seconds of samples counted to learn an interval
LEARNING_LOOKBACK = 6 * 3600  # how far back a full span of samples is looked for
LEARNING_STEP = 600
# Scrape intervals people configure; an estimate within 10 % of one is taken to be it.
COMMON_INTERVALS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 300, 600)


class IntervalOrigin(StrEnum):
    YAML = "yaml"  # the SLO's `scrape_interval:`
    SOURCE = "source"  # the source's configured scrape interval
    DATA = "data"  # learned from the samples
    UNKNOWN = "unknown"  # not learned (no series yet, or the source did not answer)


@dataclass(frozen=True)
class Sampling:
    """The configured slice, the interval found, and where it came from."""

    configured_slice: int
    interval: int | None
    origin: IntervalOrigin

    @property
    def effective_slice(self) -> int:
        return effective_slice(self.configured_slice, self.interval)

    @property
    def coarsened(self) -> bool:
        return self.effective_slice != self.configured_slice


def valid_slice(seconds: int) -> bool:
    """Slices divide a minute or are whole minutes (as `slice:` in the spec)."""
    return seconds > 0 and (60 % seconds == 0 or seconds % 60 == 0)


def effective_slice(configured: int, interval: int | None) -> int:
    """The smallest valid multiple of the configured slice that holds one sample interval."""
    if interval is None or interval <= configured:
        return configured
    multiple = math.ceil(interval / configured)
    while not valid_slice(multiple * configured):
        multiple += 1
    return multiple * configured


def interval_query(selector: str) -> str:
    """Samples per series over the learning span, for the densest series; only series sampled
    in the span before it too, so that a series younger than the span does not look sparse."""
    span = format_duration(LEARNING_SPAN)
    counted = f"count_over_time({selector}[{span}])"
    return f"max({counted} and count_over_time({selector}[{span}] offset {span}))"


def interval_from_counts(sample_counts: Iterable[float]) -> int | None:
    """The sample interval from the largest count of samples in `LEARNING_SPAN` (None if < 2).

    The largest count comes from a span the series fully covers (a series that started or
    stopped inside a span has fewer), so the interval is never overestimated for lack of data;
    a sample on both edges of a span makes it one sample long, hence the snap to a common
    interval within 10 %."""
    densest = max((c for c in sample_counts if math.isfinite(c)), default=0.0)
    if densest < 2:
        return None
    estimate = LEARNING_SPAN / densest
    common = min(COMMON_INTERVALS, key=lambda interval: abs(interval - estimate))
    return common if abs(common - estimate) <= 0.1 * common else max(1, round(estimate))
