"""The engine's seam to a metrics backend: range queries evaluated at exact slice ends.

`PrometheusSource` implements it over HTTP and `SharedReads` on top of any other source; a
VictoriaMetrics source, a recorded-answers source for fast tests or a replay source would
implement the same methods. The engine and the backfill depend on this, never on an adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from app.slo.grid import Floats, GridAnswer, Ints

# Values of one query: slice end → one value per returned series.
Series = dict[int, list[float]]


@dataclass(frozen=True)
class Matrix:
    """One range query's answer as it came: per series, its sample times and values (arrays)."""

    series: tuple[tuple[Ints, Floats], ...] = ()
    # Each series' labels, in the same order (what a grouped SLO splits its answers by);
    # empty when the reader does not keep them.
    labels: tuple[dict[str, str], ...] = ()
    # The answer on one grid ((first, step, slices), its values), `series` dropped: `placed`.
    grid: tuple[tuple[int, int, int], GridAnswer] | None = None

    @property
    def points(self) -> int:
        return sum(int(times.shape[0]) for times, _ in self.series)

    def on_grid(self, first: int, step: int, slices: int) -> GridAnswer:
        """The answer on the slice ends `first, first + step, …` (the evaluator's view)."""
        if self.grid is not None:
            assert self.grid[0] == (first, step, slices), "placed on another grid"
            return self.grid[1]
        return GridAnswer.of_points(list(self.series), first, step, slices)

    def placed(self, first: int, step: int, slices: int) -> Matrix:
        """The answer on the grid only, its points dropped: what a grouped backfill holds from
        its read until its chunk is written (9 bytes a point against 16 and then 25)."""
        return Matrix((), self.labels, ((first, step, slices), self.on_grid(first, step, slices)))

    def by_time(self) -> Series:
        """Values per instant (for callers that look at a few points)."""
        values: Series = {}
        for times, samples in self.series:
            for t, value in zip(times.tolist(), samples.tolist(), strict=True):
                values.setdefault(t, []).append(value)
        return values

    @classmethod
    def of(cls, series: list[tuple[list[int], list[float]]]) -> Matrix:
        return cls(
            tuple(
                (np.asarray(times, dtype=np.int64), np.asarray(values, dtype=np.float64))
                for times, values in series
            )
        )


class SignalReader(Protocol):
    """Answers PromQL range queries at `start, start+step, …, end`; errors are the project's own
    (`app.sources.errors`): `QueryError` for the query's fault, `SourceUnavailableError` and its
    kin when the source is at fault."""

    @property
    def closed_ranges(self) -> bool:
        """Whether a range `S[w]` at `t` includes a sample at exactly `t - w` (Prometheus 2.x)
        or not (VictoriaMetrics, Prometheus 3): the sample-difference counts depend on it."""
        ...

    def chunks(self, start: int, end: int, step: int) -> list[tuple[int, int]]:
        """Split `[start, end]` into ranges small enough for one request each."""
        ...

    def query_range(self, query: str, start: int, end: int, step: int) -> Series:
        """Evaluate one query at every step of one chunk."""
        ...

    def query_matrix(self, query: str, start: int, end: int, step: int) -> Matrix:
        """`query_range`, answered as arrays."""
        ...

    def read(
        self, queries: Mapping[str, str], start: int, end: int, step: int
    ) -> dict[str, Matrix]:
        """Several queries over the same instants of one chunk; the first failure raises."""
        ...


class SignalSource(SignalReader, Protocol):
    """A backend the engine owns: each query can be bounded by a deadline, all cancelled."""

    def query_range(
        self, query: str, start: int, end: int, step: int, *, deadline: float | None = None
    ) -> Series:
        """One query; `deadline` (a `time.monotonic()` instant) caps it, retries included."""
        ...

    def query_matrix(
        self, query: str, start: int, end: int, step: int, *, deadline: float | None = None
    ) -> Matrix:
        """`query_range`, answered as arrays."""
        ...

    def cancel(self) -> None:
        """Abandon queries in flight and refuse new ones (shutdown)."""
        ...
