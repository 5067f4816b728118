"""Sloth specs (`version: prometheus/v1`, and the `PrometheusServiceLevel` Kubernetes CRD) to
Faultline service files.

Sloth's events SLI maps one to one: `error_query` is `bad`, `total_query` is `total`, and the
queries are per-second rates over `{{.window}}` (`unit: rate`). Sloth's page and ticket alerts
are the SRE Workbook's multiwindow tiers, which is Faultline's `default` policy; disabling one
disables its two tiers. Alert names, labels and annotations have no per-SLO place in Faultline
(alerts are named after the SLO and routed in `alerts/`), so they become warnings. A `raw` SLI
is an error *ratio*, which cannot be turned into counts: that SLO is skipped with a warning, as
are plugin SLIs, whose queries only Sloth's plugins know.

Sloth has no grouping field; an SLO whose two queries aggregate `by` the same labels is recorded
and alerted per group by Sloth, so it is imported with those labels as `group_by` (a ledger per
group), with a warning that says so (`app.interop.grouping`).
"""

from __future__ import annotations

from collections.abc import Sequence

from app.interop.findings import Origin
from app.interop.grouping import common_group_labels, phrase, reserved
from app.interop.imported import Data, Imported, ImportedSLO
from app.interop.naming import faultline_name, labels
from app.interop.promql_adapt import normalize_window
from app.interop.reader import Node, child
from app.slo import promql
from app.slo.durations import DurationError, parse_duration
from app.slo.spec import WINDOW_PLACEHOLDER
from app.slo.yamlsource import YamlDocument

SLOTH_VERSION = "prometheus/v1"
SLOTH_CRD = ("sloth.slok.dev/v1", "PrometheusServiceLevel")
DEFAULT_PERIOD = "30d"
# Sloth's page alert is the Workbook's two fast tiers, its ticket alert the two slow ones.
PAGE_TIERS = ("page-fast", "page-slow")
TICKET_TIERS = ("ticket-fast", "ticket-slow")


def import_sloth(
    documents: Sequence[YamlDocument], period: str = DEFAULT_PERIOD, into: Imported | None = None
) -> Imported:
    """Convert Sloth specs; `period` is what Sloth's `--default-slo-period` was (30d or 28d)."""
    imported = into or Imported()
    for document in documents:
        spec = _spec_node(document, imported)
        if spec is not None:
            _service(spec, period, imported)
    return imported


def _spec_node(document: YamlDocument, imported: Imported) -> Node | None:
    """The node holding `service` and `slos`: the document, or a CRD's `spec`."""
    findings = imported.findings
    data = document.data if isinstance(document.data, dict) else {}
    if data.get("version") == SLOTH_VERSION:
        root = Node.root(document, f"Sloth spec {data.get('service', '?')}", findings)
        root.text("version")
        return root
    if (data.get("apiVersion"), data.get("kind")) == SLOTH_CRD:
        name = (data.get("metadata") or {}).get("name", "?")
        root = Node.root(document, f"PrometheusServiceLevel {name}", findings)
        root.text("apiVersion")
        root.text("kind")
        root.skip(
            "metadata",
            "Kubernetes object metadata is not imported; the service name is spec.service",
        )
        spec = root.mapping("spec", required=True)
        root.unread()
        return spec
    origin = Origin(document, "document")
    version = data.get("version") or data.get("apiVersion")
    findings.error(
        origin,
        f"not a Sloth spec: expected version: {SLOTH_VERSION} (or a {SLOTH_CRD[1]} "
        f"{SLOTH_CRD[0]} resource), found {version or 'neither'}",
    )
    return None


