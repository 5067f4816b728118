"""The alert as data: labels, annotations and the JSON document frozen with each transition.

The document is the webhook body as is, and Alertmanager alerts are built from it, so a
notification retried an hour later carries the same figures (and the same signature) as the
first attempt. A resolution reuses its firing alert's labels: Alertmanager identifies an alert by
its label set, so a changed label would resolve nothing.

Labels: `alertname` (`ErrorBudgetBurn` or `SLONoData`), `service`, `slo`, `severity`,
`long_window` and `short_window` (burn alerts) or `no_data_for` (no-data alerts), plus the SLO's
own labels (team, tier, …), which never override these.
"""

from __future__ import annotations

import uuid
from typing import Any

from app.alerting.conditions import AlertRule, RuleKind
from app.alerting.facts import AlertFacts
from app.slo.definitions import SLODefinition
from app.slo.durations import format_duration
from app.slo.report import rfc3339

BURN_ALERTNAME = "ErrorBudgetBurn"
NO_DATA_ALERTNAME = "SLONoData"
DOCUMENT_VERSION = 1
# A fixed namespace: the same transition always gets the same key, on any replica.
_KEY_NAMESPACE = uuid.UUID("6f1d3c1e-52a4-4d4c-9a8e-4f61756c746c")

Document = dict[str, Any]


def idempotency_key(slo_key: str, rule: str, state: str, t: int) -> str:
    """One key per transition: (SLO, rule, new state, slice end) names it uniquely."""
    return str(uuid.uuid5(_KEY_NAMESPACE, f"{slo_key}|{rule}|{state}|{t}"))


def alert_labels(definition: SLODefinition, rule: AlertRule) -> dict[str, str]:
    own: dict[str, str] = {
        "alertname": BURN_ALERTNAME if rule.kind is RuleKind.BURN else NO_DATA_ALERTNAME,
        "service": definition.service,
        "slo": definition.name,
        "severity": rule.severity,
    }
    if rule.kind is RuleKind.BURN:
        own["long_window"] = format_duration(rule.long_window)
        own["short_window"] = format_duration(rule.short_window)
    else:
        own["no_data_for"] = format_duration(rule.long_window)
    return {**own, **{name: v for name, v in definition.labels.items() if name not in own}}


def alert_annotations(definition: SLODefinition, summary: str, dashboard: str) -> dict[str, str]:
    spec = definition.spec
    description = " ".join(
        part
        for part in (
            spec.description,
            f"Invariant: {spec.invariant}" if spec.invariant else None,
            f"Objective {spec.objective:g}% over {spec.period.describe()}.",
        )
        if part
    )
    return {"summary": summary, "description": description, "dashboard_url": dashboard}


def event_document(
    facts: AlertFacts,
    *,
    state: str,
    key: str,
    summary: str,
    labels: dict[str, str],
    starts_at: int,
) -> Document:
    """What a transition says, for every receiver; `ends_at` is set on resolution."""
    definition, verdict = facts.definition, facts.verdict
    rule = verdict.rule
    document: Document = {
        "version": DOCUMENT_VERSION,
        "idempotency_key": key,
        "status": state,
        "rule": {"name": rule.name, "kind": rule.kind.value, "severity": rule.severity},
        "slo": {
            "key": definition.key,
            "service": definition.service,
            "name": definition.name,
            "objective": definition.spec.objective,
            "period": definition.spec.period.describe(),
        },
        "labels": labels,
        "annotations": alert_annotations(definition, summary, facts.dashboard_url),
        "starts_at": rfc3339(starts_at),
        "ends_at": rfc3339(facts.at) if state == "resolved" else None,
        "evaluated_at": rfc3339(facts.at),
        "failure_modes": [
            {
                "name": mode.name,
                "design_choice": mode.design_choice,
                "dependency": mode.dependency,
                "share": mode.share,
                "bad": mode.bad,
            }
            for mode in facts.modes
        ],
        "unattributed_share": facts.unattributed_share,
        "verification": facts.verification,
        "budget": {
            "remaining": facts.remaining,
            "time_to_exhaustion_seconds": facts.exhaustion_seconds,
        },
        "dashboard_url": facts.dashboard_url,
    }
    if rule.kind is RuleKind.BURN:
        document["burn"] = {
            "long_window": format_duration(rule.long_window),
            "short_window": format_duration(rule.short_window),
            "factor": verdict.factor,
            "long": verdict.long_burn,
            "short": verdict.short_burn,
            "long_window_events": verdict.long_events,
        }
    return document


def retired_document(firing: Document, *, key: str, summary: str, at: int) -> Document:
    """The resolution of an alert whose rule or SLO is gone: the firing alert, closed."""
    annotations = {**firing.get("annotations", {}), "summary": summary}
    return {
        **firing,
        "idempotency_key": key,
        "status": "resolved",
        "annotations": annotations,
        "ends_at": rfc3339(at),
        "evaluated_at": rfc3339(at),
    }
