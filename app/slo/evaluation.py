"""Turn what Prometheus returned at one slice end into one ledger record.

Rules that keep the ledger honest:
- No series for the SLI (or only NaN/Inf) is `no-data`: it spends nothing and saves nothing.
- A threshold whose gauges have no sample inside the slice is `no-data`, even though Prometheus
  would still return their last value for five minutes.
- A `bad` query with no series while `total` has data means zero bad events (Prometheus returns
  nothing for `sum(rate(x{code=~"5.."}[1m]))` until the first 5xx ever happens).
- Rates become counts by multiplying with the slice length; counts are clamped to `0 ≤ bad ≤ total`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from app.slo.attribution import attribute
from app.slo.ledger import ModeSlice, SliceRecord, SliceStatus
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


def to_count(values: Sequence[float], signal: Signal, slice_seconds: int) -> float | None:
    """Sum a counter signal's series into a count for the slice; None when nothing is finite."""
    finite = [value for value in values if math.isfinite(value)]
    if not finite:
        return None
    amount = math.fsum(finite)
    if signal.unit == "rate":
        amount *= slice_seconds
    return max(0.0, amount)


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
        return to_count(readings.get(key, ()), signal, self.spec.slice_seconds)

    def evaluate(self, t: int, readings: Readings) -> SliceRecord:
        """The ledger record of the slice ending at `t`, from every signal's readings at `t`."""
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
            stale = "freshness" in self.signals and not readings.get("freshness")
            if holds is None or stale:
                return SliceRecord(t=t, status=SliceStatus.NO_DATA)
            finite = [v for v in values if math.isfinite(v)]
            value = max(finite) if threshold.op in (ThresholdOp.LT, ThresholdOp.LE) else min(finite)
            total, bad = 1.0, 0.0 if holds else 1.0
        else:
            events_total = self._count("total", readings)
            if events_total is None:
                return SliceRecord(t=t, status=SliceStatus.NO_DATA)
            if "bad" in self.signals:
                events_bad = self._count("bad", readings) or 0.0
            elif "good" in self.signals:
                good = self._count("good", readings)
                if good is None:
                    return SliceRecord(t=t, status=SliceStatus.NO_DATA)
                events_bad = events_total - good
            else:
                events_bad = math.fsum(v for v in mode_raw_bad.values() if v is not None)
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


def _budget_units(spec: SLOSpec, events_total: float, events_bad: float) -> tuple[float, float]:
    """(total, bad) in budget units: events, or one slice judged against `slice_target`."""
    if spec.effective_budgeting is Budgeting.OCCURRENCES:
        return events_total, events_bad
    target = (spec.slice_target or 100.0) / 100.0
    good_ratio = 1.0 if events_total == 0 else 1.0 - events_bad / events_total
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
