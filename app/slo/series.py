"""A stretch of one SLO's ledger as columns: the slices replay judges, windows summed at once.

Replay asks, for every slice end of a range, what each alert window held. Asked one window at a
time that is tens of thousands of sums per SLO; as columns it is a prefix sum and two index
searches per window length, whatever the number of ends.

An element is a slice or, where replay needs no more detail, a whole five-minute rollup bucket
at its end: `counted`, `no_data` and `excluded` count slices, so sums are the same either way
for windows whose edges fall on bucket ends or inside detailed buckets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from app.slo.ledger import WindowTotals
from app.slo.windows import Window

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class WindowSums:
    """Sums over `(end - seconds, end]` for many ends at once (counted slices only)."""

    total: Floats
    bad: Floats
    slices: Ints
    no_data: Ints
    excluded: Ints


@dataclass(frozen=True)
class SliceSeries:
    """Stored slices (or rollup buckets) of one SLO, oldest first. Amounts are sums over
    counted slices only: no data, or excluded by a budget correction, spends nothing."""

    t: Ints
    counted: Ints  # slices with data that count
    no_data: Ints
    excluded: Ints
    total: Floats
    bad: Floats
    unattributed: Floats
    credited: Mapping[str, Floats] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.t)

    @classmethod
    def empty(cls) -> SliceSeries:
        none = np.zeros(0)
        counts = np.zeros(0, dtype=np.int64)
        return cls(counts, counts, counts, counts, none, none, none)

    def with_amounts(
        self, bad: Floats, credited: Mapping[str, Floats], unattributed: Floats | None = None
    ) -> SliceSeries:
        return SliceSeries(
            self.t,
            self.counted,
            self.no_data,
            self.excluded,
            self.total,
            bad,
            self.unattributed if unattributed is None else unattributed,
            credited,
        )

    @cached_property
    def _prefixes(self) -> tuple[Floats, Floats, Floats, Floats, Floats]:
        """Prefix sums of the summed columns, computed once per series."""
        return (
            _prefix(self.total),
            _prefix(self.bad),
            _prefix(self.counted),
            _prefix(self.no_data),
            _prefix(self.excluded),
        )

    def sums(self, ends: Ints, seconds: int) -> WindowSums:
        """Each window `(end - seconds, end]` of `ends`, summed."""
        high = np.searchsorted(self.t, ends, side="right")
        low = np.searchsorted(self.t, ends - seconds, side="right")
        total, bad, counted, no_data, excluded = (
            np.asarray(prefix[high] - prefix[low], dtype=np.float64) for prefix in self._prefixes
        )
        return WindowSums(
            total=total,
            bad=bad,
            slices=counted.astype(np.int64),
            no_data=no_data.astype(np.int64),
            excluded=excluded.astype(np.int64),
        )

    def amounts(self, ends: Ints, seconds: int) -> tuple[Floats, Floats]:
        """(total, bad) of each window `(end - seconds, end]`: the cheap part of `sums`."""
        high = np.searchsorted(self.t, ends, side="right")
        low = np.searchsorted(self.t, ends - seconds, side="right")
        total, bad = self._prefixes[:2]
        return total[high] - total[low], bad[high] - bad[low]

    def totals(self, window: Window) -> WindowTotals:
        """The window's totals with per-mode credit, as `WindowTotals.of` would sum them."""
        inside = (self.t > window.start) & (self.t <= window.end)
        return WindowTotals(
            total=float(self.total[inside].sum()),
            bad=float(self.bad[inside].sum()),
            unattributed=float(self.unattributed[inside].sum()),
            credited={mode: float(values[inside].sum()) for mode, values in self.credited.items()},
            slices=int(self.counted[inside].sum()),
            no_data_slices=int(self.no_data[inside].sum()),
            excluded_slices=int(self.excluded[inside].sum()),
        )


def merge(coarse: SliceSeries, fine: SliceSeries, detailed: Ints, size: int) -> SliceSeries:
    """`coarse` buckets of `size` seconds (by end), with those ending in `detailed` replaced by
    the slices of `fine` inside them."""
    keep = ~np.isin(coarse.t, detailed)
    wanted = np.isin(-(-fine.t // size) * size, detailed)
    t = np.concatenate((coarse.t[keep], fine.t[wanted]))
    order = np.argsort(t, kind="stable")

    def join(left: Floats | Ints, right: Floats | Ints) -> npt.NDArray[Any]:
        return np.concatenate((left[keep], right[wanted]))[order]

    modes = set(coarse.credited) | set(fine.credited)
    credited = {
        mode: join(
            coarse.credited.get(mode, np.zeros(len(coarse))),
            fine.credited.get(mode, np.zeros(len(fine))),
        )
        for mode in modes
    }
    return SliceSeries(
        t[order],
        join(coarse.counted, fine.counted),
        join(coarse.no_data, fine.no_data),
        join(coarse.excluded, fine.excluded),
        join(coarse.total, fine.total),
        join(coarse.bad, fine.bad),
        join(coarse.unattributed, fine.unattributed),
        credited,
    )


def _prefix(values: Floats | Ints | Flags) -> Floats:
    out = np.zeros(len(values) + 1, dtype=np.float64)
    np.cumsum(values, out=out[1:])
    return out
