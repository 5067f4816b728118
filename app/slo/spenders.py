"""The top spender of a budget, where spend nobody named competes on equal terms.

Unattributed spend is ranked with the named failure modes: a mode that spent 1.4 % of the bad
events is never called the top spender while 98.6 % has no named cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.slo.report import AttributionOut, UnattributedOut

UNATTRIBUTED = "unattributed"


@dataclass(frozen=True)
class Spender:
    name: str  # a failure mode's name, or UNATTRIBUTED
    design_choice: str | None
    share: float  # of the window's bad events
    consumed: float  # of the period's budget

    @property
    def unattributed(self) -> bool:
        return self.name == UNATTRIBUTED


def ranked(
    attribution: Sequence[AttributionOut], unattributed: UnattributedOut | None
) -> list[Spender]:
    """Every spender with bad events, most bad first; unattributed among them."""
    spenders = [
        Spender(row.failure_mode, row.design_choice, row.share, row.consumed)
        for row in attribution
        if row.bad > 0
    ]
    if unattributed is not None and unattributed.bad > 0:
        spenders.append(Spender(UNATTRIBUTED, None, unattributed.share, unattributed.consumed))
    return sorted(spenders, key=lambda spender: (-spender.share, spender.unattributed))


def top_spender(
    attribution: Sequence[AttributionOut], unattributed: UnattributedOut | None
) -> Spender | None:
    found = ranked(attribution, unattributed)
    return found[0] if found else None


def describe(spender: Spender | None) -> str:
    """`payment-timeout (synchronous-call) 59.4%`, `unattributed 98.6%`, or `–`."""
    if spender is None:
        return "–"
    choice = f" ({spender.design_choice})" if spender.design_choice else ""
    return f"{spender.name}{choice} {spender.share * 100:.1f}%"
