"""The engine's seam to a metrics backend: range queries evaluated at exact slice ends.

`PrometheusSource` implements it over HTTP and `SharedReads` on top of any other source; a
VictoriaMetrics source, a recorded-answers source for fast tests or a replay source would
implement the same methods. The engine and the backfill depend on this, never on an adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

# Values of one query: slice end → one value per returned series.
Series = dict[int, list[float]]


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

    def read(
        self, queries: Mapping[str, str], start: int, end: int, step: int
    ) -> dict[str, Series]:
        """Several queries over the same instants of one chunk; the first failure raises."""
        ...


class SignalSource(SignalReader, Protocol):
    """A backend the engine owns: each query can be bounded by a deadline, all cancelled."""

    def query_range(
        self, query: str, start: int, end: int, step: int, *, deadline: float | None = None
    ) -> Series:
        """One query; `deadline` (a `time.monotonic()` instant) caps it, retries included."""
        ...

    def cancel(self) -> None:
        """Abandon queries in flight and refuse new ones (shutdown)."""
        ...
