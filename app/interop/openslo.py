"""OpenSLO v1 documents to Faultline service files and alert policies.

A Service becomes a service file's header; each SLO becomes one Faultline SLO per objective
(several objectives are named `<slo>-<objective name or index>`). References resolve among the
documents of one import; a reference to nothing is an error naming it. SLIs, alert policies and
conditions no SLO uses are reported, as is every field without a Faultline equivalent.

An SLO that Faultline itself exported carries `faultline.dev/` annotations (failure modes, the
invariant, its alert policy, latency sugar); they are read back so that import(export(x)) == x.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.interop import openslo_annotations as notes
from app.interop.findings import Origin
from app.interop.grouping import openslo_grouping
from app.interop.imported import Data, Imported, ImportedSLO
from app.interop.naming import faultline_name, slug
from app.interop.openslo_alerts import slo_alert_policies
from app.interop.openslo_index import OpenSLOIndex, read_metadata
from app.interop.openslo_indicator import Indicator, resolve_indicator
from app.interop.openslo_objectives import Budgeting, objective_fields
from app.interop.openslo_policies import slo_alerting
from app.interop.openslo_time import time_window
from app.interop.reader import Node, child
from app.slo import promql
from app.slo.yamlsource import YamlDocument

BUDGETING = {"Occurrences": "occurrences", "Timeslices": "timeslices"}
# The order in which people write an SLO (see slo_definitions/).
SLO_KEY_ORDER = (
    "name", "description", "invariant", "objective", "period", "budgeting", "slice",
    "slice_target", "labels", "group_by", "max_groups", "sli", "failure_modes", "alerting",
    "corrections",
)  # fmt: skip


def import_openslo(documents: Sequence[YamlDocument], into: Imported | None = None) -> Imported:
    imported = into or Imported()
    findings = imported.findings
    index = OpenSLOIndex.build(documents, findings)
    for entry in index.of_kind("Service"):
        _service(index.root(entry), imported)
    for entry in index.of_kind("DataSource"):
        _data_source(index.root(entry))
    for entry in index.of_kind("SLO"):
        _slo(index.root(entry), index, imported)
    for entry in index.of_kind("AlertNotificationTarget"):
        findings.warn(
            Origin(entry.document, entry.label),
            "notification targets are receivers and routes in alerts/; not imported",
        )
    for kind in ("SLI", "AlertPolicy", "AlertCondition"):
        for entry in index.of_kind(kind):
            if not entry.used:
                findings.warn(Origin(entry.document, entry.label), "no SLO uses it; not imported")
    with_slos = {item.service for item in imported.slos}
    for entry in index.of_kind("Service"):
        if slug(entry.name) not in with_slos:
            findings.warn(
                Origin(entry.document, entry.label),
                "no SLO of this service was imported; Faultline writes no file for it",
            )
    return imported


def _service(node: Node, imported: Imported) -> None:
    findings = node.findings
    meta = read_metadata(node, keep_display_name=True)
    spec = node.mapping("spec")
    description = spec.text("description") if spec is not None else None
    if spec is not None:
        spec.unread()
    node.unread()
    if meta is None:
        return
    owner = meta.annotations.pop(notes.OWNER, None)
    corrections = notes.read_json(node, meta.annotations, notes.CORRECTIONS)
    meta.annotations.pop(notes.CORRECTIONS, None)
    _unknown_annotations(node, meta.annotations)
    if description and meta.display_name:
        findings.warn(node.at("metadata", "displayName"), "display name not imported")
    name = faultline_name(node.at("metadata", "name"), meta.name, findings, "service")
    if name is not None:
        header = {"owner": owner, "description": description or meta.display_name}
        extra = {"labels": meta.labels, "corrections": corrections}
        imported.add_service(name, header | extra, node.origin)


def _data_source(node: Node) -> None:
    read_metadata(node, keep_display_name=True)
    spec = node.mapping("spec")
    node.unread()
    if spec is None:
        return
    spec.text("description")
    spec.text("type")
    spec.skip(
        "connectionDetails",
        "Faultline queries the Prometheus named in its settings (--prometheus-url, "
        "FAULTLINE_PROMETHEUS_URL); connection details not imported",
    )
    spec.unread()


def _unknown_annotations(node: Node, annotations: dict[str, str]) -> None:
    for key in annotations:
        node.findings.warn(
            node.at("metadata", "annotations", key),
            "annotation has no Faultline equivalent; not imported",
        )


def _slo(node: Node, index: OpenSLOIndex, imported: Imported) -> None:
    findings = node.findings
    meta = read_metadata(node, keep_display_name=True)
    spec = node.mapping("spec", required=True)
    node.unread()
    if meta is None or spec is None:
        return
    annotations = dict(meta.annotations)
    ours = {key: annotations.pop(key) for key in notes.SLO_KEYS if key in annotations}
    _unknown_annotations(node, annotations)
    description = spec.text("description")
    service_name = spec.text("service", required=True)
    indicator = resolve_indicator(spec, index)
    period = time_window(spec)
    method = spec.text("budgetingMethod", required=True)
    objectives = spec.sequence("objectives", required=True)
    policies = slo_alert_policies(spec, index)
    spec.unread()
    if service_name is None or indicator is None or period is None or method is None:
        return
    if method not in BUDGETING:
        findings.warn(
            spec.at("budgetingMethod"),
            f"budgeting method {method!r} has no Faultline equivalent (Occurrences or Timeslices); "
            "SLO not imported",
        )
        return
    name = faultline_name(
        node.at("metadata", "name"), ours.get(notes.SLO_NAME, meta.name), findings, "SLO"
    )
    service = faultline_name(spec.at("service"), service_name, findings, "service")
    if name is None or service is None:
        return
    imported.add_service(service, {}, spec.at("service"))
    service_labels = imported.services[service].get("labels") or {}
    description = description or indicator.description
    if description and meta.display_name:
        findings.warn(node.at("metadata", "displayName"), "display name not imported")
    indicator = _with_unit(node, _own_bad(indicator, ours), ours.get(notes.UNIT))
    common: Data = {
        "description": description or meta.display_name,
        "invariant": ours.get(notes.INVARIANT),
        "period": period,
        "labels": {k: v for k, v in meta.labels.items() if service_labels.get(k) != v},
        **openslo_grouping(node, ours, _queries(indicator)),
    }
    budgeting = Budgeting(
        BUDGETING[method], indicator, ours.get(notes.SLICE), ours.get(notes.THRESHOLD_OP)
    )
    latency = _latency(node, ours, indicator, tuple(common.get("group_by") or ()))
    tail = {
        "failure_modes": notes.read_json(node, ours, notes.FAILURE_MODES),
        "alerting": slo_alerting(node, ours, policies, period, imported),
        "corrections": notes.read_json(node, ours, notes.CORRECTIONS),
    }
    several = len(objectives) > 1
    if several:
        findings.warn(
            spec.at("objectives"),
            f"{len(objectives)} objectives: Faultline imports one SLO per objective, named "
            f"{name}-<objective name or index>",
        )
    for position, (origin, item) in enumerate(objectives):
        objective = child(origin, item, findings, f"SLO {meta.name}")
        if objective is None:
            continue
        # An objective's name only tells several apart; a single one keeps the SLO's name.
        given_name, shown_name = objective.text("name"), objective.text("displayName")
        label = given_name or shown_name
        fields = objective_fields(objective, budgeting)
        if fields is None:
            continue
        if latency is not None:
            fields["sli"] = {"latency": latency}
        suffix = (slug(label) if label else "") or str(position)
        slo_name = f"{name}-{suffix}"[:64].strip("-._") if several else name
        given = {"name": slo_name, **common, **fields, **tail}
        data = {key: given[key] for key in SLO_KEY_ORDER if given.get(key) not in (None, {}, [])}
        imported.slos.append(ImportedSLO(service, data, objective.origin))


def _queries(indicator: Indicator) -> list[str]:
    return [query for role, query in (indicator.events or {}).items() if role != "unit"]


def _own_bad(indicator: Indicator, ours: dict[str, str]) -> Indicator:
    """An SLO whose bad events come from its failure modes was exported with their sum as `bad`
    (OpenSLO needs one); Faultline computes it from the modes again."""
    if ours.get(notes.BAD_FROM_MODES) != "true" or indicator.events is None:
        return indicator
    events = {key: value for key, value in indicator.events.items() if key != "bad"}
    return Indicator(indicator.origin, events, None, indicator.description)


def _with_unit(node: Node, indicator: Indicator, unit: str | None) -> Indicator:
    """Set the events unit: as exported, else from the queries (rates when they do not say)."""
    if indicator.events is None:
        return indicator
    events = dict(indicator.events)
    if unit is not None:
        events["unit"] = unit
    elif any(promql.detect_unit(query) is None for query in events.values()):
        node.findings.warn(
            indicator.origin,
            "cannot tell from the queries whether they return rates or counts; imported as "
            "per-second rates (unit: rate)",
        )
        events["unit"] = "rate"
    return Indicator(indicator.origin, events, None, indicator.description)


def _latency(
    node: Node, ours: dict[str, str], indicator: Indicator, group_by: tuple[str, ...]
) -> Data | None:
    """Latency sugar exported by Faultline, if the queries are still what it expands to."""
    sugar = notes.read_json(node, ours, notes.LATENCY)
    events = indicator.events
    if not isinstance(sugar, dict) or events is None:
        return None
    try:
        expanded: tuple[str, str] | None = promql.latency_queries(
            sugar["histogram"], sugar.get("selector", ""), sugar["le"], group_by
        )
    except (KeyError, TypeError, AttributeError):
        expanded = None
    if expanded != (events.get("total"), events.get("good")):
        node.findings.warn(
            node.at("metadata", "annotations", notes.LATENCY),
            "the queries are no longer the histogram's; imported as an events SLI",
        )
        return None
    return sugar
