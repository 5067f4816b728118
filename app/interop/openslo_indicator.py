"""OpenSLO SLIs (inline `indicator` or `indicatorRef`) to Faultline SLIs.

A `ratioMetric` with `good` or `bad` and `total` is an events SLI; a `thresholdMetric` is a
threshold SLI (its operator and value come from each objective). Only Prometheus-compatible
metric sources are imported, and their queries are made countable per slice where that is safe
(`app.interop.promql_adapt`). A `raw` ratio is already a ratio and cannot be counted: refused
with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.interop.findings import Origin
from app.interop.imported import Data
from app.interop.openslo_index import OpenSLOIndex
from app.interop.promql_adapt import AdaptedQuery, counter_query, gauge_query
from app.interop.reader import Node

# Metric source types that answer PromQL over Prometheus' HTTP API.
PROMETHEUS_TYPES = frozenset(
    {"prometheus", "thanos", "mimir", "cortex", "victoriametrics", "amazonprometheus"}
)


@dataclass(frozen=True)
class Indicator:
    """A Faultline SLI in the making: events queries, or a threshold query awaiting op/value."""

    origin: Origin
    events: Data | None = None
    threshold_query: str | None = None
    description: str | None = None


def resolve_indicator(spec: Node, index: OpenSLOIndex) -> Indicator | None:
    """The SLO's indicator: inline, or the SLI document `indicatorRef` names."""
    findings = spec.findings
    inline = spec.mapping("indicator")
    reference = spec.text("indicatorRef")
    if inline is not None:
        if reference is not None:
            findings.warn(
                spec.at("indicatorRef"),
                "both indicator and indicatorRef are given; the inline indicator is used",
            )
        return _sli(inline, index)
    if reference is None:
        findings.error(spec.at("indicator"), "an SLO needs `indicator` or `indicatorRef`")
        return None
    entry = index.get("SLI", reference)
    if entry is None:
        known = ", ".join(sorted(e.name for e in index.of_kind("SLI"))) or "none"
        findings.error(
            spec.at("indicatorRef"),
            f"indicatorRef {reference!r}: no SLI of that name among the documents (SLIs: {known})",
        )
        return None
    return _sli(index.root(entry), index)


def _sli(node: Node, index: OpenSLOIndex) -> Indicator | None:
    """An SLI object (`metadata` + `spec`), inline or from its own document."""
    meta = node.mapping("metadata")
    if meta is not None:
        # The SLI's name and display name only identify it; the SLO carries the names.
        meta.text("name")
        meta.text("displayName")
        for key in ("labels", "annotations"):
            meta.skip(key, f"SLI {key} are not imported (the SLO's are)")
        meta.unread()
    node.text("kind")  # inline indicators may repeat `kind: SLI`
    spec = node.mapping("spec", required=True)
    node.unread()
    if spec is None:
        return None
    description = spec.text("description")
    ratio = spec.mapping("ratioMetric")
    threshold = spec.mapping("thresholdMetric")
    spec.unread()
    if ratio is not None and threshold is not None:
        spec.findings.error(spec.origin, "give ratioMetric or thresholdMetric, not both")
        return None
    if threshold is not None:
        query = _threshold_query(threshold, index)
        if query is None:
            return None
        return Indicator(spec.origin, threshold_query=query, description=description)
    if ratio is not None:
        events = _ratio(ratio, index)
        return None if events is None else Indicator(spec.origin, events, None, description)
    spec.findings.error(spec.origin, "an SLI needs ratioMetric or thresholdMetric")
    return None


def _threshold_query(threshold: Node, index: OpenSLOIndex) -> str | None:
    located = _metric_query(threshold, index)
    threshold.unread()
    if located is None:
        return None
    origin, text = located
    return _used(origin, gauge_query(text), threshold)


def _ratio(ratio: Node, index: OpenSLOIndex) -> Data | None:
    findings = ratio.findings
    counter = ratio.flag("counter")
    good, bad, total = ratio.mapping("good"), ratio.mapping("bad"), ratio.mapping("total")
    raw = ratio.mapping("raw")
    raw_type = ratio.text("rawType")
    ratio.unread()
    if raw is not None or raw_type is not None:
        findings.warn(
            ratio.at(ratio.key("raw", "rawType")),
            "a raw ratio metric is a precomputed ratio, which cannot be turned into event counts "
            "per slice; SLO not imported (give good or bad, and total)",
        )
        return None
    if good is not None and bad is not None:
        findings.error(ratio.origin, "give good or bad, not both")
        return None
    numerator, role = (bad, "bad") if bad is not None else (good, "good")
    if numerator is None or total is None:
        findings.error(ratio.at("total" if total is None else "good"), "required field is missing")
        return None
    events: Data = {}
    for key, node in (("total", total), (role, numerator)):
        located = _metric_query(node, index)
        node.unread()
        if located is None:
            return None
        origin, text = located
        query = _used(origin, counter_query(text, counter=counter), ratio)
        if query is None:
            return None
        events[key] = query
    return events


def _used(origin: Origin, adapted: AdaptedQuery, node: Node) -> str | None:
    if adapted.reason is not None:
        node.findings.warn(origin, f"{adapted.reason}; SLO not imported")
    elif adapted.note is not None:
        node.findings.warn(origin, adapted.note)
    return adapted.query


def _metric_query(node: Node, index: OpenSLOIndex) -> tuple[Origin, str] | None:
    """The PromQL of a `metricSource`, if it is a Prometheus-compatible source."""
    findings = node.findings
    source = node.mapping("metricSource", required=True)
    if source is None:
        return None
    reference = source.text("metricSourceRef")
    kind = source.text("type")
    spec = source.mapping("spec", required=True)
    source.unread()
    if kind is None and reference is not None:
        entry = index.get("DataSource", reference)
        data = entry.document.data.get("spec") if entry is not None else None
        kind = str(data.get("type")) if isinstance(data, dict) and data.get("type") else None
        if entry is None:
            findings.warn(
                source.at("metricSourceRef"),
                f"no DataSource {reference!r} among the documents; its queries are read as PromQL",
            )
    elif kind is None:
        findings.warn(source.origin, "no metric source type given; the query is read as PromQL")
    if kind is not None and kind.replace(" ", "").lower() not in PROMETHEUS_TYPES:
        findings.warn(
            source.at("type") if source.has("type") else source.at("metricSourceRef"),
            f"metric source type {kind!r}: only Prometheus-compatible sources (PromQL) can be "
            "imported; SLO not imported",
        )
        if spec is not None:
            spec.raw("query")
        return None
    if spec is None:
        return None
    key = spec.key("query", "promql")
    query = spec.text("query", "promql", required=True)
    spec.unread()
    return None if query is None else (spec.at(key), query)
