"""What-if: a design change made on paper, applied to the ledger's history.

A change may set another objective or period, another alert policy (tiers, minimum events), and
edit failure modes: remove one ("the fraud-check timeout is fixed"), scale it ("the cache
absorbs 90 % of the stampede") or cap it ("a circuit breaker keeps its failures under 0.5 % of
requests"). Attribution makes mode edits exact: every slice records the bad amount credited to
each mode, so removing a mode takes exactly that amount out of every slice's bad total; the
requests still happened, so totals stay. Removing is scaling by 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from enum import StrEnum
from typing import Annotated

import numpy as np
from pydantic import Field, field_validator, model_validator

from app.slo.alert_spec import AlertPolicy
from app.slo.definitions import SLODefinition
from app.slo.durations import DurationError, parse_duration
from app.slo.ledger import WindowTotals
from app.slo.series import Floats, SliceSeries
from app.slo.spec import CalendarPeriod, CalendarUnit, RollingPeriod
from app.slo.spec_base import NAME_PATTERN, Spec
from app.slo.windows import period_seconds

MAX_PERIOD_SECONDS = 366 * 86400


class EditKind(StrEnum):
    REMOVE = "remove"
    SCALE = "scale"  # keep `value` × its credited bad
    CAP = "cap"  # keep at most `value` × the slice's total (a ratio of its events or slices)


class ModeEdit(Spec):
    mode: Annotated[str, Field(pattern=NAME_PATTERN)]
    kind: EditKind
    value: Annotated[float, Field(ge=0, le=100)] = 0.0

    @model_validator(mode="after")
    def _value_fits(self) -> ModeEdit:
        if self.kind is EditKind.CAP and self.value > 1:
            raise ValueError("a cap is a ratio of the slice's events, between 0 and 1")
        return self

    @property
    def kept(self) -> float | None:
        """The share of the mode's credit kept, for removal and scaling (None for a cap)."""
        if self.kind is EditKind.REMOVE:
            return 0.0
        return self.value if self.kind is EditKind.SCALE else None


def parse_period(text: str) -> RollingPeriod | CalendarPeriod:
    """`30d`, `28d`, `7d` … or `week`, `month`, `quarter` (UTC)."""
    if text in {unit.value for unit in CalendarUnit}:
        return CalendarPeriod(calendar=CalendarUnit(text))
    try:
        seconds = parse_duration(text)
    except DurationError as error:
        raise ValueError(f"period: {error}") from None
    if not 3600 <= seconds <= MAX_PERIOD_SECONDS:
        raise ValueError("period: between 1h and 366d")
    return RollingPeriod(seconds=seconds)


class Change(Spec):
    """What a replay changes on paper; empty means "replay what is"."""

    objective: Annotated[float, Field(gt=0, lt=100)] | None = None
    period: str | None = None
    policy: AlertPolicy | None = None
    min_events: Annotated[int, Field(ge=0)] | None = None
    # Burn-rate factors by tier name: the tier fires above this factor instead of the one its
    # budget fraction gives (for this SLO's period).
    factors: dict[Annotated[str, Field(pattern=NAME_PATTERN)], Annotated[float, Field(gt=0)]] = (
        Field(default_factory=dict)
    )
    modes: tuple[ModeEdit, ...] = ()

    @field_validator("period")
    @classmethod
    def _period(cls, value: str | None) -> str | None:
        if value is not None:
            parse_period(value)
        return value

    @field_validator("modes")
    @classmethod
    def _one_edit_per_mode(cls, value: tuple[ModeEdit, ...]) -> tuple[ModeEdit, ...]:
        names = [edit.mode for edit in value]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"one edit per failure mode; repeated: {', '.join(repeated)}")
        return value

    @property
    def empty(self) -> bool:
        return self == Change()

    @property
    def linear(self) -> bool:
        """Whether window totals can be edited as sums (no cap needs slice by slice)."""
        return all(edit.kind is not EditKind.CAP for edit in self.modes)

    def edits_for(self, definition: SLODefinition) -> tuple[ModeEdit, ...]:
        names = {mode.name for mode in definition.spec.failure_modes}
        return tuple(edit for edit in self.modes if edit.mode in names)


def changed_definition(definition: SLODefinition, change: Change) -> SLODefinition:
    """The SLO with the change's objective and period (and minimum events, when set)."""
    update: dict[str, object] = {}
    if change.objective is not None:
        update["objective"] = change.objective
    if change.period is not None:
        update["period"] = parse_period(change.period)
    if change.min_events is not None:  # the SLO's own override would hide the change
        update["alerting"] = definition.spec.alerting.model_copy(update={"min_events": None})
    if not update:
        return definition
    return replace(definition, spec=definition.spec.model_copy(update=update))


def changed_policy(
    policy: AlertPolicy, change: Change, definition: SLODefinition | None = None
) -> AlertPolicy:
    """The policy under the change; `definition` (the changed SLO) turns factors into the
    budget fractions that give them over its period."""
    chosen = change.policy or policy
    if change.min_events is not None:
        chosen = chosen.model_copy(update={"min_events": change.min_events})
    if change.factors and definition is not None:
        length = period_seconds(definition.spec.period)
        tiers = tuple(
            tier.model_copy(
                update={"budget_fraction": change.factors[tier.name] * tier.long_window / length}
            )
            if tier.name in change.factors
            else tier
            for tier in chosen.tiers
        )
        chosen = chosen.model_copy(update={"tiers": tiers})
    return chosen


def unknown_tiers(change: Change, policies: Sequence[AlertPolicy]) -> list[str]:
    """Tiers given factors that no policy of the selected SLOs has."""
    known = {tier.name for policy in policies for tier in policy.tiers}
    return sorted(set(change.factors) - known)


def edit_series(series: SliceSeries, edits: Sequence[ModeEdit]) -> SliceSeries:
    """The series with each edited mode's credit reduced, and its slices' bad with it."""
    if not edits:
        return series
    bad = series.bad.copy()
    credited: dict[str, Floats] = dict(series.credited)
    for edit in edits:
        before = credited.get(edit.mode)
        if before is None:
            continue
        kept = edit.kept
        after = before * kept if kept is not None else np.minimum(before, edit.value * series.total)
        bad -= before - after
        credited[edit.mode] = after
    return series.with_amounts(np.maximum(bad, 0.0), credited)


def edit_totals(totals: WindowTotals, edits: Sequence[ModeEdit]) -> WindowTotals:
    """Window totals under removals and scalings (sums of edited slices are edited sums)."""
    credited: dict[str, float] = dict(totals.credited)
    bad = totals.bad
    for edit in edits:
        kept = edit.kept
        if kept is None:
            raise ValueError("a cap is applied slice by slice, not to window totals")
        before = credited.get(edit.mode, 0.0)
        bad -= before * (1.0 - kept)
        credited[edit.mode] = before * kept
    return replace(totals, bad=max(bad, 0.0), credited=credited)


def unknown_modes(change: Change, definitions: Mapping[str, SLODefinition]) -> list[str]:
    """Edited modes that none of the SLOs has."""
    known = {mode.name for slo in definitions.values() for mode in slo.spec.failure_modes}
    return sorted({edit.mode for edit in change.modes} - known)
