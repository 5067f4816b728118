"""Budget policy state: healthy, watch, at-risk or exhausted, from remaining budget and burn."""

from __future__ import annotations

from collections.abc import Mapping

from app.slo.alert_spec import BudgetPolicy, PolicyStateRule
from app.slo.conventions import PolicyState


def _applies(rule: PolicyStateRule, remaining: float, burn: Mapping[int, float | None]) -> bool:
    if remaining < rule.remaining_below:
        return True
    rate = burn.get(rule.burn_window)
    return rule.burn_rate_above is not None and rate is not None and rate > rule.burn_rate_above


def policy_state(
    remaining: float, burn_rates: Mapping[int, float | None], policy: BudgetPolicy
) -> PolicyState:
    """The worst state whose rule applies. `burn_rates` maps window seconds to burn rate."""
    if remaining <= 0:
        return PolicyState.EXHAUSTED
    if _applies(policy.at_risk, remaining, burn_rates):
        return PolicyState.AT_RISK
    if _applies(policy.watch, remaining, burn_rates):
        return PolicyState.WATCH
    return PolicyState.HEALTHY


def windows_needed(policy: BudgetPolicy) -> set[int]:
    return {policy.watch.burn_window, policy.at_risk.burn_window}
