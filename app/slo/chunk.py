"""Evaluate a chunk of one SLO column-wise: every slice of the chunk at once, as array operations.

The rules are those of `app.slo.evaluation` (the per-slice reference, kept for what it says
plainly; a property test checks both agree on random chunks) and `app.slo.attribution`:
no series, NaN/±Inf and counts too large are `no-data` with the same reason, in the same order
of checks; rates become counts by the slice length; counts are clamped to `0 ≤ bad ≤ total`;
threshold conditions hold when every finite series satisfies them; time slices are judged
against `slice_target`; bad is credited to failure modes (direct counts scaled to fit, then
`when` splits, then the unattributed rest); budget corrections mark slices `excluded`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from app.slo.chunk_outcome import REASONS, ChunkOutcome, ModeColumns
from app.slo.evaluation import LARGEST_COUNT
from app.slo.grid import Flags, Floats, GridAnswer
from app.slo.ledger import NoDataReason
from app.slo.queries import Signal, SignalRole, signals
from app.slo.spec import Budgeting, SLOSpec, ThresholdOp

_AnswerOf = Callable[[str], GridAnswer]

_SIGNAL_NAMES_FIXED = ("total", "good", "bad", "threshold", "failure modes")


@dataclass
class _Counted:
    """A counter signal per slice: its count (0 without series), whether any series answered,
    and the reason code of a count that cannot be used (0: usable)."""

    count: Floats
    has: Flags
    problem: NDArray[np.int8]


def _counted(answer: GridAnswer, signal: Signal, slice_seconds: int) -> _Counted:
    """(Called under `np.errstate(all="ignore")`: NaN and overflow are what it looks for.)"""
    present, values = answer.present, answer.values
    if values.shape[0] == 1:  # the usual `sum(...)`: one series, no reductions
        has: Flags = present[0]
        finite = np.isfinite(values[0])
        not_finite = has & ~finite
        amount = np.where(finite, values[0], 0.0)  # 0.0 where absent already
    else:
        has = np.asarray(present.any(axis=0), dtype=bool)
        finite = np.isfinite(values)
        not_finite = (present & ~finite).any(axis=0)
        amount = np.where(present & finite, values, 0.0).sum(axis=0)
    if signal.unit == "rate":
        amount = amount * slice_seconds
    too_large = ~(np.abs(amount) <= LARGEST_COUNT)
    problem = np.zeros(answer.slices, dtype=np.int8)
    problem[has & too_large] = _code(NoDataReason.OVERFLOW)
    problem[has & not_finite] = _code(NoDataReason.NOT_FINITE)  # checked first: it wins
    # `+ 0.0` turns −0.0 into 0.0, as `max(0.0, −0.0)` does in the reference.
    count = np.where(has & (problem == 0), np.maximum(amount, 0.0) + 0.0, 0.0)
    return _Counted(count, has, problem)


def _code(reason: NoDataReason) -> int:
    return REASONS.index(reason) + 1


class _Verdicts:
    """The first no-data verdict of each slice, checks applied in the reference's order."""

    def __init__(self, slices: int, names: list[str]) -> None:
        self.reason = np.zeros(slices, dtype=np.int8)
        self.signal = np.zeros(slices, dtype=np.int16)
        self.names = names

    def fail(self, where: Flags, code: int | NDArray[np.int8], name: str) -> None:
        fresh = where & (self.reason == 0)
        codes = code[fresh] if isinstance(code, np.ndarray) else code
        self.reason[fresh] = codes
        self.signal[fresh] = self.names.index(name)

    def counted(self, counted: _Counted, name: str) -> None:
        self.fail(counted.problem != 0, counted.problem, name)


