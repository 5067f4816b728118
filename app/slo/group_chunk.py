"""Evaluate a chunk of a grouped SLO: one answer per query, split into groups, each group
evaluated column-wise by the SLO's own `ChunkEvaluator`, and the SLO's ledger their sum.

The SLO-level outcome is the sum of the group outcomes (the "other" group included), so the
group ledgers add up to it exactly. A slice is no-data at SLO level only where every group is;
a group without data in a slice adds nothing to it (as its own ledger shows no-data there).
Budgeted in time slices (a threshold SLI, or `timeslices` of events), each group's slice is
one unit at SLO level: the SLO's slice counts the groups with data in it, and its bad the
groups whose slice is bad.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from app.slo.chunk import ChunkEvaluator
from app.slo.chunk_outcome import ChunkOutcome, ModeColumns
from app.slo.grid import Flags, Floats, GridAnswer
from app.slo.groups import GroupKey, ModeScope, group_of, other_group, query_scope
from app.slo.queries import SignalRole
from app.slo.spec import SLOSpec, ThresholdOp

# One query's answer on the chunk's grid, with the labels of each of its rows.
LabelledAnswer = tuple[GridAnswer, Sequence[Mapping[str, str]]]

# The queries whose series make the groups (a failure mode's alone does not make one).
_SLI_ROLES = frozenset({SignalRole.TOTAL, SignalRole.BAD, SignalRole.GOOD, SignalRole.THRESHOLD})


@dataclass(frozen=True)
class GroupedChunk:
    slo: ChunkOutcome  # the SLO's own ledger: the sum of every group's
    groups: dict[GroupKey, ChunkOutcome]  # the groups with data in the chunk, "other" included
    overflow: tuple[GroupKey, ...]  # groups of the chunk counted in "other" (beyond the cap)
    beyond_total: int = 0  # of them, those within `max_groups` but beyond the global cap


class GroupedEvaluator:
    """Evaluates chunks of one grouped SLO; which queries are global is worked out once."""

    def __init__(self, spec: SLOSpec) -> None:
        assert spec.group_by, "a grouped SLO"
        self.spec = spec
        self.group_by = spec.group_by
        self.evaluator = ChunkEvaluator(spec)
        self.other = other_group(self.group_by)
        signals = self.evaluator.signals.values()
        self.sli_keys = [s.key for s in signals if s.role in _SLI_ROLES]
        self.global_keys = {
            s.key
            for s in signals
            if s.role is SignalRole.MODE_WHEN
            and query_scope(s.template, self.group_by) is ModeScope.GLOBAL
        }
        # A threshold's freshness is counted by group; where none of its selectors' series
        # carries a group label (the label made by `label_replace`), it holds for every group.
        self.freshness_keys = {s.key for s in signals if s.role is SignalRole.FRESHNESS}
        threshold = spec.sli.threshold if spec.sli is not None else None
        self.lower_is_better = threshold is not None and threshold.op in _UPPER_BOUNDS

    def evaluate(
        self,
        first: int,
        slices: int,
        answers: Mapping[str, LabelledAnswer],
        known: Collection[GroupKey],
        excluded: Flags | None = None,
        retired: Collection[GroupKey] = (),
        room_left: Callable[[], int] | None = None,
    ) -> GroupedChunk:
        """The chunk's groups and their sum. `known`: groups that have a ledger already (a
        returning group takes its own back); a new group gets one while fewer than
        `max_groups` of them are not `retired` (aged out), and while `room_left()` (the global
        cap's room over all SLOs, asked only when a new group would get a ledger; None: no
        cap) lasts; later ones count in "other" (the caps
        are applied in the groups' sorted order, so reruns agree)."""
        rows = {key: _rows_by_group(answer[1], self.group_by) for key, answer in answers.items()}
        present = sorted({g for key in self.sli_keys for g in rows.get(key, {})} - {self.other})
        named = [group for group in present if group in known]
        holding = [g for g in known if g != self.other and g not in retired]
        fresh = [group for group in present if group not in known]
        room = max(0, self.spec.group_limit - len(holding))
        beyond_total = 0
        wanted = min(room, len(fresh))
        left = room_left() if room_left is not None and wanted else None
        if left is not None and left < wanted:
            beyond_total, room = wanted - max(0, left), max(0, left)
        named += fresh[:room]
        overflow = tuple(fresh[room:])
        members: dict[GroupKey, list[GroupKey]] = {group: [group] for group in named}
        if overflow:
            members[self.other] = list(overflow)
        outcomes = {
            group: self.evaluator.evaluate(
                first, slices, self._answers_of(answers, rows, parts, slices), excluded
            )
            for group, parts in members.items()
        }
        if not outcomes:  # no group answered: the SLO's no-data says why, as ungrouped
            grids = {key: answer[0] for key, answer in answers.items()}
            return GroupedChunk(self.evaluator.evaluate(first, slices, grids, excluded), {}, ())
        return GroupedChunk(
            sum_outcomes(list(outcomes.values()), self.lower_is_better),
            outcomes,
            overflow,
            beyond_total,
        )

    def _answers_of(
        self,
        answers: Mapping[str, LabelledAnswer],
        rows: Mapping[str, dict[GroupKey, list[int]]],
        groups: list[GroupKey],
        slices: int,
    ) -> dict[str, GridAnswer]:
        chosen: dict[str, GridAnswer] = {}
        blank = tuple("" for _ in self.group_by)
        for key, (grid, _) in answers.items():
            if key in self.global_keys or (
                key in self.freshness_keys and set(rows[key]) <= {blank}
            ):
                chosen[key] = grid
                continue
            picked = [row for group in groups for row in rows[key].get(group, ())]
            chosen[key] = (
                GridAnswer(grid.values[picked], grid.present[picked])
                if picked
                else GridAnswer.empty(slices)
            )
        return chosen


def _rows_by_group(
    labels: Sequence[Mapping[str, str]], group_by: tuple[str, ...]
) -> dict[GroupKey, list[int]]:
    found: dict[GroupKey, list[int]] = {}
    for row, series in enumerate(labels):
        found.setdefault(group_of(series, group_by), []).append(row)
    return found


def sum_outcomes(outcomes: list[ChunkOutcome], lower_is_better: bool = False) -> ChunkOutcome:
    """The SLO-level outcome of its groups' (all of one chunk, of one evaluator): amounts
    summed, a slice counted where any group has data; where none has, the first group's
    no-data reason stands for it. A threshold's value is the worst group's (the highest where
    the condition is an upper bound, `lower_is_better`, else the lowest)."""
    head = outcomes[0]
    ok = _any([outcome.ok for outcome in outcomes])

    def total(column: list[Floats]) -> Floats:
        return np.asarray(np.stack(column).sum(axis=0), dtype=np.float64)

    def summed(column: list[Floats | None]) -> Floats | None:
        present = [values for values in column if values is not None]
        return total(present) if present else None

    modes = []
    for index, mode in enumerate(head.modes):
        pairs = [(outcome.ok, outcome.modes[index]) for outcome in outcomes]
        raw = held = None
        if mode.raw_bad is not None:
            raw = total(
                [np.where(has, c.raw_bad, 0.0) for has, c in pairs if c.raw_bad is not None]
            )
        if mode.held is not None:
            held = _any([c.held & has for has, c in pairs if c.held is not None])
        modes.append(ModeColumns(mode.name, total([c.credited for _, c in pairs]), raw, held))
    return ChunkOutcome(
        first=head.first,
        step=head.step,
        ok=ok,
        reason=np.where(ok, 0, head.reason).astype(np.int8),
        signal=np.where(ok, 0, head.signal).astype(np.int16),
        signal_names=head.signal_names,
        total=total([o.total for o in outcomes]),
        bad=total([o.bad for o in outcomes]),
        unattributed=total([o.unattributed for o in outcomes]),
        modes=tuple(modes),
        # Time slices: the events of every group's slices (0 where a group has no data).
        events_total=summed([o.events_total for o in outcomes]),
        events_bad=summed([o.events_bad for o in outcomes]),
        value=_worst(outcomes, ok, lower_is_better),
        excluded=head.excluded,
    )


def _any(columns: list[Flags]) -> Flags:
    return np.asarray(np.stack(columns).any(axis=0), dtype=bool)


_UPPER_BOUNDS = frozenset({ThresholdOp.LT, ThresholdOp.LE})


def _worst(outcomes: list[ChunkOutcome], ok: Flags, lower_is_better: bool) -> Floats | None:
    """The threshold's value of the worst group with data in each slice (0 where none has)."""
    columns = [(o.ok, o.value) for o in outcomes if o.value is not None]
    if not columns:
        return None
    fill = -np.inf if lower_is_better else np.inf
    stacked = np.stack([np.where(has, value, fill) for has, value in columns])
    worst = stacked.max(axis=0) if lower_is_better else stacked.min(axis=0)
    return np.asarray(np.where(ok, worst, 0.0), dtype=np.float64)
