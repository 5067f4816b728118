"""The ledger's domain types: one record per SLO per slice, and sums over windows of them.

Amounts are in budget units: events for `occurrences` budgeting, slices for `timeslices`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

Number = TypeVar("Number", int, float)


class SliceStatus(StrEnum):
    OK = "ok"
    NO_DATA = "no-data"


class NoDataReason(StrEnum):
    """Why a slice is `no-data`: never good, never bad, and never without a reason."""

    NO_SERIES = "no-series"  # the SLI's query returned no series, and none of its series exist
    TOO_SPARSE = "too-sparse"  # its series exist, but have no sample of their own in the slice
    OUT_OF_RANGE = "out-of-range"  # the source holds its series, but nothing from that time
    NOT_FINITE = "not-finite"  # a counted query returned NaN or ±Inf (e.g. a division by zero)
    OVERFLOW = "overflow"  # a count too large to add up over windows
    STALE_GAUGE = "stale-gauge"  # a threshold's gauges have no sample inside the slice


@dataclass(frozen=True, slots=True)
class NoData:
    reason: NoDataReason
    signal: str  # the query it is about: total, good, bad, threshold, mode:NAME:bad

    def describe(self) -> str:
        return f"{self.reason} ({self.signal})"

    def encode(self) -> str:
        """As the ledger stores it: `reason:signal`."""
        return f"{self.reason}:{self.signal}"

    @classmethod
    def decode(cls, text: str | None) -> NoData | None:
        """The stored form back; None for a slice stored before reasons were kept."""
        if not text:
            return None
        reason, _, signal = text.partition(":")
        try:
            return cls(NoDataReason(reason), signal)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class ModeSlice:
    """One failure mode in one slice."""

    credited: float = 0.0  # bad attributed to this mode, in budget units
    raw_bad: float | None = None  # the mode's own `bad` count, in events
    held: bool | None = None  # whether its `when` condition held


@dataclass(frozen=True, slots=True)
class SliceRecord:
    """What one slice of one SLO contributed: counts, attribution, and raw readings."""

    t: int
    status: SliceStatus
    total: float = 0.0
    bad: float = 0.0
    unattributed: float = 0.0
    modes: Mapping[str, ModeSlice] = field(default_factory=dict)
    events_total: float | None = None  # timeslices: the events behind the slice verdict
    events_bad: float | None = None
    value: float | None = None  # threshold SLIs: the gauge value at `t`
    excluded: bool = False  # inside a budget correction: recorded, but spends nothing
    # Why a `no-data` slice has no data (None for slices stored before reasons were kept).
    no_data: NoData | None = field(default=None, compare=False)

    @property
    def counts(self) -> bool:
        """Whether the slice takes part in budget figures."""
        return self.status is SliceStatus.OK and not self.excluded


@dataclass(frozen=True)
class WindowTotals:
    """Sums over the slices of a window. Only counted slices add to the amounts."""

    total: float = 0.0
    bad: float = 0.0
    unattributed: float = 0.0
    credited: Mapping[str, float] = field(default_factory=dict)
    held_slices: Mapping[str, int] = field(default_factory=dict)
    slices: int = 0  # counted slices
    no_data_slices: int = 0
    excluded_slices: int = 0

    def __add__(self, other: WindowTotals) -> WindowTotals:
        return WindowTotals(
            total=self.total + other.total,
            bad=self.bad + other.bad,
            unattributed=self.unattributed + other.unattributed,
            credited=_add_maps(self.credited, other.credited),
            held_slices=_add_maps(self.held_slices, other.held_slices),
            slices=self.slices + other.slices,
            no_data_slices=self.no_data_slices + other.no_data_slices,
            excluded_slices=self.excluded_slices + other.excluded_slices,
        )

    @property
    def has_data(self) -> bool:
        return self.slices > 0

    @classmethod
    def of(cls, records: Iterable[SliceRecord]) -> WindowTotals:
        total = bad = unattributed = 0.0
        credited: dict[str, float] = {}
        held: dict[str, int] = {}
        slices = no_data = excluded = 0
        for record in records:
            if record.status is SliceStatus.NO_DATA:
                no_data += 1
                continue
            if record.excluded:
                excluded += 1
                continue
            slices += 1
            total += record.total
            bad += record.bad
            unattributed += record.unattributed
            for mode, outcome in record.modes.items():
                credited[mode] = credited.get(mode, 0.0) + outcome.credited
                if outcome.held:
                    held[mode] = held.get(mode, 0) + 1
        return cls(total, bad, unattributed, credited, held, slices, no_data, excluded)


def _add_maps(left: Mapping[str, Number], right: Mapping[str, Number]) -> dict[str, Number]:
    merged = dict(left)
    for key, value in right.items():
        merged[key] = merged[key] + value if key in merged else value
    return merged


def finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