class ChunkEvaluator:
    """Evaluates chunks of one SLO; its signals are worked out once."""

    def __init__(self, spec: SLOSpec) -> None:
        self.spec = spec
        self.signals = {signal.key: signal for signal in signals(spec)}
        self.mode_names = [mode.name for mode in spec.failure_modes]
        self.mode_bad = [s for s in self.signals.values() if s.role is SignalRole.MODE_BAD]
        self.mode_when = [s for s in self.signals.values() if s.role is SignalRole.MODE_WHEN]
        self.occurrences = spec.effective_budgeting is Budgeting.OCCURRENCES
        # The attribution's order of modes: those with `bad` first, then `when`-only ones (it
        # decides which credit takes a rounding remainder, as in `attribute`).
        ordered = [s.mode for s in self.mode_bad] + [s.mode for s in self.mode_when]
        self.attribution_order = [m for m in dict.fromkeys(ordered) if m is not None]
        self.names = [*_SIGNAL_NAMES_FIXED, *(s.key for s in self.mode_bad)]

    def evaluate(
        self,
        first: int,
        slices: int,
        answers: dict[str, GridAnswer],
        excluded: Flags | None = None,
    ) -> ChunkOutcome:
        """The outcome of the `slices` slices ending at `first, first + step, …`; `answers`
        holds each signal's answer on that grid (a signal missing from it: no series)."""
        with np.errstate(all="ignore"):  # NaN, ±Inf and overflow are judged, not warned about
            return self._evaluate(first, slices, answers, excluded)

    def _evaluate(
        self,
        first: int,
        slices: int,
        answers: dict[str, GridAnswer],
        excluded: Flags | None,
    ) -> ChunkOutcome:
        spec, step = self.spec, self.spec.slice_seconds
        verdicts = _Verdicts(slices, self.names)

        def answer(key: str) -> GridAnswer:
            found = answers.get(key)
            return found if found is not None else GridAnswer.empty(slices)

        raw_bad: dict[str, Floats] = {}
        for signal in self.mode_bad:
            counted = _counted(answer(signal.key), signal, step)
            verdicts.counted(counted, signal.key)
            raw_bad[str(signal.mode)] = counted.count
        held = {str(s.mode): answer(s.key).any_series() for s in self.mode_when}
        if spec.sli is not None and spec.sli.threshold is not None:
            total, bad, value = self._threshold(answer, verdicts, slices)
            events_total = events_bad = None
        else:
            events_total, events_bad = self._events(answer, verdicts, raw_bad, step)
            total, bad = self._units(events_total, events_bad)
            value = None
        units = self._mode_units(raw_bad, events_bad, bad)
        credited, unattributed = attribute_columns(
            bad, [units.get(mode) for mode in self.attribution_order],
            [held.get(mode) for mode in self.attribution_order],
        )  # fmt: skip
        ok = verdicts.reason == 0
        by_mode = dict(zip(self.attribution_order, credited, strict=True))
        modes = [
            ModeColumns(
                name,
                _where(ok, by_mode.get(name, np.zeros(slices))),
                raw_bad.get(name),
                held.get(name),
            )
            for name in self.mode_names
        ]
        keep_events = not self.occurrences
        return ChunkOutcome(
            first=first,
            step=step,
            ok=ok,
            reason=verdicts.reason,
            signal=verdicts.signal,
            signal_names=tuple(verdicts.names),
            total=_where(ok, total),
            bad=_where(ok, bad),
            unattributed=_where(ok, unattributed),
            modes=tuple(modes),
            events_total=_kept(ok, events_total if keep_events else None),
            events_bad=_kept(ok, events_bad if keep_events else None),
            value=_where(ok, value) if value is not None else None,
            excluded=np.zeros(slices, dtype=bool) if excluded is None else excluded,
        )  # fmt: skip

    def _threshold(
        self, answer: _AnswerOf, verdicts: _Verdicts, slices: int
    ) -> tuple[Floats, Floats, Floats]:
        threshold = self.spec.sli.threshold if self.spec.sli is not None else None
        assert threshold is not None
        gauges = answer("threshold")
        with np.errstate(all="ignore"):
            finite = gauges.present & np.isfinite(gauges.values)
            any_finite = finite.any(axis=0)
            any_series = gauges.any_series()
            verdicts.fail(any_series & ~any_finite, _code(NoDataReason.NOT_FINITE), "threshold")
            verdicts.fail(~any_series, _code(NoDataReason.NO_SERIES), "threshold")
            if "freshness" in self.signals:
                fresh = answer("freshness").any_series()
                verdicts.fail(~fresh, _code(NoDataReason.STALE_GAUGE), "threshold")
            satisfied = _compare(gauges.values, threshold.op, threshold.value)
            holds = (satisfied | ~finite).all(axis=0)
            if threshold.op in (ThresholdOp.LT, ThresholdOp.LE):
                value = np.where(finite, gauges.values, -np.inf).max(axis=0, initial=-np.inf)
            else:
                value = np.where(finite, gauges.values, np.inf).min(axis=0, initial=np.inf)
        value = np.where(any_finite, value, 0.0)
        return np.ones(slices), np.where(holds, 0.0, 1.0), value

    def _events(
        self, answer: _AnswerOf, verdicts: _Verdicts, raw_bad: dict[str, Floats], step: int
    ) -> tuple[Floats, Floats]:
        total = _counted(answer("total"), self.signals["total"], step)
        verdicts.counted(total, "total")
        verdicts.fail(~total.has, _code(NoDataReason.NO_SERIES), "total")
        if "bad" in self.signals:
            bad = _counted(answer("bad"), self.signals["bad"], step)
            verdicts.counted(bad, "bad")
            events_bad = bad.count
        elif "good" in self.signals:
            good = _counted(answer("good"), self.signals["good"], step)
            verdicts.counted(good, "good")
            verdicts.fail(~good.has, _code(NoDataReason.NO_SERIES), "good")
            events_bad = total.count - good.count
        else:
            events_bad = np.zeros_like(total.count)
            with np.errstate(all="ignore"):
                for counts in raw_bad.values():
                    events_bad = events_bad + counts
            overflow = ~np.isfinite(events_bad)
            verdicts.fail(overflow, _code(NoDataReason.OVERFLOW), "failure modes")
            events_bad = np.where(overflow, 0.0, events_bad)
        events_bad = np.minimum(np.maximum(events_bad, 0.0), total.count)
        return total.count, events_bad

    def _units(self, events_total: Floats, events_bad: Floats) -> tuple[Floats, Floats]:
        """(total, bad) in budget units: events, or one slice judged against `slice_target`."""
        if self.occurrences:
            return events_total, events_bad
        target = (self.spec.slice_target or 100.0) / 100.0
        judged = events_total > 0
        with np.errstate(all="ignore"):
            good_ratio = 1.0 - np.divide(
                events_bad, events_total, where=judged, out=np.zeros_like(events_total)
            )
        # A tiny tolerance so that exactly-on-target slices are good despite float rounding.
        slice_bad = np.where(good_ratio + 1e-12 >= target, 0.0, 1.0)
        return np.where(judged, 1.0, 0.0), np.where(judged, slice_bad, 0.0)  # fmt: skip

    def _mode_units(
        self, raw_bad: dict[str, Floats], events_bad: Floats | None, bad_units: Floats
    ) -> dict[str, Floats]:
        """Mode counts in budget units (see `evaluation._mode_bad_in_units`)."""
        if self.occurrences:
            return raw_bad
        if events_bad is None:
            return {mode: np.zeros_like(bad_units) for mode in raw_bad}
        share = (events_bad != 0) & (bad_units != 0)
        with np.errstate(all="ignore"):
            return {
                mode: np.where(share, bad_units * raw / np.where(share, events_bad, 1.0), 0.0)
                for mode, raw in raw_bad.items()
            }


