"""The alert text a person reads at 3 a.m.: what is burning, how fast, what to check, how long.

One paragraph, plain text (it goes into Alertmanager annotations, chat and tickets alike):

    checkout/checkout-success burns its error budget 25.0× faster than sustainable over 1h
    (5m: 28.8×; page-fast fires above 14.4×). Over 1h: payment-timeout 95.8%
    (synchronous-call, payment-provider), unattributed 4.2%. Verify synchronous-call: Enforce
    timeout budgets and trace critical paths. Budget left: 83.5% of 30d; gone in 4d 3h at this
    burn. Dashboard: http://127.0.0.1:8000/slo/checkout/checkout-success
"""

from __future__ import annotations

from app.alerting.conditions import RuleKind
from app.alerting.facts import AlertFacts
from app.slo.durations import format_duration

TOP_MODES = 3


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}×"


def human_duration(seconds: float) -> str:
    """Two units at most ("4d 3h", "2h 5m", "35m"), to the nearest minute."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    return f"{mins}m"


def _what_burns(facts: AlertFacts) -> str:
    window = format_duration(facts.verdict.rule.long_window)
    parts = [
        f"{mode.name} {percent(mode.share)} ({mode.design_choice}"
        + (f", {mode.dependency})" if mode.dependency else ")")
        for mode in facts.modes[:TOP_MODES]
    ]
    if facts.unattributed_share > 0.0005:
        parts.append(f"unattributed {percent(facts.unattributed_share)}")
    if not parts:
        return f"Over {window}: nothing failed."
    if not facts.modes:
        return (
            f"Over {window}: no named failure mode explains it, {parts[0]} (a failure mode "
            "nobody has named yet)."
        )
    return f"Over {window}: {', '.join(parts)}."


def _verification(facts: AlertFacts) -> str:
    top = facts.top_mode
    if top is None or facts.verification is None:
        return ""
    return f" Verify {top.design_choice}: {facts.verification}."


def _budget(facts: AlertFacts, *, with_exhaustion: bool) -> str:
    period = facts.definition.spec.period.describe()
    text = f"Budget left: {percent(max(facts.remaining, 0.0))} of {period}"
    if facts.remaining <= 0:
        return text + " (already spent)."
    if not with_exhaustion:
        return text + "."
    if facts.exhaustion_seconds is None:
        return text + "; this burn does not exhaust it before the period resets."
    return text + f"; gone in {human_duration(facts.exhaustion_seconds)} at this burn."


def firing_summary(facts: AlertFacts) -> str:
    verdict, key = facts.verdict, facts.definition.key
    rule = verdict.rule
    if rule.kind is RuleKind.NO_DATA:
        return (
            f"{key} has had no data for {format_duration(rule.long_window)}: its SLI returns no "
            "series, so its budget is neither spent nor saved (no data is not good data). Check "
            f"the exporter and the SLI queries. {_budget(facts, with_exhaustion=False)} "
            f"Dashboard: {facts.dashboard_url}"
        )
    long_label, short_label = format_duration(rule.long_window), format_duration(rule.short_window)
    return (
        f"{key} burns its error budget {times(verdict.long_burn)} faster than sustainable over "
        f"{long_label} ({short_label}: {times(verdict.short_burn)}; {rule.name} fires above "
        f"{times(verdict.factor)}). {_what_burns(facts)}{_verification(facts)} "
        f"{_budget(facts, with_exhaustion=True)} Dashboard: {facts.dashboard_url}"
    )


def resolved_summary(facts: AlertFacts) -> str:
    verdict, key = facts.verdict, facts.definition.key
    rule = verdict.rule
    budget = _budget(facts, with_exhaustion=False)
    if rule.kind is RuleKind.NO_DATA:
        return f"{key} has data again. {budget} Dashboard: {facts.dashboard_url}"
    return (
        f"{key} {rule.name} resolved: {format_duration(rule.long_window)} burn "
        f"{times(verdict.long_burn)}, {format_duration(rule.short_window)} burn "
        f"{times(verdict.short_burn)} (fires above {times(verdict.factor)}). "
        f"{_what_burns(facts)} {budget} Dashboard: {facts.dashboard_url}"
    )


def retired_summary(key: str, rule_name: str, reason: str) -> str:
    """An alert resolved because its rule or SLO went away, not because the burn stopped."""
    return f"{key} {rule_name} resolved: {reason}."
