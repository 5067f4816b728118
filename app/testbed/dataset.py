"""A generated scenario: every sample of every series, and the events behind them per minute."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from app.testbed.scenario import Scenario
from app.testbed.series import TARGETS, Catalog, Series
from app.testbed.simulation import Simulation


@dataclass(frozen=True)
class Dataset:
    """Samples at `scenario.start + i * interval` for i in `range(samples)`.

    `values[s][i]` is series `s` at sample `i`, gaps included (the model runs through a scrape
    gap; the sample is just not written). `present[target][i]` says whether it was scraped.
    `minute_events[s][k]` is the number of events series `s` counted in the slice ending at
    `scenario.start + 60 * (k + 1)` (zero for gauges): the generator's own counts.
    """

    scenario: Scenario
    catalog: Catalog
    values: tuple[array[float], ...]
    minute_events: tuple[array[float], ...]
    present: dict[str, bytearray]

    @property
    def interval(self) -> int:
        return self.scenario.interval

    @property
    def samples(self) -> int:
        return self.scenario.minutes * 60 // self.scenario.interval + 1

    def sample_time(self, i: int) -> int:
        return self.scenario.start + i * self.scenario.interval

    def sample_index(self, t: int) -> int:
        return (t - self.scenario.start) // self.scenario.interval

    def is_present(self, series: int, i: int) -> bool:
        return 0 <= i < self.samples and bool(self.present[self.catalog.series[series].target][i])

    def value_at(self, series: int, t: int) -> float:
        return self.values[series][self.sample_index(t)]

    def events(self, series: int, slice_end: int) -> float:
        return self.minute_events[series][(slice_end - self.scenario.start) // 60 - 1]

    def samples_of(self, series: int) -> Iterator[tuple[int, float]]:
        """(time, value) of every sample written for the series."""
        mask = self.present[self.catalog.series[series].target]
        values = self.values[series]
        start, step = self.scenario.start, self.scenario.interval
        for i in range(self.samples):
            if mask[i]:
                yield start + i * step, values[i]


def generate(scenario: Scenario, simulation: Simulation | None = None) -> Dataset:
    """Run the model over the scenario. Pass a `Simulation` to keep stepping it afterwards."""
    model = simulation or Simulation(scenario)
    if model.time != scenario.start:
        raise ValueError("the simulation must be at the scenario's start")
    size = len(model.catalog)
    values = tuple(array("d") for _ in range(size))
    minute_events = tuple(array("d") for _ in range(size))
    per_minute = 60 // scenario.interval
    for s in range(size):
        values[s].append(model.values[s])
    pending = [0.0] * size
    for step in range(1, scenario.minutes * per_minute + 1):
        model.step()
        current, increments = model.values, model.increments
        for s in range(size):
            values[s].append(current[s])
            pending[s] += increments[s]
        if step % per_minute == 0:
            for s in range(size):
                minute_events[s].append(pending[s])
            pending = [0.0] * size
    samples = scenario.minutes * per_minute + 1
    present = {
        target: bytearray(
            1 if scenario.present(target, scenario.start + i * scenario.interval) else 0
            for i in range(samples)
        )
        for target in TARGETS
    }
    return Dataset(scenario, model.catalog, values, minute_events, present)


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
