"""A generated scenario: every sample of every series, and the events behind them per minute."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from app.testbed.scenario import Scenario
from app.testbed.series import TARGETS, Catalog, Series
from app.testbed.simulation import Simulation


@dataclass(frozen=True)
class Dataset:
    """Samples at `times[i]` for i in `range(samples)` (see `Scenario.sample_times`).

    `values[s][i]` is series `s` at sample `i`, gaps included (the model runs through a scrape
    gap; the sample is just not written). `present[target][i]` says whether it was scraped.
    `minute_events[s][k]` is the number of events series `s` counted in the slice ending at
    `scenario.start + 60 * (k + 1)` (zero for gauges): the generator's own counts, each
    interval's events in the slice of the sample that ends the interval. Where in its interval
    an event happened no sample can tell; counted at the sample that first shows it, a window's
    true count is exact between the last samples at or before its edges.
    """

    scenario: Scenario
    catalog: Catalog
    values: tuple[array[float], ...]
    minute_events: tuple[array[float], ...]
    present: dict[str, bytearray]
    times: array[float]

    @property
    def interval(self) -> int:
        return self.scenario.interval

    @property
    def samples(self) -> int:
        return len(self.times)

    def sample_time(self, i: int) -> float:
        return self.times[i]

    def sample_index(self, t: float) -> int:
        """The last sample at or before `t` (-1 when there is none)."""
        return bisect_right(self.times, t) - 1

    def is_present(self, series: int, i: int) -> bool:
        return 0 <= i < self.samples and bool(self.present[self.catalog.series[series].target][i])

    def value_at(self, series: int, t: int) -> float:
        return self.values[series][self.sample_index(t)]

    def events(self, series: int, slice_end: int) -> float:
        return self.minute_events[series][(slice_end - self.scenario.start) // 60 - 1]

    def samples_of(self, series: int) -> Iterator[tuple[float, float]]:
        """(time, value) of every sample written for the series."""
        mask = self.present[self.catalog.series[series].target]
        values = self.values[series]
        for i in range(self.samples):
            if mask[i]:
                yield self.times[i], values[i]


def generate(scenario: Scenario, simulation: Simulation | None = None) -> Dataset:
    """Run the model over the scenario. Pass a `Simulation` to keep stepping it afterwards."""
    model = simulation or Simulation(scenario)
    if model.time != scenario.first_sample:
        raise ValueError("the simulation must be at the scenario's first sample")
    size = len(model.catalog)
    times = array("d", scenario.sample_times())
    values = tuple(array("d", [model.values[s]]) for s in range(size))
    minute_events = tuple(array("d", [0.0] * scenario.minutes) for _ in range(size))
    for i in range(1, len(times)):
        model.step()
        current = model.values
        for s in range(size):
            values[s].append(current[s])
        k = math.ceil((times[i] - scenario.start) / 60) - 1
        if 0 <= k < scenario.minutes:
            for s, amount in enumerate(model.increments):
                minute_events[s][k] += amount
    present = {
        target: bytearray(1 if scenario.present(target, t) else 0 for t in times)
        for target in TARGETS
    }
    return Dataset(scenario, model.catalog, values, minute_events, present, times)


@dataclass(frozen=True)
class HiddenReset:
    """A reset Prometheus cannot see: the first value after it is not below the last before.

    Prometheus then reads the jump as an increase of `after - before` and misses `before` events.
    """

    series: Series
    at: int
    before: float
    after: float

    @property
    def lost_events(self) -> float:
        return self.before


def hidden_reset_losses(dataset: Dataset) -> list[HiddenReset]:
    """Every counter reset that would undercount, in scenario order (empty for a sound scenario).

    A reset is visible when the value right after it is below the value right before it. That
    fails only for a counter that had counted a few events since its previous restart and then
    counts as many in the first interval after this one: Prometheus' documented limitation.
    """
    found: list[HiddenReset] = []
    for reset in dataset.scenario.resets:
        i = dataset.sample_index(reset.at)
        if i + 1 >= dataset.samples:
            continue
        for s, series in enumerate(dataset.catalog.series):
            if series.target != reset.target or not series.is_counter:
                continue
            before, after = dataset.values[s][i], dataset.values[s][i + 1]
            if 0 < before <= after:
                found.append(HiddenReset(series, reset.at, before, after))
    return found