def _service(spec: Node, period: str, imported: Imported) -> None:
    findings = imported.findings
    raw_name = spec.text("service", required=True)
    service = (
        faultline_name(spec.at("service"), raw_name, findings, "service") if raw_name else None
    )
    service_labels = labels(spec.at("labels"), spec.strings("labels"), findings)
    spec.skip(
        "slo_plugins",
        "Sloth SLO plugins change generated Prometheus rules; Faultline evaluates SLOs itself, "
        "so the plugin chain is not imported",
    )
    spec.skip("sloPlugins", "Sloth SLO plugins are not imported")
    items = spec.sequence("slos", required=True)
    spec.unread()
    if service is None:
        return
    imported.add_service(service, {"labels": service_labels}, spec.origin)
    converted = 0
    for origin, item in items:
        node = child(origin, item, findings, f"Sloth SLO {_name_of(item)}")
        if node is None:
            continue
        data = _slo(node, period)
        node.unread()
        if data is not None:
            imported.slos.append(ImportedSLO(service, data, node.origin))
            converted += 1
    if not converted:
        findings.warn(spec.at("slos"), f"service {service!r} has no SLO that could be imported")


def _name_of(item: object) -> str:
    return str(item.get("name", "?")) if isinstance(item, dict) else "?"


def _slo(node: Node, period: str) -> Data | None:
    findings = node.findings
    raw_name = node.text("name", required=True)
    name = faultline_name(node.at("name"), raw_name, findings, "SLO") if raw_name else None
    objective = node.number("objective", required=True)
    description = node.text("description")
    slo_labels = labels(node.at("labels"), node.strings("labels"), findings)
    node.skip("plugins", "Sloth SLO plugins are not imported; Faultline evaluates the SLO itself")
    sli = _sli(node)
    alerting = _alerting(node)
    if name is None or objective is None or sli is None:
        return None
    if not 0 < objective < 100:
        findings.warn(
            node.at("objective"),
            f"objective {objective:g} leaves no error budget (Faultline needs 0 < objective < "
            "100); SLO not imported",
        )
        return None
    data: Data = {"name": name}
    if description:
        data["description"] = description
    data |= {"objective": objective, "period": period, "budgeting": "occurrences"}
    if slo_labels:
        data["labels"] = slo_labels
    group_by = _group_by(node, sli)
    if group_by:
        data["group_by"] = list(group_by)
    data["sli"] = sli
    data["alerting"] = alerting
    return data


def _sli(node: Node) -> Data | None:
    sli = node.mapping("sli", required=True)
    if sli is None:
        return None
    events = sli.mapping("events")
    raw = sli.mapping("raw")
    plugin = sli.mapping("plugin")
    sli.unread()
    if raw is not None:
        key = raw.key("error_ratio_query", "errorRatioQuery")
        raw.text("error_ratio_query", "errorRatioQuery")
        raw.unread()
        node.findings.warn(
            raw.at(key),
            "a raw SLI is a precomputed error ratio, which cannot be turned into event counts "
            "per slice; SLO not imported (rewrite it as events: error_query/total_query)",
        )
    elif plugin is not None:
        plugin.text("id")
        plugin.raw("options")
        plugin.unread()
        node.findings.warn(
            plugin.at("id"),
            "an SLI plugin builds its queries inside Sloth; SLO not imported (write the "
            "plugin's queries as events: error_query/total_query)",
        )
    elif events is None:
        node.findings.error(sli.origin, "an SLI needs events, raw or plugin")
    else:
        return _events(events)
    return None


def _group_by(node: Node, sli: Data) -> tuple[str, ...] | None:
    """The labels both queries aggregate `by`: Sloth's groups (it has no field for them)."""
    events = sli.get("events") or {}
    labels = common_group_labels([events["total"], events["bad"]]) if events else None
    if not labels:
        return None
    origin = node.at("sli", "events")
    taken = reserved(labels)
    if taken:
        node.findings.warn(
            origin,
            f"both queries aggregate by ({phrase(labels)}), so Sloth alerts per group, but "
            f"Faultline sets {phrase(taken)} on every alert itself; imported as one SLO over "
            "all groups (rename the label in the queries to group by it)",
        )
        return None
    node.findings.warn(
        origin,
        f"Sloth has no grouping field, but both queries aggregate by ({phrase(labels)}), so "
        f"Sloth records and alerts per group: imported as `group_by: [{phrase(labels)}]`, a "
        "ledger, budget and alerts per group (at most 500 groups: set `max_groups`)",
    )
    return labels


