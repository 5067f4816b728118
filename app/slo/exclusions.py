"""Which slices budget corrections exclude: intervals of time turned into ranges of slice ends.

A slice ending at `t` covers `(t − slice, t]`; it is excluded when any part of it falls inside a
correction's interval `[a, b)`, that is when `a < t < b + slice`. For intervals on slice
boundaries (the usual case) that is exactly the slices ending in `(a, b]`. Ranges are merged and
sorted, so membership is a binary search and a chunk of slices is marked in one pass.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace

from app.slo.corrections import Correction
from app.slo.ledger import SliceRecord
from app.slo.windows import Window, align_down, align_up


@dataclass(frozen=True)
class ExcludedSlices:
    """Excluded slice ends as ascending, disjoint, inclusive ranges `(first, last)`."""

    slice_seconds: int
    ranges: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(
        cls, intervals: Iterable[tuple[int, int]], slice_seconds: int, window: Window
    ) -> ExcludedSlices:
        """The slices of `window` (by their ends) that the intervals `[a, b)` touch."""
        step = slice_seconds
        lowest, highest = align_up(window.start + 1, step), align_down(window.end, step)
        spans = []
        for a, b in intervals:
            first = max(align_up(a + 1, step), lowest)
            last = min(align_down(b + step - 1, step), highest)
            if b > a and first <= last:
                spans.append((first, last))
        merged: list[tuple[int, int]] = []
        for first, last in sorted(spans):
            if merged and first <= merged[-1][1] + step:
                merged[-1] = (merged[-1][0], max(merged[-1][1], last))
            else:
                merged.append((first, last))
        return cls(step, tuple(merged))

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __contains__(self, t: object) -> bool:
        if not isinstance(t, int):
            return False
        index = bisect_right(self.ranges, t, key=lambda span: span[0]) - 1
        return index >= 0 and self.ranges[index][0] <= t <= self.ranges[index][1]

    @property
    def count(self) -> int:
        """How many slices are excluded."""
        return sum((last - first) // self.slice_seconds + 1 for first, last in self.ranges)

    def mask(self, first: int, last: int) -> list[bool]:
        """For slice ends `first, first + slice, …, last`: whether each is excluded."""
        step = self.slice_seconds
        size = (last - first) // step + 1 if last >= first else 0
        flags = [False] * size
        for low, high in self.ranges:
            if high < first or low > last:
                continue
            begin = (max(low, first) - first + step - 1) // step
            stop = (min(high, last) - first) // step + 1
            flags[begin:stop] = [True] * (stop - begin)
        return flags

    def mark(self, record: SliceRecord) -> SliceRecord:
        """The record with `excluded` set as the corrections say (the engine's hook)."""
        excluded = record.t in self
        return record if record.excluded == excluded else replace(record, excluded=excluded)


def excluded_slices(
    corrections: Iterable[Correction], key: str, window: Window, slice_seconds: int
) -> ExcludedSlices:
    """The slices of SLO `key` in `window` that its corrections exclude."""
    # Slices ending in the window cover times from one slice before its first end.
    after = align_up(window.start + 1, slice_seconds) - slice_seconds
    intervals = [
        interval
        for correction in corrections
        if correction.applies_to(key)
        for interval in correction.spec.intervals(after, window.end)
    ]
    return ExcludedSlices.of(intervals, slice_seconds, window)
