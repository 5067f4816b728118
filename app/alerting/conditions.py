"""What each alert rule of one SLO says at one slice end, judged from ledger window totals.

An SLO's rules are its policy's burn-rate tiers (with the SLO's overrides) plus one "no data"
rule. A burn tier holds when both its windows burn faster than the derived factor and the
minimum-events guard lets it judge; when a window has no data at all the tier cannot be judged
and its state is kept: missing data neither pages nor resolves a page. The "no data" rule holds
when every slice of its span was evaluated and none had data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.slo.alert_spec import AlertPolicy
from app.slo.burn_alerts import (
    burn_rate_factor,
    effective_min_events,
    effective_tiers,
    evaluate_tier,
)
from app.slo.definitions import SLODefinition
from app.slo.ledger import WindowTotals
from app.slo.windows import period_seconds

NO_DATA_RULE = "no-data"


class RuleKind(StrEnum):
    BURN = "burn"
    NO_DATA = "no-data"


@dataclass(frozen=True)
class AlertRule:
    """A burn-rate tier or the "no data" rule, as alert evaluation applies it to one SLO."""

    name: str
    kind: RuleKind
    severity: str
    long_window: int  # for "no data": how long without data before it holds
    short_window: int
    budget_fraction: float = 0.0
    for_seconds: int = 0


@dataclass(frozen=True)
class Verdict:
    """One rule at one slice end. `holds` is None when the windows hold no data to judge."""

    rule: AlertRule
    holds: bool | None
    factor: float | None = None
    long_burn: float | None = None
    short_burn: float | None = None
    long_events: float = 0.0
    guarded: bool = False


def guard_events(min_events: int, factor: float, budget: float) -> int:
    """Events an occurrence SLO's long window needs before a tier may fire.

    At least the policy's `min_events`, and never so few that a single failure crosses the
    tier's threshold on its own: one bad event in N is a ratio of 1/N, which stays at or under
    `factor × budget` once N ≥ 1 / (factor × budget). For a 99.9% SLO that is 70 events in the
    page tier's hour and 167 in the 6h tier's window, so a quiet service is not paged for one
    failed request. `min_events: 0` turns the guard off entirely.
    """
    if min_events <= 0:
        return 0
    single_failure = math.ceil(1.0 / (factor * budget) - 1e-9)  # 1e-9: float noise in 1/x
    return max(min_events, single_failure)


def alert_rules(definition: SLODefinition, policy: AlertPolicy) -> list[AlertRule]:
    """The SLO's effective tiers and, unless switched off, its "no data" rule."""
    reference = definition.spec.alerting
    rules = [
        AlertRule(
            name=tier.name,
            kind=RuleKind.BURN,
            severity=tier.severity,
            long_window=tier.long_window,
            short_window=tier.short_window,
            budget_fraction=tier.budget_fraction,
            for_seconds=tier.for_seconds,
        )
        for tier in effective_tiers(policy, reference)
    ]
    if policy.no_data_after > 0:
        rules.append(
            AlertRule(
                name=NO_DATA_RULE,
                kind=RuleKind.NO_DATA,
                severity=policy.no_data_severity,
                long_window=policy.no_data_after,
                short_window=definition.spec.slice_seconds,
            )
        )
    return rules


def window_lengths(rules: list[AlertRule]) -> list[int]:
    """Every trailing window the rules read, so the ledger is asked once per SLO and tick."""
    return sorted({seconds for rule in rules for seconds in (rule.long_window, rule.short_window)})


def judge(
    definition: SLODefinition,
    policy: AlertPolicy,
    rules: list[AlertRule],
    windows: Mapping[int, WindowTotals],
) -> list[Verdict]:
    """Each rule's verdict from the totals of trailing windows (by length) ending together."""
    spec = definition.spec
    length = period_seconds(spec.period)  # nominal for calendar periods, as the factors are
    min_events = effective_min_events(policy, spec.alerting)
    tiers = {tier.name: tier for tier in effective_tiers(policy, spec.alerting)}
    verdicts: list[Verdict] = []
    for rule in rules:
        long_totals, short_totals = windows[rule.long_window], windows[rule.short_window]
        if rule.kind is RuleKind.NO_DATA:
            holds = _no_data(long_totals, rule.long_window, spec.slice_seconds)
            verdicts.append(Verdict(rule, holds))
            continue
        factor = burn_rate_factor(rule.budget_fraction, length, rule.long_window)
        result = evaluate_tier(
            tiers[rule.name],
            period_seconds=length,
            budget=spec.budget,
            long_totals=long_totals,
            short_totals=short_totals,
            budgeting=spec.effective_budgeting,
            min_events=guard_events(min_events, factor, spec.budget),
        )
        judgeable = long_totals.has_data and short_totals.has_data
        verdicts.append(
            Verdict(
                rule,
                holds=result.firing if judgeable else None,
                factor=result.factor,
                long_burn=result.long_burn,
                short_burn=result.short_burn,
                long_events=result.long_events,
                guarded=result.guarded,
            )
        )
    return verdicts


def _no_data(totals: WindowTotals, span: int, slice_seconds: int) -> bool:
    """Every slice of the span was evaluated and none of them had data."""
    expected = max(1, span // slice_seconds)
    return totals.slices == 0 and totals.excluded_slices == 0 and totals.no_data_slices >= expected
