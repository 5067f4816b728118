"""Reading an SLO's OpenSLO AlertPolicies and their burn-rate AlertConditions (inline or by
reference). What they become in Faultline is `app.interop.openslo_policies`.

Notification targets are receivers and routes in `alerts/`, which an OpenSLO document cannot
give a URL for; `alertWhenResolved` and `alertWhenNoData` cannot be switched off in Faultline.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.interop import openslo_annotations as notes
from app.interop.findings import Origin
from app.interop.naming import faultline_name
from app.interop.openslo_index import OpenSLOIndex, read_metadata
from app.interop.openslo_time import shorthand_seconds
from app.interop.reader import Node, child


@dataclass(frozen=True)
class BurnRateCondition:
    name: str
    severity: str
    threshold: float
    lookback: int
    alert_after: int
    short_window: int | None  # given by a `faultline.dev/short-window` annotation
    origin: Origin


@dataclass(frozen=True)
class PolicyRef:
    """One AlertPolicy an SLO uses, with its burn-rate conditions."""

    name: str
    conditions: tuple[BurnRateCondition, ...]
    faultline_policy: str | None  # set on policies Faultline exported
    description: str | None
    origin: Origin


def slo_alert_policies(spec: Node, index: OpenSLOIndex) -> list[PolicyRef]:
    """The SLO's `alertPolicies`, inline or by `alertPolicyRef`."""
    found: list[PolicyRef] = []
    for origin, item in spec.sequence("alertPolicies"):
        node = child(origin, item, spec.findings)
        if node is None:
            continue
        reference = node.text("alertPolicyRef")
        if reference is not None:
            node.unread()
            entry = index.get("AlertPolicy", reference)
            if entry is None:
                spec.findings.error(
                    node.at("alertPolicyRef"),
                    f"alertPolicyRef {reference!r}: no AlertPolicy of that name among the "
                    "documents",
                )
                continue
            node = index.root(entry)
        policy = _policy(node, index)
        if policy is not None:
            found.append(policy)
    return found


def _policy(node: Node, index: OpenSLOIndex) -> PolicyRef | None:
    findings = node.findings
    node.text("kind")
    meta = read_metadata(node, keep_display_name=True)
    spec = node.mapping("spec", required=True)
    node.unread()
    if meta is None or spec is None:
        return None
    exported_as = meta.annotations.pop(notes.POLICY, None)
    for key in meta.annotations:
        findings.warn(node.at("metadata", "annotations", key), "annotation not imported")
    description = spec.text("description")
    if description and meta.display_name:
        findings.warn(node.at("metadata", "displayName"), "display name not imported")
    description = description or meta.display_name
    breaching = spec.flag("alertWhenBreaching")
    resolved = spec.flag("alertWhenResolved")
    no_data = spec.flag("alertWhenNoData")
    for origin, _ in spec.sequence("notificationTargets"):
        findings.warn(
            origin,
            "notification targets are receivers and routes in alerts/ (route on severity or "
            "service); not imported",
        )
    conditions = _conditions(spec, index)
    spec.unread()
    if breaching is False:
        findings.warn(
            spec.at("alertWhenBreaching"),
            "Faultline alerts when a burn rate breaches; a policy that does not is not imported",
        )
        return None
    if resolved is False:
        findings.warn(
            spec.at("alertWhenResolved"),
            "Faultline always notifies when an alert resolves; this cannot be turned off",
        )
    if no_data is False:
        findings.warn(
            spec.at("alertWhenNoData"),
            "Faultline raises a no-data alert after the policy's no_data_after (15m by default); "
            "this cannot be turned off here",
        )
    name = faultline_name(node.at("metadata", "name"), meta.name, findings, "alert policy")
    if name is None:
        return None
    return PolicyRef(name, tuple(conditions), exported_as, description, node.origin)


def _conditions(spec: Node, index: OpenSLOIndex) -> list[BurnRateCondition]:
    findings = spec.findings
    items = spec.sequence("conditions", required=True)
    if len(items) > 1:
        findings.warn(
            spec.at("conditions"), "OpenSLO allows one condition per policy; all are used"
        )
    found = []
    for origin, item in items:
        node = child(origin, item, findings)
        if node is None:
            continue
        reference = node.text("conditionRef")
        if reference is not None:
            node.unread()
            entry = index.get("AlertCondition", reference)
            if entry is None:
                findings.error(
                    node.at("conditionRef"),
                    f"conditionRef {reference!r}: no AlertCondition of that name among the "
                    "documents",
                )
                continue
            node = index.root(entry)
        condition = _condition(node)
        if condition is not None:
            found.append(condition)
    return found


def _condition(node: Node) -> BurnRateCondition | None:
    findings = node.findings
    node.text("kind")
    meta = read_metadata(node, keep_display_name=True)
    spec = node.mapping("spec", required=True)
    node.unread()
    if meta is None or spec is None:
        return None
    tier = meta.annotations.pop(notes.TIER, None) or meta.name
    short_text = meta.annotations.pop(notes.SHORT_WINDOW, None)
    for key in meta.annotations:
        findings.warn(node.at("metadata", "annotations", key), "annotation not imported")
    spec.skip("description", "tiers have no description in Faultline; not imported")
    severity = spec.text("severity", required=True)
    condition = spec.mapping("condition", required=True)
    spec.unread()
    burn = _burn_rate(condition) if condition is not None else None
    where = node.at("metadata", "annotations", notes.SHORT_WINDOW)
    short = shorthand_seconds(where, short_text, findings) if short_text else None
    tier_name = faultline_name(node.at("metadata", "name"), tier, findings, "tier")
    level = (
        faultline_name(spec.at("severity"), severity, findings, "severity") if severity else None
    )
    if burn is None or tier_name is None or level is None or (short_text and short is None):
        return None
    threshold, long, wait = burn
    return BurnRateCondition(tier_name, level, threshold, long, wait, short, node.origin)


def _burn_rate(condition: Node) -> tuple[float, int, int] | None:
    """(threshold, lookback seconds, alertAfter seconds) of a burn-rate condition."""
    findings = condition.findings
    kind = condition.text("kind") or "burnrate"
    threshold = condition.number("threshold", required=True)
    lookback = condition.text("lookbackWindow", required=True)
    after = condition.text("alertAfter") or "0m"
    condition.unread()
    if kind != "burnrate":
        findings.warn(condition.at("kind"), f"only burnrate conditions are imported, not {kind!r}")
        return None
    if threshold is not None and threshold <= 0:
        findings.error(condition.at("threshold"), "a burn-rate threshold is above zero")
        threshold = None
    long = (
        shorthand_seconds(condition.at("lookbackWindow"), lookback, findings) if lookback else None
    )
    wait = shorthand_seconds(condition.at("alertAfter"), after, findings, allow_zero=True)
    if threshold is None or long is None or wait is None:
        return None
    return threshold, long, wait