def attribute_columns(
    bad: Floats, direct: list[Floats | None], held: list[Flags | None]
) -> tuple[list[Floats], Floats]:
    """`attribute` for every slice at once: (credited per mode, unattributed), modes in the
    order given (`direct`: each mode's bad in budget units, None without a `bad` signal;
    `held`: whether its `when` held, None without one)."""
    slices = bad.shape[0]
    modes = len(direct)
    if modes == 0:
        return [], bad.copy()
    with np.errstate(all="ignore"):
        counts = np.stack([np.zeros(slices) if d is None else d for d in direct])
        positive = np.isfinite(counts) & (counts > 0)
        counts = np.where(positive, counts, 0.0)
        holding = np.stack([np.zeros(slices, dtype=bool) if h is None else h for h in held])
        named = positive.any(axis=0) | holding.any(axis=0)
        direct_sum = counts.sum(axis=0)
        has_direct = direct_sum > 0
        scale = np.where(
            has_direct, np.minimum(1.0, bad / np.where(has_direct, direct_sum, 1.0)), 0.0
        )
        credited = counts * scale
        rest = np.maximum(0.0, bad - credited.sum(axis=0))
        holders = holding.sum(axis=0)
        splits = (holders > 0) & (rest > 0)
        share = np.where(splits, rest / np.where(splits, holders, 1), 0.0)
        credited = credited + np.where(holding, share, 0.0)
        unattributed = bad - credited.sum(axis=0)
        # Only rounding can make it negative (a few ulps): the largest credit takes it.
        negative = np.flatnonzero(unattributed < 0)
        if negative.size:
            largest = credited[:, negative].argmax(axis=0)
            credited[largest, negative] += unattributed[negative]
            unattributed[negative] = 0.0
        counted = (bad != 0) & named
        credited = np.where(counted, credited, 0.0)
        unattributed = np.where(counted, unattributed, np.where(bad != 0, bad, 0.0))
    return list(credited), unattributed


_COMPARE = {
    ThresholdOp.LT: np.less,
    ThresholdOp.LE: np.less_equal,
    ThresholdOp.GT: np.greater,
    ThresholdOp.GE: np.greater_equal,
    ThresholdOp.EQ: np.equal,
    ThresholdOp.NE: np.not_equal,
}


def _compare(values: Floats, op: ThresholdOp, bound: float) -> Flags:
    return np.asarray(_COMPARE[op](values, bound), dtype=bool)


def _kept(ok: Flags, values: Floats | None) -> Floats | None:
    return None if values is None else _where(ok, values)


def _where(ok: Flags, values: Floats) -> Floats:
    return np.where(ok, values, 0.0)
