"""Truth of one slice and of a window of slices, and the attribution rule of DESIGN.md §1."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SliceTruth:
    """One slice `(end - 60, end]` of one SLO.

    For timeslice SLOs `total` is 1 and `bad` is 0 or 1. `mode_bad` holds what each mode's `bad`
    query counts (None when its series have no data), `mode_when` whether its `when` held at
    `end`. `attributed` and `unattributed` add up to `bad`.
    """

    end: int
    no_data: bool
    total: float
    bad: float
    threshold_value: float | None
    mode_bad: Mapping[str, float | None]
    mode_when: Mapping[str, bool]
    attributed: Mapping[str, float]
    unattributed: float

    @property
    def good(self) -> float:
        return self.total - self.bad


@dataclass(frozen=True)
class WindowTruth:
    """Sums over the slices ending in (start, end] of one SLO."""

    key: str
    start: int
    end: int
    objective: float
    slices: int
    no_data_slices: int
    total: float
    bad: float
    attributed: Mapping[str, float]
    unattributed: float

    @property
    def budget(self) -> float:
        return 1.0 - self.objective / 100.0

    @property
    def bad_fraction(self) -> float | None:
        return self.bad / self.total if self.total else None

    @property
    def consumed(self) -> float | None:
        """Share of the error budget spent: (bad / total) / (1 - objective / 100)."""
        fraction = self.bad_fraction
        return None if fraction is None else fraction / self.budget

    @property
    def burn_rate(self) -> float | None:
        """How fast the window spent budget, relative to spending exactly all of it."""
        return self.consumed

    def share(self, mode: str) -> float | None:
        """The part of the window's bad total attributed to `mode`."""
        return self.attributed[mode] / self.bad if self.bad else None

    @property
    def unattributed_share(self) -> float | None:
        return self.unattributed / self.bad if self.bad else None


def attribute(
    bad: float,
    modes: Sequence[str],
    mode_bad: Mapping[str, float | None],
    when: Mapping[str, bool],
) -> tuple[dict[str, float], float]:
    """Split an events slice's bad total over its modes: (attributed per mode, unattributed)."""
    attributed = dict.fromkeys(modes, 0.0)
    credits = {mode: count for mode, count in mode_bad.items() if count is not None and count > 0}
    credited = math.fsum(credits.values())
    if credited > bad:
        # One bad request counted by two modes (or retries counted twice): scale to fit, and
        # give the rounding remainder to the last mode so the parts add up to `bad`.
        names = list(credits)
        for mode in names[:-1]:
            attributed[mode] = credits[mode] * bad / credited
        attributed[names[-1]] = max(0.0, bad - math.fsum(attributed[m] for m in names[:-1]))
        return attributed, 0.0
    for mode, count in credits.items():
        attributed[mode] = count
    rest = bad - credited
    holding = [mode for mode in modes if when.get(mode, False)]
    if rest > 0 and holding:
        for mode in holding:
            attributed[mode] += rest / len(holding)
        return attributed, 0.0
    return attributed, rest


def attribute_slice(
    bad: float, modes: Sequence[str], when: Mapping[str, bool]
) -> tuple[dict[str, float], float]:
    """A timeslice: a bad slice goes to the modes whose `when` held, else it is unattributed."""
    attributed = dict.fromkeys(modes, 0.0)
    holding = [mode for mode in modes if when.get(mode, False)]
    if bad and holding:
        for mode in holding:
            attributed[mode] = bad / len(holding)
        return attributed, 0.0
    return attributed, bad
