"""Turn what Prometheus returned at one slice end into one ledger record.

Rules that keep the ledger honest:
- No series for the SLI is `no-data`: it spends nothing and saves nothing.
- NaN or ±Inf from any counted query (total, good, bad, a failure mode's bad), or a count too
  large to add up, is `no-data` too: NaN on the bad side is never zero bad. Every `no-data`
  record says why (`NoData`).
- A threshold whose gauges have no sample inside the slice is `no-data`, even though Prometheus
  would still return their last value for five minutes.
- A `bad` query with no series while `total` has data means zero bad events (Prometheus returns
  nothing for `sum(rate(x{code=~"5.."}[1m]))` until the first 5xx ever happens).
- Rates become counts by multiplying with the slice length; counts are clamped to `0 ≤ bad ≤ total`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from app.slo.attribution import attribute
from app.slo.ledger import ModeSlice, NoData, NoDataReason, SliceRecord, SliceStatus
from app.slo.queries import Signal, SignalRole, signals
from app.slo.spec import Budgeting, SLOSpec, ThresholdOp

# What one query returned at one timestamp: one value per series (empty: no series).
Readings = Mapping[str, Sequence[float]]

_COMPARE = {
    ThresholdOp.LT: lambda value, bound: value < bound,
    ThresholdOp.LE: lambda value, bound: value <= bound,
    ThresholdOp.GT: lambda value, bound: value > bound,
    ThresholdOp.GE: lambda value, bound: value >= bound,
    ThresholdOp.EQ: lambda value, bound: value == bound,
    ThresholdOp.NE: lambda value, bound: value != bound,
}


# Counts above this cannot be summed safely over windows and periods (a float tops at ~1.8e308);
# no real service counts anywhere near it in one slice.
LARGEST_COUNT = 1e300


class Unusable(Exception):  # noqa: N818 - control flow inside this module: the slice is no-data
    def __init__(self, reason: NoDataReason) -> None:
        super().__init__(reason)
        self.reason = reason


def to_count(values: Sequence[float], signal: Signal, slice_seconds: int) -> float | None:
    """Sum a counter signal's series into a count for the slice; None when there is no series.

    Raises Unusable when a series is NaN or ±Inf or the count is too large: a partial or infinite
    count would spend or save budget that nobody measured.
    """
    if not values:
        return None
    if not all(math.isfinite(value) for value in values):
        raise Unusable(NoDataReason.NOT_FINITE)
    amount = finite_sum(values)
    if signal.unit == "rate":
        amount *= slice_seconds
    if not abs(amount) <= LARGEST_COUNT:
        raise Unusable(NoDataReason.OVERFLOW)
    return max(0.0, amount)


def finite_sum(values: Iterable[float]) -> float:
    """fsum, with an overflow reported as Unusable instead of an OverflowError."""
    try:
        return math.fsum(values)
    except OverflowError:
        raise Unusable(NoDataReason.OVERFLOW) from None


def condition_holds(values: Sequence[float], op: ThresholdOp, bound: float) -> bool | None:
    """A threshold holds when every series satisfies it; None when no series is finite."""
    finite = [value for value in values if math.isfinite(value)]
    if not finite:
        return None
    return all(_COMPARE[op](value, bound) for value in finite)


def evaluate_slice(spec: SLOSpec, t: int, readings: Readings) -> SliceRecord:
    """The ledger record of the slice ending at `t` (see SliceEvaluator for many slices)."""
    return SliceEvaluator(spec).evaluate(t, readings)


class SliceEvaluator:
    """Evaluates slices of one SLO; the SLO's signals are worked out once, not per slice."""

    def __init__(self, spec: SLOSpec) -> None:
        self.spec = spec
        self.signals = {signal.key: signal for signal in signals(spec)}
        self.mode_bad = [s for s in self.signals.values() if s.role is SignalRole.MODE_BAD]
        self.mode_when = [s for s in self.signals.values() if s.role is SignalRole.MODE_WHEN]
        self.mode_names = [mode.name for mode in spec.failure_modes]
        self.occurrences = spec.effective_budgeting is Budgeting.OCCURRENCES

    def _count(self, key: str, readings: Readings) -> float | None:
        signal = self.signals.get(key)
        if signal is None:
            return None
        try:
            return to_count(readings.get(key, ()), signal, self.spec.slice_seconds)
        except Unusable as unusable:
            raise _NoDataAt(NoData(unusable.reason, key)) from None

    def evaluate(self, t: int, readings: Readings) -> SliceRecord:
        """The ledger record of the slice ending at `t`, from every signal's readings at `t`."""
        try:
            return self._evaluate(t, readings)
        except _NoDataAt as missing:
            return SliceRecord(t=t, status=SliceStatus.NO_DATA, no_data=missing.no_data)

    def _evaluate(self, t: int, readings: Readings) -> SliceRecord:
        spec = self.spec
        mode_raw_bad: dict[str, float | None] = {
            signal.mode: self._count(signal.key, readings) or 0.0
            for signal in self.mode_bad
            if signal.mode is not None
        }
        mode_held: dict[str, bool | None] = {
            signal.mode: len(readings.get(signal.key, ())) > 0
            for signal in self.mode_when
            if signal.mode is not None
        }
        value: float | None = None
        events_total: float | None = None
        events_bad: float | None = None
        if spec.sli is not None and spec.sli.threshold is not None:
            threshold = spec.sli.threshold
            values = readings.get("threshold", ())
            holds = condition_holds(values, threshold.op, threshold.value)
            if holds is None:
                reason = NoDataReason.NOT_FINITE if values else NoDataReason.NO_SERIES
                raise _NoDataAt(NoData(reason, "threshold"))
            if "freshness" in self.signals and not readings.get("freshness"):
                raise _NoDataAt(NoData(NoDataReason.STALE_GAUGE, "threshold"))
            finite = [v for v in values if math.isfinite(v)]
            value = max(finite) if threshold.op in (ThresholdOp.LT, ThresholdOp.LE) else min(finite)
            total, bad = 1.0, 0.0 if holds else 1.0
        else:
            events_total = self._count("total", readings)
            if events_total is None:
                raise _NoDataAt(NoData(NoDataReason.NO_SERIES, "total"))
            if "bad" in self.signals:
                events_bad = self._count("bad", readings) or 0.0
            elif "good" in self.signals:
                good = self._count("good", readings)
                if good is None:
                    raise _NoDataAt(NoData(NoDataReason.NO_SERIES, "good"))
                events_bad = events_total - good
            else:
                try:
                    events_bad = finite_sum(v for v in mode_raw_bad.values() if v is not None)
                except Unusable as unusable:
                    raise _NoDataAt(NoData(unusable.reason, "failure modes")) from None
            events_bad = min(max(events_bad, 0.0), events_total)
            total, bad = _budget_units(spec, events_total, events_bad)

        split = attribute(bad, _mode_bad_in_units(mode_raw_bad, events_bad, bad, spec), mode_held)
        modes = {
            mode: ModeSlice(
                credited=split.credited.get(mode, 0.0),
                raw_bad=mode_raw_bad.get(mode),
                held=mode_held.get(mode),
            )
            for mode in self.mode_names
        }
        return SliceRecord(
            t=t,
            status=SliceStatus.OK,
            total=total,
            bad=bad,
            unattributed=split.unattributed,
            modes=modes,
            events_total=None if self.occurrences else events_total,
            events_bad=None if self.occurrences else events_bad,
            value=value,
        )


