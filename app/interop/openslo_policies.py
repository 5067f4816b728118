"""Faultline alert policies from OpenSLO burn-rate conditions.

A burn-rate condition fits Faultline's tier model directly: its `threshold` is the burn rate,
`lookbackWindow` the long window and `alertAfter` the tier's `for`. Faultline tiers write the
share of the budget a burn may spend (`budget_fraction = threshold × lookback / period`), so one
policy scales with each SLO's period; and they pair the long window with a short one (1/12 of it,
as the SRE Workbook does) so the alert resets soon after the burn stops. The AlertPolicies of one
SLO become one Faultline policy named after them (with the period when they are used at several).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.interop import openslo_annotations as notes
from app.interop.findings import Findings
from app.interop.imported import Data, Imported
from app.interop.naming import slug
from app.interop.openslo_alerts import BurnRateCondition, PolicyRef
from app.interop.openslo_time import Period
from app.interop.reader import Node
from app.slo.durations import format_duration, parse_duration
from app.slo.spec import CalendarUnit
from app.slo.windows import NOMINAL_CALENDAR_SECONDS

# Workbook pairs: 1h/5m, 6h/30m, 1d/2h, 3d/6h — the short window is 1/12 of the long one.
SHORT_WINDOW_DIVISOR = 12
RESERVED_POLICIES = frozenset({"default"})


def slo_alerting(
    node: Node, ours: dict[str, str], policies: list[PolicyRef], period: Period, imported: Imported
) -> Any:
    exported = notes.read_json(node, ours, notes.ALERTING)
    if isinstance(exported, dict) and set(exported) == {"policy"}:
        exported = exported["policy"]  # written `alerting: default`, as people do
    if exported is not None:
        for policy in policies:
            if policy.faultline_policy is None:
                node.findings.warn(
                    policy.origin,
                    "the SLO's faultline.dev/alerting annotation names its Faultline policy; "
                    "this alert policy is not imported",
                )
        return exported
    if not policies:
        return None
    label, seconds = _period_length(node, period)
    tiers = faultline_tiers(policies, seconds, label, node.findings)
    if not tiers:
        node.findings.warn(
            node.at("spec", "alertPolicies"),
            "no condition of the SLO's alert policies could be imported; the SLO uses "
            "Faultline's default policy",
        )
        return None
    return _register_policy(imported, policies, tiers, label)  # written `alerting: <name>`


def _period_length(node: Node, period: Period) -> tuple[str, int]:
    if isinstance(period, str):
        return period, parse_duration(period)
    unit = CalendarUnit(period["calendar"])
    node.findings.warn(
        node.at("spec", "alertPolicies"),
        f"burn-rate thresholds are converted for a {unit.value} of nominal length; Faultline "
        f"derives each tier's rate from the real length of every {unit.value}",
    )
    return unit.value, NOMINAL_CALENDAR_SECONDS[unit]


def _register_policy(
    imported: Imported, policies: list[PolicyRef], tiers: list[Data], period_label: str
) -> str:
    """A Faultline policy for these AlertPolicies at this period, named after them."""
    base = slug("-".join(policy.name for policy in policies))[:54].strip("-") or "imported"
    if base in RESERVED_POLICIES:
        base = f"{base}-openslo"
    data: Data = {"tiers": tiers}
    description = next((p.description for p in policies if p.description), None)
    if description:
        data = {"description": description, **data}
    for candidate in (base, f"{base}-{period_label}", *(f"{base}-{n}" for n in range(2, 100))):
        known = imported.policies.get(candidate)
        if known is None or known == data:
            imported.policies[candidate] = data
            return candidate
    raise AssertionError("unreachable: more than 100 variants of one alert policy")


def faultline_tiers(
    policies: Sequence[PolicyRef], period_seconds: int, period_label: str, findings: Findings
) -> list[Data]:
    """The tiers of the policies, for an SLO of this period; a condition that cannot be a tier
    is a warning."""
    tiers: list[Data] = []
    for policy in policies:
        for condition in policy.conditions:
            tier = _tier(condition, period_seconds, period_label, findings)
            if tier is None:
                continue
            if any(known["name"] == tier["name"] for known in tiers):
                tier["name"] = f"{policy.name}-{tier['name']}"[:64].strip("-")
            tiers.append(tier)
    return tiers


def _tier(
    condition: BurnRateCondition, period_seconds: int, period_label: str, findings: Findings
) -> Data | None:
    long = condition.lookback
    short = condition.short_window
    if short is None:
        short = max(60, long // SHORT_WINDOW_DIVISOR // 60 * 60)
        if short < long:
            findings.warn(
                condition.origin,
                "a burn-rate condition has one window; Faultline pairs its "
                f"{format_duration(long)} with a short window of {format_duration(short)} (1/12, "
                "as the SRE Workbook does) so the alert resets soon after the burn stops",
            )
    if short >= long:
        findings.warn(
            condition.origin,
            f"lookbackWindow {format_duration(long)} is too short for a Faultline tier (it needs a "
            "shorter window inside it); condition not imported",
        )
        return None
    fraction = condition.threshold * long / period_seconds
    if fraction > 1:
        findings.warn(
            condition.origin,
            f"a burn rate of {condition.threshold:g} over {format_duration(long)} spends more than "
            f"the whole budget of a {period_label} period; condition not imported",
        )
        return None
    tier: Data = {
        "name": condition.name,
        "severity": condition.severity,
        "long_window": format_duration(long),
        "short_window": format_duration(short),
        # Rounded so that a threshold exported from a budget fraction comes back as written.
        "budget_fraction": round(fraction, 12),
    }
    if condition.alert_after:
        tier["for"] = format_duration(condition.alert_after)
    return tier
