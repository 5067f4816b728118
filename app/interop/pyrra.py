"""Pyrra `ServiceLevelObjective` resources (`pyrra.dev/v1alpha1`) to Faultline service files.

Pyrra is the one of these formats with grouping: `indicator.ratio.grouping` (and `latency`'s)
names the labels Pyrra keeps, an SLO per value. Its metrics are bare selectors that Pyrra sums
over each window (`sum by (grouping) (rate(metric[window]))`); Faultline writes the same sums
with its `{{window}}`, per-second rates (`unit: rate`), and `grouping` becomes `group_by`.

- `ratio`: `errors` is `bad`, `total` is `total`; `latency`: `success` (a `_bucket{le=...}`
  selector) is `good`, `total` (a `_count`) is `total`;
- `target` (a percentage as a string) is `objective`, `window` is the rolling `period`;
- the service is the resource's namespace (Pyrra has no service), `pyrra` without one;
- Pyrra's burn-rate alerts are the SRE Workbook's multiwindow tiers: the `default` policy;
  `burnrates: false` (or the deprecated `disabled: true`) disables its tiers;
- `latencyNative` and `bool_gauge` indicators, alert names, `absent`, Kubernetes labels and
  `partial_response_strategy` have no Faultline equivalent and are reported.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.interop.findings import Origin
from app.interop.grouping import phrase, reserved
from app.interop.imported import Data, Imported, ImportedSLO
from app.interop.naming import faultline_name
from app.interop.reader import Node
from app.slo import promql
from app.slo.spec import WINDOW_PLACEHOLDER
from app.slo.yamlsource import YamlDocument

PYRRA = ("pyrra.dev/v1alpha1", "ServiceLevelObjective")
DEFAULT_SERVICE = "pyrra"
ALL_TIERS = ["page-fast", "page-slow", "ticket-fast", "ticket-slow"]
# Pyrra's indicator kinds: (Faultline role, Pyrra key) of each metric.
ROLES = {
    "ratio": (("bad", "errors"), ("total", "total")),
    "latency": (("good", "success"), ("total", "total")),
}


def import_pyrra(documents: Sequence[YamlDocument], into: Imported | None = None) -> Imported:
    imported = into or Imported()
    for document in documents:
        data = document.data if isinstance(document.data, dict) else {}
        if (data.get("apiVersion"), data.get("kind")) != PYRRA:
            found = f"{data.get('apiVersion')} {data.get('kind')}".strip()
            imported.findings.error(
                Origin(document, "document"),
                f"not a Pyrra resource: expected {PYRRA[0]} {PYRRA[1]}, found {found or 'neither'}",
            )
            continue
        name = (data.get("metadata") or {}).get("name", "?")
        _resource(Node.root(document, f"Pyrra SLO {name}", imported.findings), imported)
    return imported


def _resource(root: Node, imported: Imported) -> None:
    findings = imported.findings
    root.text("apiVersion")
    root.text("kind")
    root.skip("status", "the resource's status is not imported")
    metadata = root.mapping("metadata", required=True)
    spec = root.mapping("spec", required=True)
    root.unread()
    if metadata is None or spec is None:
        return
    raw_name = metadata.text("name", required=True)
    namespace = metadata.text("namespace")
    metadata.skip("labels", "Kubernetes labels select where Pyrra writes rules; not imported")
    metadata.skip("annotations", "Kubernetes annotations are not imported")
    for key in ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"):
        metadata.skip(key, "Kubernetes object metadata is not imported")
    metadata.unread()
    if namespace is None:
        findings.warn(metadata.origin, f"no namespace: the SLO goes to service {DEFAULT_SERVICE!r}")
    service = faultline_name(
        metadata.at("namespace"), namespace or DEFAULT_SERVICE, findings, "service"
    )
    name = faultline_name(metadata.at("name"), raw_name, findings, "SLO") if raw_name else None
    data = _slo(spec)
    if service is None or name is None or data is None:
        return
    imported.add_service(service, {}, metadata.origin)
    imported.slos.append(ImportedSLO(service, {"name": name, **data}, spec.origin))


def _slo(spec: Node) -> Data | None:
    findings = spec.findings
    description = spec.text("description")
    target = spec.text("target", required=True)
    window = spec.text("window", required=True)
    spec.skip(
        "partial_response_strategy", "Thanos Ruler's partial responses do not apply; not imported"
    )
    indicator = spec.mapping("indicator", required=True)
    alerting = _alerting(spec)
    spec.unread()
    sli = _indicator(indicator) if indicator is not None else None
    objective = _objective(spec, target)
    if sli is None or objective is None or window is None:
        return None
    sli_data, group_by = sli
    data: Data = {"description": description} if description else {}
    data |= {"objective": objective, "period": window, "budgeting": "occurrences"}
    if group_by:
        data["group_by"] = group_by
    data |= {"sli": sli_data, "alerting": alerting}
    if not description:
        findings.warn(spec.origin, "no description: Faultline shows the SLO by its name only")
    return data


def _objective(spec: Node, target: str | None) -> float | None:
    if target is None:
        return None
    try:
        objective = float(target)
    except ValueError:
        spec.findings.error(spec.at("target"), f"target {target!r} is not a number")
        return None
    if not 0 < objective < 100:
        spec.findings.warn(
            spec.at("target"),
            f"target {target} leaves no error budget (Faultline needs 0 < objective < 100); "
            "SLO not imported",
        )
        return None
    return objective


def _indicator(indicator: Node) -> tuple[Data, list[str]] | None:
    findings = indicator.findings
    for kind in ("latencyNative", "bool_gauge"):
        indicator.skip(kind, f"a {kind} indicator has no Faultline equivalent; SLO not imported")
    kinds = [kind for kind in ROLES if indicator.has(kind)]
    nodes = {kind: indicator.mapping(kind) for kind in ROLES}
    indicator.unread()
    if len(kinds) != 1:
        if not indicator.has("latencyNative", "bool_gauge"):
            findings.error(indicator.origin, "an indicator needs one of ratio or latency")
        return None
    node = nodes[kinds[0]]
    if node is None:
        return None
    grouping = [str(label) for _, label in node.sequence("grouping")]
    taken = reserved(grouping)
    if taken:
        findings.warn(
            node.at("grouping"),
            f"Faultline sets {phrase(taken)} on every alert itself, so it cannot group by it; "
            "SLO not imported (relabel the metric to group by another name)",
        )
        return None
    events: Data = {}
    for role, key in ROLES[kinds[0]]:
        metric = node.mapping(key, required=True)
        selector = metric.text("metric", required=True) if metric is not None else None
        if metric is not None:
            metric.unread()
        query = _summed(node, key, selector, grouping)
        if query is None:
            return None
        events[role] = query
    node.unread()
    ordered = {"total": events["total"], **{k: v for k, v in events.items() if k != "total"}}
    return {"events": {**ordered, "unit": "rate"}}, grouping


def _summed(node: Node, key: str, selector: str | None, grouping: list[str]) -> str | None:
    """Pyrra's sum of a selector over a window, as a Faultline query."""
    if selector is None:
        return None
    summed = f"sum by ({', '.join(grouping)}) " if grouping else "sum"
    query = f"{summed}(rate({selector}[{WINDOW_PLACEHOLDER}]))"
    message = promql.syntax_error(query)
    if message is not None:
        node.findings.warn(node.at(key, "metric"), f"invalid PromQL: {message}; SLO not imported")
        return None
    return query


def _alerting(spec: Node) -> Data | str:
    alerting = spec.mapping("alerting")
    if alerting is None:
        return "default"
    for key in ("name", "absentName"):
        alerting.skip(key, "Faultline names alerts after the SLO and tier; not imported")
    absent = alerting.flag("absent")
    if absent is False:
        alerting.findings.warn(
            alerting.at("absent"),
            "Faultline's no-data alert follows the alert policy (`no_data_after`); not imported",
        )
    burnrates, disabled = alerting.flag("burnrates"), alerting.flag("disabled")
    alerting.unread()
    if burnrates is False or disabled is True:
        return {"policy": "default", "disabled_tiers": ALL_TIERS}
    return "default"
