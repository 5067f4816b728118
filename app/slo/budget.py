"""Error-budget arithmetic over window totals.

Error budget = 1 − objective. Consumed = bad fraction / budget (0 untouched, 1 exhausted, above 1
overspent). The burn rate of a window is the same ratio over that window: burning at 1 spends the
budget exactly over the period.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.slo.ledger import SliceRecord, WindowTotals


def error_ratio(totals: WindowTotals) -> float | None:
    """Bad fraction of the window; None when it holds no data (which is not the same as 0)."""
    if not totals.has_data:
        return None
    if totals.total <= 0:
        return 0.0  # slices with data but no traffic: nothing failed
    return totals.bad / totals.total


def sli_value(totals: WindowTotals) -> float | None:
    """Good fraction of the window; None without data, and None without events: a window in
    which nothing was asked is not a perfect one (it spends nothing, see `error_ratio`)."""
    ratio = error_ratio(totals)
    return None if ratio is None or totals.total <= 0 else 1.0 - ratio


def burn_rate(totals: WindowTotals, budget: float) -> float | None:
    """How many times faster than sustainable the window spent budget."""
    ratio = error_ratio(totals)
    return None if ratio is None else ratio / budget


def budget_consumed(totals: WindowTotals, budget: float) -> float:
    """Share of the period's budget spent by the period's window totals (0 without data)."""
    return burn_rate(totals, budget) or 0.0


def budget_remaining(consumed: float) -> float:
    return 1.0 - consumed


def consumed_by(amount: float, totals: WindowTotals, budget: float) -> float:
    """Budget share that `amount` bad units (a mode's credit, say) spent within `totals`."""
    if totals.total <= 0:
        return 0.0
    # Divided in the order `burn_rate` uses: `total * budget` underflows to 0 for tiny totals.
    return amount / totals.total / budget


def share_of_bad(amount: float, totals: WindowTotals) -> float:
    """Fraction of the window's bad total that `amount` accounts for."""
    return amount / totals.bad if totals.bad > 0 else 0.0


def slice_contributions(
    records: Sequence[SliceRecord], totals: WindowTotals, budget: float
) -> list[float]:
    """What each slice added to the window's consumed budget; they sum to `budget_consumed`."""
    return [consumed_by(r.bad, totals, budget) if r.counts else 0.0 for r in records]


def time_to_exhaustion(
    remaining: float, current_burn_rate: float | None, period_seconds: int
) -> float | None:
    """Seconds until the budget is gone at the current burn; 0 when already gone, None if never.

    Burning at rate b spends b × Δt / period of the budget in Δt.
    """
    if remaining <= 0:
        return 0.0
    if current_burn_rate is None or current_burn_rate <= 0:
        return None
    return remaining * period_seconds / current_burn_rate
