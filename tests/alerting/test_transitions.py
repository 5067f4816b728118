"""The alert state machine, pure: transitions, `for`, and what missing data does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.alerting.transitions import AlertState, Position, step

FIRING, RESOLVED, INACTIVE = AlertState.FIRING, AlertState.RESOLVED, AlertState.INACTIVE


def run(verdicts: list[bool | None], for_seconds: int = 0) -> list[tuple[AlertState, int]]:
    """Transitions (state, slice end) for verdicts at slice ends 60, 120, …"""
    position: Position | None = None
    out = []
    for index, holds in enumerate(verdicts):
        moved = step(position, holds, 60 * (index + 1), for_seconds)
        position = moved.position
        if moved.transition is not None:
            out.append((moved.transition, 60 * (index + 1)))
    return out


def test_inactive_fires_then_resolves_then_fires_again() -> None:
    assert run([False, True, True, False, False, True]) == [
        (FIRING, 120),
        (RESOLVED, 240),
        (FIRING, 360),
    ]


def test_for_needs_the_condition_to_hold_that_long_without_a_break() -> None:
    assert run([True, True, False, True, True, True, True], for_seconds=180) == [(FIRING, 420)]


def test_missing_data_neither_fires_nor_resolves() -> None:
    assert run([None, None]) == []
    assert run([True, None, None, True, False]) == [(FIRING, 60), (RESOLVED, 300)]
    # and it does not break a pending `for`
    assert run([True, None, True, True], for_seconds=180) == [(FIRING, 240)]


def test_the_first_position_is_inactive_and_holding_false_stays_there() -> None:
    moved = step(None, False, 60)
    assert moved.position == Position(INACTIVE, 60) and moved.transition is None


@given(st.lists(st.sampled_from([True, False, None]), max_size=60), st.sampled_from([0, 60, 300]))
def test_transitions_alternate_and_start_with_firing(
    verdicts: list[bool | None], for_seconds: int
) -> None:
    states = [state for state, _ in run(verdicts, for_seconds)]
    assert states == [FIRING if i % 2 == 0 else RESOLVED for i in range(len(states))]