def _events(events: Node) -> Data | None:
    queries: Data = {}
    roles = (("total", ("total_query", "totalQuery")), ("bad", ("error_query", "errorQuery")))
    for role, names in roles:
        key = events.key(*names)
        text = events.text(*names, required=True)
        query = _window_query(events.at(key), text, events) if text is not None else None
        if query is not None:
            queries[role] = query
    events.unread()
    if len(queries) < len(roles):  # each broken query has been reported
        return None
    queries["unit"] = _unit(queries, events)
    return {"events": queries}


def _window_query(origin: Origin, text: str, node: Node) -> str | None:
    query, reason = normalize_window(text)
    if reason is None and WINDOW_PLACEHOLDER not in query:
        reason = "Sloth queries need the {{.window}} placeholder in their range selector"
    if reason is None:
        message = promql.syntax_error(query)
        reason = None if message is None else f"invalid PromQL: {message}"
    if reason is not None:
        node.findings.warn(origin, f"{reason}; SLO not imported")
        return None
    return query


def _unit(queries: Data, events: Node) -> str:
    """Sloth's queries are rates; a query of counts says so itself (`increase`)."""
    units = {promql.detect_unit(queries["total"]), promql.detect_unit(queries["bad"])}
    if units == {"count"}:
        return "count"
    if units != {"rate"}:
        events.findings.warn(
            events.origin,
            "cannot tell from the queries whether they return rates or counts; imported as "
            "per-second rates (unit: rate), Sloth's convention",
        )
    return "rate"


def _alerting(node: Node) -> Data | str:
    """Sloth's alerting block as a reference to Faultline's default policy."""
    findings = node.findings
    alerting = node.mapping("alerting")
    if alerting is None:
        return "default"
    alerting.skip(
        "name",
        "Faultline names alerts after the SLO and tier; the alert name is not imported",
    )
    for key in ("labels", "annotations"):
        alerting.skip(
            key,
            f"alert {key} have no per-SLO place in Faultline (route on service, severity and SLO "
            f"labels in alerts/); not imported",
        )
    disabled: list[str] = []
    waits: dict[str, tuple[Origin, str]] = {}
    enabled: set[str] = set()
    for keys, tiers in (
        (("page_alert", "pageAlert"), PAGE_TIERS),
        (("ticket_alert", "ticketAlert"), TICKET_TIERS),
    ):
        alert = alerting.mapping(*keys)
        if alert is not None and alert.flag("disable"):
            disabled.extend(tiers)
        else:
            enabled.add(keys[0])
        if alert is None:
            continue
        wait = alert.text("for")
        if wait is not None:
            waits[keys[0]] = (alert.at("for"), wait)
        for key in ("labels", "annotations"):
            alert.skip(
                key,
                f"alert {key} have no per-SLO place in Faultline (route on severity in alerts/); "
                "not imported",
            )
        alert.unread()
    alerting.unread()
    result: Data = {"policy": "default"}
    if disabled:
        result["disabled_tiers"] = disabled
    values = {wait for _, wait in waits.values()}
    if waits and set(waits) == enabled and len(values) == 1 and _duration(values.pop()):
        result["for"] = next(iter(waits.values()))[1]
    else:
        for origin, wait in waits.values():
            findings.warn(
                origin,
                f"`for: {wait}` is not the same valid duration for every enabled alert; Faultline "
                "has one `for` per SLO, so it is not imported (set alerting.for in the SLO, or "
                "`for` on the tiers in alerts/)",
            )
    return result if len(result) > 1 else "default"


def _duration(text: str) -> bool:
    try:
        parse_duration(text)
    except DurationError:
        return False
    return True