class _NoDataAt(Exception):  # noqa: N818 - control flow: the slice being evaluated is no-data
    def __init__(self, no_data: NoData) -> None:
        super().__init__(no_data.describe())
        self.no_data = no_data


def _budget_units(spec: SLOSpec, events_total: float, events_bad: float) -> tuple[float, float]:
    """(total, bad) in budget units: events, or one slice judged against `slice_target`."""
    if spec.effective_budgeting is Budgeting.OCCURRENCES:
        return events_total, events_bad
    if events_total <= 0:
        return 0.0, 0.0  # no events to judge the slice by: it spends nothing and saves nothing
    target = (spec.slice_target or 100.0) / 100.0
    good_ratio = 1.0 - events_bad / events_total
    # A tiny tolerance so that exactly-on-target slices are good despite float rounding.
    return 1.0, 0.0 if good_ratio + 1e-12 >= target else 1.0


def _mode_bad_in_units(
    mode_raw_bad: Mapping[str, float | None],
    events_bad: float | None,
    bad_units: float,
    spec: SLOSpec,
) -> dict[str, float | None]:
    """Mode counts in budget units: events as they are; for a bad timeslice, the share of the
    slice's bad events each mode explains."""
    if spec.effective_budgeting is Budgeting.OCCURRENCES:
        return dict(mode_raw_bad)
    if not events_bad or bad_units == 0:
        return dict.fromkeys(mode_raw_bad, 0.0)
    return {
        mode: None if raw is None else bad_units * raw / events_bad
        for mode, raw in mode_raw_bad.items()
    }
