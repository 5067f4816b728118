"""Query answers on a chunk's slice grid: one array row per series, one column per slice end.

The column-wise evaluator (`app.slo.chunk`) reads these instead of one dict per timestamp: a
chunk of 10,000 slices is a handful of array operations, not 10,000 Python calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Flags = NDArray[np.bool_]
Ints = NDArray[np.int64]


@dataclass(frozen=True)
class GridAnswer:
    """One query over the slice ends `first, first + step, …`: `values[s, i]` is series `s` at
    slice `i`, meaningful where `present[s, i]` (a series without a point there reads 0.0)."""

    values: Floats  # (series, slices)
    present: Flags  # (series, slices)

    @classmethod
    def empty(cls, slices: int) -> GridAnswer:
        return cls(np.zeros((0, slices)), np.zeros((0, slices), dtype=bool))

    @classmethod
    def of_points(
        cls, series: list[tuple[Ints, Floats]], first: int, step: int, slices: int
    ) -> GridAnswer:
        """From each series' (times, values); points off the grid or outside it are dropped,
        as a per-timestamp lookup of the slice ends would never ask for them."""
        if len(series) == 1 and series[0][0].shape[0] == slices:  # one series, every slice
            times, samples = series[0]
            if np.array_equal(times, first + step * np.arange(slices, dtype=np.int64)):
                return cls(samples.reshape(1, slices), np.ones((1, slices), dtype=bool))
        values = np.zeros((len(series), slices))
        present = np.zeros((len(series), slices), dtype=bool)
        for row, (times, samples) in enumerate(series):
            offset = times - first
            index = offset // step
            on_grid = (offset % step == 0) & (index >= 0) & (index < slices)
            values[row, index[on_grid]] = samples[on_grid]
            present[row, index[on_grid]] = True
        return cls(values, present)

    @classmethod
    def of_readings(cls, columns: list[list[float]]) -> GridAnswer:
        """From per-slice lists of series values, series in order (tests, small answers): the
        `k`-th value of a slice is series `k`."""
        slices = len(columns)
        rows = max((len(column) for column in columns), default=0)
        values = np.zeros((rows, slices))
        present = np.zeros((rows, slices), dtype=bool)
        for index, column in enumerate(columns):
            values[: len(column), index] = column
            present[: len(column), index] = True
        return cls(values, present)

    @property
    def slices(self) -> int:
        return int(self.values.shape[1])

    def any_series(self) -> Flags:
        """Per slice: whether any series has a point."""
        return np.asarray(self.present.any(axis=0), dtype=bool)
