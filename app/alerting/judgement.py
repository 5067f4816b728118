"""One alert rule's next standing from its verdict: the code both drivers run.

Live evaluation (`app.alerting.evaluator`, after every tick) and replay (`app.alerting.replay`,
over a past range of the ledger) both judge a rule with `app.alerting.conditions.judge`, move it
with `advance` and describe it with the same facts and text, so a replayed alert says what the
live one said at the same slice end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.alerting.conditions import Verdict
from app.alerting.facts import AlertFacts
from app.alerting.summary import firing_summary, resolved_summary
from app.alerting.transitions import AlertState, Position, step


@dataclass(frozen=True)
class Advance:
    """Where the alert stands after judging; `summary` is set when there is something to say."""

    position: Position
    transition: AlertState | None
    facts: AlertFacts | None = None
    summary: str | None = None


def advance(
    verdict: Verdict,
    current: Position | None,
    at: int,
    describe: Callable[[Verdict], AlertFacts],
    *,
    while_firing: bool = True,
) -> Advance:
    """Step the rule's state machine; describe a transition (and, if `while_firing`, every
    judgement of a firing alert, so its stored summary stays current)."""
    moved = step(current, verdict.holds, at, verdict.rule.for_seconds)
    firing = moved.position.state is AlertState.FIRING
    if moved.transition is None and not (firing and while_firing):
        return Advance(moved.position, None)
    facts = describe(verdict)
    summary = firing_summary(facts) if firing else resolved_summary(facts)
    return Advance(moved.position, moved.transition, facts, summary)
