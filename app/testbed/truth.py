"""Ground truth per one-minute slice and per shipped SLO, from the generator's own event counts.

Counts come from the events the model drew (never from Prometheus or app code); `when`
conditions are evaluated with Prometheus' semantics over the generated samples
(`app.testbed.promsemantics`). Attribution follows DESIGN.md §1, written here independently:

- events SLOs: mode `bad` counts are credited directly, scaled down proportionally when they add
  up to more than the slice's bad total; the rest is split equally among modes whose `when`
  held; what is left is unattributed. Without an SLI `bad`, bad = min(total, Σ mode bad).
- timeslice SLOs (threshold SLIs): a slice is bad when the condition fails at its end; a bad
  slice is split equally among modes whose `when` held, else unattributed.

A slice ending at `t` has data when every counter the SLI reads has a sample in `(t - 60, t]`
and one before it (at most an hour before); otherwise it is no-data: total and bad are 0 and
nothing is attributed, and its events are counted in the next slice that has data, as the first
sample after a scrape gap shows them. A threshold slice has data when its gauges have a sample
in `(t - 60, t]`.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from app.testbed.dataset import Dataset
from app.testbed.promsemantics import Evaluator
from app.testbed.shipped import SHIPPED_SLOS, Match, SLOTruthSpec
from app.testbed.window import SliceTruth, WindowTruth, attribute, attribute_slice

NAN = math.nan
PREVIOUS_LOOKBACK = 3600  # how far back the engine looks for a counter's previous sample
NO_PREVIOUS = 2  # observability: a slice with no sample before it


@dataclass(frozen=True)
class SLOTruth:
    """Columns over the scenario's slices (`ends`); NaN marks a missing value."""

    key: str
    objective: float
    timeslices: bool
    modes: tuple[str, ...]
    ends: range
    no_data: bytearray
    total: array[float]
    bad: array[float]
    threshold: array[float]
    mode_bad: dict[str, array[float]]
    mode_when: dict[str, bytearray]
    attributed: dict[str, array[float]]
    unattributed: array[float]

    def _position(self, end: int) -> int:
        if end not in self.ends:
            raise KeyError(f"no slice of {self.key} ends at {end}")
        return (end - self.ends.start) // 60

    def at(self, end: int) -> SliceTruth:
        k = self._position(end)
        threshold = self.threshold[k]
        return SliceTruth(
            end=end,
            no_data=bool(self.no_data[k]),
            total=self.total[k],
            bad=self.bad[k],
            threshold_value=None if math.isnan(threshold) else threshold,
            mode_bad={
                mode: None if math.isnan(column[k]) else column[k]
                for mode, column in self.mode_bad.items()
            },
            mode_when={mode: bool(column[k]) for mode, column in self.mode_when.items()},
            attributed={mode: column[k] for mode, column in self.attributed.items()},
            unattributed=self.unattributed[k],
        )

    def slices(self) -> Iterator[SliceTruth]:
        for end in self.ends:
            yield self.at(end)

    def window(self, start: int, end: int) -> WindowTruth:
        """Sums over the slices ending in (start, end]."""
        first = max(start // 60 * 60 + 60, self.ends.start)  # the first minute end after start
        last = min(end // 60 * 60, self.ends.stop - 1)
        positions = [(t - self.ends.start) // 60 for t in range(first, last + 1, 60)]
        return WindowTruth(
            key=self.key,
            start=start,
            end=end,
            objective=self.objective,
            slices=len(positions),
            no_data_slices=sum(self.no_data[k] for k in positions),
            total=math.fsum(self.total[k] for k in positions),
            bad=math.fsum(self.bad[k] for k in positions),
            attributed={
                mode: math.fsum(column[k] for k in positions)
                for mode, column in self.attributed.items()
            },
            unattributed=math.fsum(self.unattributed[k] for k in positions),
        )

    def whole(self) -> WindowTruth:
        return self.window(self.ends.start - 60, self.ends.stop - 1)


class GroundTruth:
    """Truth for every shipped SLO of a dataset, computed on first use and kept."""

    def __init__(
        self,
        dataset: Dataset,
        specs: Sequence[SLOTruthSpec] = SHIPPED_SLOS,
        evaluator: Evaluator | None = None,
    ) -> None:
        """`evaluator`: the semantics `when` conditions are asked with (Prometheus 2.42's by
        default; `vmsemantics.VictoriaMetricsEvaluator` for a VictoriaMetrics source)."""
        self.dataset = dataset
        self.specs = {spec.key: spec for spec in specs}
        self._evaluator = evaluator or Evaluator(dataset)
        self._observable = observability(dataset)
        self._computed: dict[str, SLOTruth] = {}

    @property
    def keys(self) -> list[str]:
        return list(self.specs)

    def slo(self, key: str) -> SLOTruth:
        if key not in self._computed:
            self._computed[key] = compute_slo_truth(
                self.dataset, self.specs[key], self._evaluator, self._observable
            )
        return self._computed[key]

    def __getitem__(self, key: str) -> SLOTruth:
        return self.slo(key)


def _targets(dataset: Dataset, matches: Sequence[Match | None]) -> set[str]:
    catalog = dataset.catalog
    return {catalog.series[i].target for m in matches if m is not None for i in m.series(catalog)}


def observability(dataset: Dataset, lookback: int = PREVIOUS_LOOKBACK) -> dict[str, bytearray]:
    """Per target and slice: 1 with a sample in `(t - 60, t]` and one at most `lookback` before
    it; 0 without a sample of its own (its events go to the next slice with data); `NO_PREVIOUS`
    when nothing before it was sampled (the events its samples show are never counted)."""
    return {
        target: bytearray(_observed(times, end, lookback) for end in dataset.scenario.slice_ends)
        for target, times in _present_times(dataset).items()
    }


def _observed(times: list[float], end: int, lookback: int) -> int:
    if not _sampled(times, end - 60 - lookback - 1, end - 60):
        return NO_PREVIOUS
    return 1 if _sampled(times, end - 60, end) else 0


def gauge_observability(dataset: Dataset) -> dict[str, bytearray]:
    """Per target and slice: whether any sample fell in `(t - 60, t]`.

    A threshold slice reads gauges: it is observable when they were sampled within the slice
    (Prometheus' five-minute lookback would otherwise show a stale value inside a gap). The
    engine checks the same with `count_over_time(gauge[59999ms])`.
    """
    return {
        target: bytearray(_sampled(times, end - 60, end) for end in dataset.scenario.slice_ends)
        for target, times in _present_times(dataset).items()
    }


def _present_times(dataset: Dataset) -> dict[str, list[float]]:
    return {
        target: [t for t, kept in zip(dataset.times, mask, strict=True) if kept]
        for target, mask in dataset.present.items()
    }


def _sampled(times: list[float], after: float, until: float) -> bool:
    """Whether a sample time lies in `(after, until]`."""
    return bisect_right(times, until) > bisect_right(times, after)


def carried(column: Sequence[float], observable: Sequence[int]) -> list[float]:
    """Events of slices without a sample moved to the next slice with data; events shown before
    any earlier sample are dropped, as no difference of samples counts them."""
    moved: list[float] = []
    pending = 0.0
    for events, seen in zip(column, observable, strict=True):
        pending = 0.0 if seen == NO_PREVIOUS else pending + events
        moved.append(pending if seen == 1 else 0.0)
        if seen:
            pending = 0.0
    return moved


def _combined(states: Sequence[int]) -> int:
    """One slice over several targets: no previous sample anywhere wins, then no sample."""
    return NO_PREVIOUS if NO_PREVIOUS in states else min(states, default=1)


def _observable(observable: dict[str, bytearray], targets: set[str], k: int) -> bool:
    return all(observable[target][k] == 1 for target in targets)


def _column(dataset: Dataset, series: Sequence[int]) -> list[float]:
    """Events per slice, summed over the series."""
    columns = [dataset.minute_events[s] for s in series]
    if len(columns) == 1:
        return list(columns[0])
    return [sum(values) for values in zip(*columns, strict=True)]


@dataclass(frozen=True)
class _Inputs:
    """An SLO's spec resolved against a dataset's series, once."""

    sli_targets: set[str]
    total: list[float]
    bad: list[float] | None
    good: list[float] | None
    threshold_series: list[int]
    mode_bad: dict[str, list[float]]
    mode_targets: dict[str, set[str]]


def _resolve(dataset: Dataset, spec: SLOTruthSpec, observable: dict[str, bytearray]) -> _Inputs:
    catalog = dataset.catalog
    threshold_match = spec.threshold.selector if spec.threshold else None
    modes_with_bad = [m for m in spec.modes if m.bad is not None]
    sli_targets = _targets(dataset, [spec.total, spec.bad, spec.good, threshold_match])

    ends = dataset.scenario.slice_ends

    def column(match: Match, targets: set[str]) -> list[float]:
        mask = [_combined([observable[t][k] for t in targets]) for k in range(len(ends))]
        return carried(_column(dataset, match.series(catalog)), mask)

    return _Inputs(
        sli_targets=sli_targets,
        total=column(spec.total, sli_targets) if spec.total else [],
        bad=column(spec.bad, sli_targets) if spec.bad else None,
        good=column(spec.good, sli_targets) if spec.good else None,
        threshold_series=threshold_match.series(catalog) if threshold_match else [],
        mode_bad={
            m.name: column(m.bad, _targets(dataset, [m.bad])) for m in modes_with_bad if m.bad
        },
        mode_targets={m.name: _targets(dataset, [m.bad]) for m in modes_with_bad},
    )


def compute_slo_truth(
    dataset: Dataset,
    spec: SLOTruthSpec,
    evaluator: Evaluator | None = None,
    observable: dict[str, bytearray] | None = None,
) -> SLOTruth:
    evaluator = evaluator or Evaluator(dataset)
    observable = observable or observability(dataset)
    gauges = gauge_observability(dataset)
    inputs = _resolve(dataset, spec, observable)
    ends = dataset.scenario.slice_ends
    modes = tuple(mode.name for mode in spec.modes)
    conditions = {m.name: m.when.bind(dataset.catalog) for m in spec.modes if m.when is not None}
    sli_holds = spec.threshold.bind(dataset.catalog) if spec.threshold else None

    size = len(ends)
    truth = SLOTruth(
        key=spec.key,
        objective=spec.objective,
        timeslices=spec.timeslices,
        modes=modes,
        ends=ends,
        no_data=bytearray(size),
        total=array("d", [0.0] * size),
        bad=array("d", [0.0] * size),
        threshold=array("d", [NAN] * size),
        mode_bad={name: array("d", [NAN] * size) for name in inputs.mode_bad},
        mode_when={name: bytearray(size) for name in conditions},
        attributed={name: array("d", [0.0] * size) for name in modes},
        unattributed=array("d", [0.0] * size),
    )
    for k, end in enumerate(ends):
        when = {name: condition(evaluator, end) for name, condition in conditions.items()}
        for name, held in when.items():
            truth.mode_when[name][k] = held
        observed_bad: dict[str, float | None] = {}
        for name, column in inputs.mode_bad.items():
            if _observable(observable, inputs.mode_targets[name], k):
                truth.mode_bad[name][k] = observed_bad[name] = column[k]
            else:
                observed_bad[name] = None
        sli_observable = observable if sli_holds is None else gauges
        if not _observable(sli_observable, inputs.sli_targets, k):
            truth.no_data[k] = 1
            continue
        if sli_holds is not None:
            truth.threshold[k] = max(dataset.value_at(s, end) for s in inputs.threshold_series)
            slice_total, slice_bad = 1.0, 0.0 if sli_holds(evaluator, end) else 1.0
            credited, rest = attribute_slice(slice_bad, modes, when)
        else:
            slice_total = inputs.total[k]
            if inputs.bad is not None:
                slice_bad = inputs.bad[k]
            elif inputs.good is not None:
                slice_bad = slice_total - inputs.good[k]
            else:
                known = [b for b in observed_bad.values() if b is not None]
                slice_bad = min(slice_total, math.fsum(known))
            credited, rest = attribute(slice_bad, modes, observed_bad, when)
        truth.total[k], truth.bad[k], truth.unattributed[k] = slice_total, slice_bad, rest
        for name, amount in credited.items():
            truth.attributed[name][k] = amount
    return truth
