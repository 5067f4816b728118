"""The alert state machine: inactive → firing → resolved → firing …, with an optional `for`.

Pure: given where an alert stands and what its rule says at slice end `at`, where it goes next
and whether that is a transition worth a notification. A rule that cannot be judged (no data)
changes nothing, so a gap in the data neither pages nor resolves a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AlertState(StrEnum):
    INACTIVE = "inactive"  # never fired
    FIRING = "firing"
    RESOLVED = "resolved"  # fired, and the condition stopped holding


@dataclass(frozen=True)
class Position:
    """Where one alert stands: its state since a slice end, and any pending `for` start."""

    state: AlertState
    since: int
    pending_since: int | None = None


@dataclass(frozen=True)
class Step:
    position: Position
    transition: AlertState | None = None  # FIRING or RESOLVED when the state changed


def step(current: Position | None, holds: bool | None, at: int, for_seconds: int = 0) -> Step:
    """The next position after judging the rule at `at`.

    A condition must hold at every judged slice end for `for_seconds` before the alert fires
    (Prometheus' `for`); with 0 it fires at the first slice end where it holds.
    """
    position = current or Position(AlertState.INACTIVE, at)
    if holds is None:
        return Step(position)
    if position.state is AlertState.FIRING:
        if holds:
            return Step(position)
        return Step(Position(AlertState.RESOLVED, at), AlertState.RESOLVED)
    if not holds:
        return Step(Position(position.state, position.since))
    pending = position.pending_since if position.pending_since is not None else at
    if at - pending >= for_seconds:
        return Step(Position(AlertState.FIRING, at), AlertState.FIRING)
    return Step(Position(position.state, position.since, pending))
