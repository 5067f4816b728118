"""Multiwindow, multi-burn-rate alert conditions (SRE Workbook, ch. 5), with factors derived.

A tier fires when both its long and its short window burn faster than
`budget_fraction × period / long_window` — for a 30-day period the Workbook's 14.4 / 6 / 3 / 1.
The short window makes the alert reset quickly once the burn stops. A minimum-events guard keeps
low-traffic SLOs from firing on one failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.slo.alert_spec import AlertPolicy, Tier
from app.slo.budget import burn_rate
from app.slo.ledger import WindowTotals
from app.slo.spec import AlertingRef, Budgeting


def burn_rate_factor(budget_fraction: float, period_seconds: int, long_window: int) -> float:
    """The burn rate at which `budget_fraction` of the period's budget burns in `long_window`."""
    return budget_fraction * period_seconds / long_window


@dataclass(frozen=True)
class TierResult:
    tier: Tier
    factor: float
    long_burn: float | None
    short_burn: float | None
    long_events: float
    guarded: bool  # too few events in the long window to judge
    firing: bool


def evaluate_tier(
    tier: Tier,
    *,
    period_seconds: int,
    budget: float,
    long_totals: WindowTotals,
    short_totals: WindowTotals,
    budgeting: Budgeting,
    min_events: int,
) -> TierResult:
    """Whether one tier's condition holds now (before any `for` duration is applied)."""
    factor = burn_rate_factor(tier.budget_fraction, period_seconds, tier.long_window)
    long_burn = burn_rate(long_totals, budget)
    short_burn = burn_rate(short_totals, budget)
    # Timeslice SLOs count slices, which no low-traffic service lacks; the guard is for events.
    guarded = budgeting is Budgeting.OCCURRENCES and long_totals.total < min_events
    firing = (
        not guarded
        and long_burn is not None
        and short_burn is not None
        and long_burn > factor
        and short_burn > factor
    )
    return TierResult(tier, factor, long_burn, short_burn, long_totals.total, guarded, firing)


def effective_tiers(policy: AlertPolicy, reference: AlertingRef) -> list[Tier]:
    """The policy's tiers with the SLO's overrides applied (disabled tiers, `for`)."""
    tiers = [tier for tier in policy.tiers if tier.name not in reference.disabled_tiers]
    if reference.for_seconds is not None:
        tiers = [tier.model_copy(update={"for_seconds": reference.for_seconds}) for tier in tiers]
    return tiers


def effective_min_events(policy: AlertPolicy, reference: AlertingRef) -> int:
    return reference.min_events if reference.min_events is not None else policy.min_events
