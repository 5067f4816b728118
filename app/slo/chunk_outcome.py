"""What a chunk of one SLO evaluated to, as columns: the ledger's records and their bucket sums.

`records()` gives the same `SliceRecord`s the per-slice evaluator would; the store writes the
columns directly, and `bucket_sums` adds them up per hour or five minutes as array reductions
(the rollups of whole buckets), not one slice at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from app.slo.grid import Flags, Floats
from app.slo.ledger import ModeSlice, NoData, NoDataReason, SliceRecord, SliceStatus

REASONS = list(NoDataReason)  # a reason's code is its index + 1; 0 is "has data"


@dataclass(frozen=True)
class ModeColumns:
    name: str
    credited: Floats  # in budget units, 0 where the slice is no-data
    raw_bad: Floats | None  # the mode's own bad count in events; None without a `bad` signal
    held: Flags | None  # whether its `when` held; None without a `when` signal


@dataclass(frozen=True)
class ChunkOutcome:
    """Slices `first, first + step, …` of one SLO; amounts are 0 where a slice is no-data."""

    first: int
    step: int
    ok: Flags
    reason: NDArray[np.int8]  # no-data reason code (index in NoDataReason + 1); 0 where ok
    signal: NDArray[np.int16]  # index in `signal_names` of the query a no-data slice is about
    signal_names: tuple[str, ...]
    total: Floats
    bad: Floats
    unattributed: Floats
    modes: tuple[ModeColumns, ...]
    events_total: Floats | None  # timeslices only
    events_bad: Floats | None
    value: Floats | None  # threshold SLIs only
    excluded: Flags

    @property
    def size(self) -> int:
        return int(self.ok.shape[0])

    @property
    def last(self) -> int:
        return self.first + (self.size - 1) * self.step

    @property
    def ends(self) -> NDArray[np.int64]:
        return self.first + self.step * np.arange(self.size, dtype=np.int64)

    def no_data_counts(self) -> Counter[str]:
        """No-data slices by reason."""
        codes, counts = np.unique(self.reason[~self.ok], return_counts=True)
        return Counter(
            {REASONS[int(code) - 1].value: int(n) for code, n in zip(codes, counts, strict=True)}
        )

    def no_data(self, index: int) -> NoData | None:
        code = int(self.reason[index])
        if code == 0:
            return None
        return NoData(REASONS[code - 1], self.signal_names[int(self.signal[index])])

    def unexplained(self) -> NDArray[np.intp]:
        """Indices of the `no-series` slices (whose reason the source may make precise)."""
        return np.flatnonzero(self.reason == REASONS.index(NoDataReason.NO_SERIES) + 1)

    def set_no_data(self, indices: NDArray[np.intp], reasons: list[NoData | None]) -> None:
        """Replace the no-data reasons of slices `indices` (they stay no-data)."""
        names = list(self.signal_names)
        for index, no_data in zip(indices.tolist(), reasons, strict=True):
            if no_data is not None and no_data.signal in names:
                self.reason[index] = REASONS.index(no_data.reason) + 1
                self.signal[index] = names.index(no_data.signal)

    def no_data_texts(self) -> list[str | None]:
        """Each slice's stored reason, `reason:signal` (None where the slice has data)."""
        texts: list[str | None] = [None] * self.size
        for index in np.flatnonzero(~self.ok).tolist():
            found = self.no_data(index)
            texts[index] = None if found is None else found.encode()
        return texts

    def records(self, indices: Sequence[int] | None = None) -> list[SliceRecord]:
        """The ledger records, as the per-slice evaluator builds them."""
        chosen = range(self.size) if indices is None else indices
        ends = self.ends.tolist()
        ok, excluded = self.ok.tolist(), self.excluded.tolist()
        total, bad, unattributed = (
            self.total.tolist(),
            self.bad.tolist(),
            self.unattributed.tolist(),
        )
        events_total = None if self.events_total is None else self.events_total.tolist()
        events_bad = None if self.events_bad is None else self.events_bad.tolist()
        value = None if self.value is None else self.value.tolist()
        modes = [
            (
                mode.name,
                mode.credited.tolist(),
                None if mode.raw_bad is None else mode.raw_bad.tolist(),
                None if mode.held is None else mode.held.tolist(),
            )
            for mode in self.modes
        ]
        records = []
        for i in chosen:
            if not ok[i]:
                records.append(
                    SliceRecord(
                        t=ends[i], status=SliceStatus.NO_DATA, excluded=excluded[i],
                        no_data=self.no_data(i),
                    )
                )  # fmt: skip
                continue
            records.append(
                SliceRecord(
                    t=ends[i],
                    status=SliceStatus.OK,
                    total=total[i],
                    bad=bad[i],
                    unattributed=unattributed[i],
                    modes={
                        name: ModeSlice(
                            credited=credited[i],
                            raw_bad=None if raw is None else raw[i],
                            held=None if held is None else held[i],
                        )
                        for name, credited, raw, held in modes
                    },
                    events_total=None if events_total is None else events_total[i],
                    events_bad=None if events_bad is None else events_bad[i],
                    value=None if value is None else value[i],
                    excluded=excluded[i],
                )
            )
        return records


@dataclass(frozen=True)
class BucketSums:
    """Sums of whole buckets of one rollup level, one entry per bucket (ascending ends)."""

    ends: NDArray[np.int64]
    total: Floats
    bad: Floats
    unattributed: Floats
    slices: NDArray[np.int64]
    no_data_slices: NDArray[np.int64]
    excluded_slices: NDArray[np.int64]
    credited: dict[str, Floats]
    held: dict[str, NDArray[np.int64]]


def bucket_spans(outcome: ChunkOutcome, size: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(bucket ends, index of each bucket's first slice) of the buckets of `size` seconds the
    chunk's slices fall in (a bucket ending at `e` holds slice ends in `(e - size, e]`)."""
    ends = outcome.ends
    buckets = -(-ends // size) * size
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    return buckets[starts], starts


def bucket_sums(outcome: ChunkOutcome, size: int, chosen: NDArray[np.bool_]) -> BucketSums:
    """Sums per bucket of `size` seconds, for the buckets `chosen` (by position in
    `bucket_spans`): counted slices add their amounts, no-data and excluded ones are counted."""
    ends, starts = bucket_spans(outcome, size)
    counted = outcome.ok & ~outcome.excluded

    def summed(values: NDArray[np.float64] | NDArray[np.int64]) -> NDArray[np.float64]:
        if not values.size:
            return np.zeros(0)
        return np.asarray(np.add.reduceat(values, starts)[chosen], dtype=np.float64)

    def counted_sum(values: Floats) -> Floats:
        return summed(np.where(counted, values, 0.0))

    return BucketSums(
        ends=ends[chosen],
        total=counted_sum(outcome.total),
        bad=counted_sum(outcome.bad),
        unattributed=counted_sum(outcome.unattributed),
        slices=summed(counted.astype(np.int64)).astype(np.int64),
        no_data_slices=summed((~outcome.ok).astype(np.int64)).astype(np.int64),
        excluded_slices=summed((outcome.ok & outcome.excluded).astype(np.int64)).astype(np.int64),
        credited={mode.name: counted_sum(mode.credited) for mode in outcome.modes},
        held={
            mode.name: summed(
                (counted & mode.held).astype(np.int64) if mode.held is not None
                else np.zeros(outcome.size, dtype=np.int64)
            ).astype(np.int64)
            for mode in outcome.modes
        },
    )  # fmt: skip
