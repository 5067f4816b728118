"""The figures an alert states: burn, what is burning over the long window, budget left.

Computed once per transition from the same ledger totals the verdict came from, and frozen in
the alert's event, so the text, the webhook body and the timeline always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.alerting.conditions import Verdict
from app.slo.budget import budget_consumed, budget_remaining, share_of_bad, time_to_exhaustion
from app.slo.catalog import Catalog
from app.slo.definitions import SLODefinition
from app.slo.ledger import WindowTotals
from app.slo.windows import period_remaining_seconds, period_seconds


@dataclass(frozen=True)
class ModeShare:
    """A failure mode's part of the bad events (or bad slices) of the alert's long window."""

    name: str
    design_choice: str
    dependency: str | None
    share: float
    bad: float


@dataclass(frozen=True)
class AlertFacts:
    definition: SLODefinition
    verdict: Verdict
    at: int  # the slice end judged
    modes: tuple[ModeShare, ...]  # named modes that spent budget, largest first
    unattributed_share: float  # of the long window's bad total
    verification: str | None  # the catalog's verification step for the top mode's choice
    remaining: float  # share of the period's budget left
    exhaustion_seconds: float | None  # at the long window's burn; None: never (or resets first)
    dashboard_url: str

    @property
    def top_mode(self) -> ModeShare | None:
        return self.modes[0] if self.modes else None


def dashboard_url(base_url: str, definition: SLODefinition) -> str:
    return f"{base_url.rstrip('/')}/slo/{definition.service}/{definition.name}"


def mode_shares(definition: SLODefinition, totals: WindowTotals) -> tuple[ModeShare, ...]:
    """Named modes credited with bad amounts in `totals`, largest first (ties by name)."""
    shares = [
        ModeShare(
            name=mode.name,
            design_choice=mode.design_choice,
            dependency=mode.dependency,
            share=share_of_bad(totals.credited.get(mode.name, 0.0), totals),
            bad=totals.credited.get(mode.name, 0.0),
        )
        for mode in definition.spec.failure_modes
        if totals.credited.get(mode.name, 0.0) > 0
    ]
    return tuple(sorted(shares, key=lambda mode: (-mode.bad, mode.name)))


def build_facts(
    definition: SLODefinition,
    catalog: Catalog,
    verdict: Verdict,
    at: int,
    *,
    period_totals: WindowTotals,
    long_totals: WindowTotals,
    base_url: str,
) -> AlertFacts:
    spec = definition.spec
    modes = mode_shares(definition, long_totals)
    choice = catalog.get(modes[0].design_choice) if modes else None
    remaining = budget_remaining(budget_consumed(period_totals, spec.budget))
    exhaustion = time_to_exhaustion(remaining, verdict.long_burn, period_seconds(spec.period, at))
    reset = period_remaining_seconds(spec.period, at)
    if exhaustion is not None and reset is not None and exhaustion > reset:
        exhaustion = None  # a calendar budget resets before it runs out
    return AlertFacts(
        definition=definition,
        verdict=verdict,
        at=at,
        modes=modes,
        unattributed_share=share_of_bad(long_totals.unattributed, long_totals),
        verification=choice.verification if choice is not None else None,
        remaining=remaining,
        exhaustion_seconds=exhaustion,
        dashboard_url=dashboard_url(base_url, definition),
    )
