"""Faultline definitions to OpenSLO v1 documents.

One Service per service and one SLO per SLO, each with its SLI inline: events and latency SLIs
as a `ratioMetric` (latency expands to the histogram's bucket and count queries), threshold SLIs
as a `thresholdMetric`, all from a Prometheus metric source whose queries keep Faultline's
`{{window}}` range. Each alert tier an SLO uses becomes an AlertPolicy with one burn-rate
condition, its threshold derived for the SLO's period. What OpenSLO has no field for (failure
modes, the invariant, the alert policy reference, latency sugar, budget corrections) travels in
`faultline.dev/` annotations, so that importing the export gives back the same SLOs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.interop import openslo_annotations as notes
from app.interop.imported import Data
from app.interop.openslo_index import API_VERSION
from app.slo import promql
from app.slo.burn_alerts import burn_rate_factor, effective_tiers
from app.slo.correction_spec import CorrectionSpec
from app.slo.definitions import DefinitionSet, SLODefinition
from app.slo.durations import format_duration
from app.slo.spec import Budgeting, CalendarPeriod, CalendarUnit, SLOSpec, ThresholdOp
from app.slo.windows import period_seconds

OPERATORS = {
    ThresholdOp.LT: "lt",
    ThresholdOp.LE: "lte",
    ThresholdOp.GT: "gt",
    ThresholdOp.GE: "gte",
}
CALENDAR_DURATIONS = {CalendarUnit.WEEK: "1w", CalendarUnit.MONTH: "1M", CalendarUnit.QUARTER: "1Q"}
# A Monday that is also the first of a month and of a quarter: a boundary of every calendar unit.
CALENDAR_START = "2024-01-01 00:00:00"


@dataclass
class OpenSLOExport:
    """Documents per service (Service first, then its SLOs), the shared alert policies, and what
    other OpenSLO tools will not understand."""

    services: dict[str, list[Data]] = field(default_factory=dict)
    alert_policies: dict[str, Data] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def documents(self) -> list[Data]:
        every = [document for documents in self.services.values() for document in documents]
        return every + list(self.alert_policies.values())


def export_openslo(
    definitions: DefinitionSet, service_descriptions: Mapping[str, str] | None = None
) -> OpenSLOExport:
    """OpenSLO documents for every loaded SLO; `service_descriptions` fills the Services."""
    export = OpenSLOExport()
    descriptions = service_descriptions or {}
    names = [slo.spec.name for slo in definitions.slos]
    for definition in definitions.slos:
        documents = export.services.get(definition.service)
        if documents is None:
            service_wide = [
                correction.spec
                for correction in definitions.service_corrections
                if correction.service == definition.service
            ]
            documents = [_service(definition, descriptions.get(definition.service), service_wide)]
            export.services[definition.service] = documents
        # SLO names are unique per service in Faultline, but per kind in OpenSLO.
        unique = names.count(definition.spec.name) == 1
        name = definition.spec.name if unique else f"{definition.service}-{definition.spec.name}"
        documents.append(_slo(definition, name[:63].strip("-"), definitions, export))
    return export


def _document(kind: str, metadata: Data, spec: Data) -> Data:
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


def _service(
    definition: SLODefinition, description: str | None, corrections: Sequence[CorrectionSpec]
) -> Data:
    metadata: Data = {"name": definition.service}
    if definition.service_labels:
        metadata["labels"] = dict(definition.service_labels)
    annotations: dict[str, str] = {}
    if definition.owner:
        annotations[notes.OWNER] = definition.owner
    if corrections:
        annotations[notes.CORRECTIONS] = _corrections(corrections)
    if annotations:
        metadata["annotations"] = annotations
    return _document("Service", metadata, {"description": description} if description else {})


def _corrections(corrections: Sequence[CorrectionSpec]) -> str:
    """Budget corrections (OpenSLO has none), as the YAML would write them."""
    return notes.encode([c.model_dump(mode="json", exclude_none=True) for c in corrections])


def _slo(
    definition: SLODefinition, name: str, definitions: DefinitionSet, export: OpenSLOExport
) -> Data:
    spec = definition.spec
    annotations: dict[str, str] = {}
    if name != spec.name:
        annotations[notes.SLO_NAME] = spec.name
    if spec.invariant:
        annotations[notes.INVARIANT] = spec.invariant
    if spec.failure_modes:
        modes = [mode.model_dump(mode="json", exclude_none=True) for mode in spec.failure_modes]
        annotations[notes.FAILURE_MODES] = notes.encode(modes)
    annotations[notes.ALERTING] = notes.encode(_alerting(spec))
    if spec.corrections:
        annotations[notes.CORRECTIONS] = _corrections(spec.corrections)
    if spec.effective_budgeting is Budgeting.OCCURRENCES and spec.slice_seconds != 60:
        annotations[notes.SLICE] = format_duration(spec.slice_seconds)
    if spec.group_by:
        _grouping(definition, annotations, export)
    indicator, objective = _indicator(definition, annotations, export)
    metadata: Data = {"name": name}
    if definition.labels:
        metadata["labels"] = dict(definition.labels)
    metadata["annotations"] = annotations
    body: Data = {}
    if spec.description:
        body["description"] = spec.description
    body |= {
        "service": definition.service,
        "indicator": {"metadata": {"name": name}, "spec": indicator},
        "timeWindow": [_time_window(spec)],
        "budgetingMethod": spec.effective_budgeting.value.capitalize(),
        "objectives": [_objective(spec, objective)],
    }
    policies = _alert_policies(definition, definitions, export)
    if policies:
        body["alertPolicies"] = [{"alertPolicyRef": policy} for policy in policies]
    return _document("SLO", metadata, body)


def _grouping(
    definition: SLODefinition, annotations: dict[str, str], export: OpenSLOExport
) -> None:
    """`group_by` and `max_groups` as annotations: OpenSLO v1 has no grouping."""
    spec = definition.spec
    annotations[notes.GROUP_BY] = notes.encode(list(spec.group_by or ()))
    if spec.max_groups is not None:
        annotations[notes.MAX_GROUPS] = str(spec.max_groups)
    labels = ", ".join(spec.group_by or ())
    export.warnings.append(
        f"{definition.key}: OpenSLO v1 has no grouping; `group_by: [{labels}]`"
        f" is kept in the {notes.GROUP_BY} annotation, which only Faultline reads (another tool "
        "sees one SLO whose queries answer a series per group)"
    )


def _alerting(spec: SLOSpec) -> Data:
    """The SLO's alert reference, always naming the policy."""
    reference = spec.alerting.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return {"policy": spec.alerting.policy, **reference}


