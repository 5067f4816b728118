"""A stretch of one SLO's ledger as columns: the slices replay judges, windows summed at once.

Replay asks, for every slice end of a range, what each alert window held. Asked one window at a
time that is tens of thousands of sums per SLO; as columns it is a prefix sum and two index
searches per window length, whatever the number of ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
    """Stored slices of one SLO, oldest first. Amounts are zero where a slice does not count
    (no data, or excluded by a budget correction), as they are in every window sum."""

    t: Ints
    counted: Flags
    no_data: Flags
    excluded: Flags
    total: Floats
    bad: Floats
    unattributed: Floats
    credited: Mapping[str, Floats] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.t)

    @classmethod
    def empty(cls) -> SliceSeries:
        none = np.zeros(0)
        flags = np.zeros(0, dtype=np.bool_)
        return cls(np.zeros(0, dtype=np.int64), flags, flags, flags, none, none, none)

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

    def sums(self, ends: Ints, seconds: int) -> WindowSums:
        """Each window `(end - seconds, end]` of `ends`, summed."""
        high = np.searchsorted(self.t, ends, side="right")
        low = np.searchsorted(self.t, ends - seconds, side="right")

        def between(values: Floats | Ints | Flags) -> Floats:
            prefix = _prefix(values)
            return np.asarray(prefix[high] - prefix[low], dtype=np.float64)

        return WindowSums(
            total=between(self.total),
            bad=between(self.bad),
            slices=between(self.counted).astype(np.int64),
            no_data=between(self.no_data).astype(np.int64),
            excluded=between(self.excluded).astype(np.int64),
        )

    def totals(self, window: Window) -> WindowTotals:
        """The window's totals with per-mode credit, as `WindowTotals.of` would sum them."""
        inside = (self.t > window.start) & (self.t <= window.end)
        counted = inside & self.counted
        return WindowTotals(
            total=float(self.total[counted].sum()),
            bad=float(self.bad[counted].sum()),
            unattributed=float(self.unattributed[counted].sum()),
            credited={mode: float(values[counted].sum()) for mode, values in self.credited.items()},
            slices=int(counted.sum()),
            no_data_slices=int((inside & self.no_data).sum()),
            excluded_slices=int((inside & self.excluded).sum()),
        )


def _prefix(values: Floats | Ints | Flags) -> Floats:
    out = np.zeros(len(values) + 1, dtype=np.float64)
    np.cumsum(values, out=out[1:])
    return out