def _source(query: str) -> Data:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}


def _indicator(
    definition: SLODefinition, annotations: dict[str, str], export: OpenSLOExport
) -> tuple[Data, Data]:
    """The SLI's spec, and what the objective adds (threshold operator and value)."""
    spec = definition.spec
    sli = spec.sli
    assert sli is not None  # a loaded SLO always has one
    if sli.threshold is not None:
        threshold = sli.threshold
        objective: Data = {"value": threshold.value}
        if threshold.op in OPERATORS:
            objective = {"op": OPERATORS[threshold.op], **objective}
        else:
            annotations[notes.THRESHOLD_OP] = threshold.op.value
            export.warnings.append(
                f"{definition.key}: OpenSLO has no {threshold.op.value} operator; it is kept "
                f"in the {notes.THRESHOLD_OP} annotation, which only Faultline reads"
            )
        return {"thresholdMetric": _source(threshold.query)}, objective
    ratio: Data = {"counter": True}
    if sli.latency is not None:
        latency = sli.latency
        total, good = promql.latency_queries(
            latency.histogram, latency.selector, latency.le, spec.group_by or ()
        )
        annotations[notes.LATENCY] = notes.encode(latency.model_dump(mode="json"))
        ratio |= {"good": _source(good), "total": _source(total)}
        return {"ratioMetric": ratio}, {}
    events = sli.events
    assert events is not None
    if events.unit != "auto":
        annotations[notes.UNIT] = events.unit
    if events.good is not None:
        ratio["good"] = _source(events.good)
    elif events.bad is not None:
        ratio["bad"] = _source(events.bad)
    else:
        modes = [mode.bad for mode in spec.failure_modes if mode.bad is not None]
        ratio["bad"] = _source(" + ".join(f"({query} or vector(0))" for query in modes))
        annotations[notes.BAD_FROM_MODES] = "true"
        export.warnings.append(
            f"{definition.key}: bad events come from the failure modes; OpenSLO needs a bad "
            "query, so it is their sum (Faultline also caps it at the total)"
        )
    ratio["total"] = _source(events.total)
    return {"ratioMetric": ratio}, {}


def _shorthand(seconds: int) -> str:
    """An OpenSLO duration shorthand: days, hours or minutes (seconds only if it must)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _time_window(spec: SLOSpec) -> Data:
    period = spec.period
    if isinstance(period, CalendarPeriod):
        return {
            "duration": CALENDAR_DURATIONS[period.calendar],
            "isRolling": False,
            "calendar": {"startTime": CALENDAR_START, "timeZone": period.timezone},
        }
    return {"duration": _shorthand(period.seconds), "isRolling": True}


def _objective(spec: SLOSpec, extra: Data) -> Data:
    objective: Data = {**extra, "target": round(spec.objective / 100, 12)}
    if spec.effective_budgeting is Budgeting.TIMESLICES:
        # A threshold slice is good or bad as a whole: all of it must meet the condition.
        share = 1.0 if spec.slice_target is None else round(spec.slice_target / 100, 12)
        objective["timeSliceTarget"] = share
        objective["timeSliceWindow"] = _shorthand(spec.slice_seconds)
    return objective


def _alert_policies(
    definition: SLODefinition, definitions: DefinitionSet, export: OpenSLOExport
) -> list[str]:
    """One AlertPolicy per tier the SLO uses, its burn rate derived for the SLO's period."""
    spec = definition.spec
    policy = definitions.policy_for(definition)
    period = spec.period
    label = (
        period.calendar.value if isinstance(period, CalendarPeriod) else _shorthand(period.seconds)
    )
    names = []
    for tier in effective_tiers(policy, spec.alerting):
        name = f"{spec.alerting.policy}-{tier.name}-{label}"
        wait = spec.alerting.for_seconds
        if wait is not None:  # the SLO overrides `for`, so its condition differs from the tier's
            name += f"-for-{_shorthand(wait) if wait else '0m'}"
        factor = burn_rate_factor(tier.budget_fraction, period_seconds(period), tier.long_window)
        condition = {
            "kind": "burnrate",
            "threshold": round(factor, 12),
            "lookbackWindow": _shorthand(tier.long_window),
            "alertAfter": _shorthand(tier.for_seconds) if tier.for_seconds else "0m",
        }
        tier_metadata = {
            "name": f"{tier.name}-{label}",
            "annotations": {
                notes.TIER: tier.name,
                notes.SHORT_WINDOW: _shorthand(tier.short_window),
            },
        }
        spec_data: Data = {
            "alertWhenBreaching": True,
            "alertWhenResolved": True,
            "alertWhenNoData": True,
            "conditions": [
                {
                    "kind": "AlertCondition",
                    "metadata": tier_metadata,
                    "spec": {"severity": tier.severity, "condition": condition},
                }
            ],
            "notificationTargets": [],
        }
        if policy.description:
            spec_data = {"description": policy.description, **spec_data}
        metadata = {"name": name, "annotations": {notes.POLICY: spec.alerting.policy}}
        export.alert_policies.setdefault(name, _document("AlertPolicy", metadata, spec_data))
        names.append(name)
    return names
