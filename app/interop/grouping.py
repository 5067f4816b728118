"""Grouping in other tools' formats, which have no `group_by` field of their own.

Sloth has none: an SLO is per group when its queries aggregate `by` labels (the recorded ratios
keep them, so Sloth's rules and alerts are per group; its UI infers the group labels the same
way, slok/sloth#726). OpenSLO v1 has none either, and says nothing of what such queries mean;
Faultline's own export keeps `group_by` in an annotation. So both importers read the labels
every SLI query keeps: Sloth's SLOs take them as `group_by`, OpenSLO's are noted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import promql_parser

from app.interop import openslo_annotations as notes
from app.slo import promql
from app.slo.groups import kept_labels
from app.slo.validate_groups import ALERT_LABELS

if TYPE_CHECKING:
    from app.interop.reader import Node


def common_group_labels(queries: Sequence[str]) -> tuple[str, ...] | None:
    """The labels every query keeps, when all keep the same ones and some (in the order of the
    first query's `by`); None when a query keeps none, keeps others, or is not aggregated."""
    kept: list[frozenset[str]] = []
    for query in queries:
        try:
            labels = kept_labels(query)
        except ValueError:
            return None
        if not labels:
            return None
        kept.append(labels)
    if not kept or any(labels != kept[0] for labels in kept):
        return None
    return _ordered(queries[0], kept[0])


def _ordered(query: str, labels: frozenset[str]) -> tuple[str, ...]:
    expr = promql_parser.parse(promql.render(query, 60))
    modifier = getattr(expr, "modifier", None)
    written = [str(label) for label in getattr(modifier, "labels", None) or ()]
    first = [label for label in written if label in labels]
    return (*first, *sorted(labels - set(first)))


def reserved(labels: Sequence[str]) -> list[str]:
    """Those of `labels` Faultline sets on alerts itself (a group label may not be one)."""
    return [label for label in labels if label in ALERT_LABELS]


def phrase(labels: Sequence[str]) -> str:
    return ", ".join(labels)


def openslo_grouping(node: Node, ours: dict[str, str], queries: Sequence[str]) -> dict[str, Any]:
    """`group_by` and `max_groups` of an OpenSLO SLO: from Faultline's annotations, which only
    its own export writes; queries that keep labels without them are noted, not grouped (OpenSLO
    v1 does not say what they mean)."""
    group_by = notes.read_json(node, ours, notes.GROUP_BY)
    if group_by is not None:
        if not isinstance(group_by, list) or not all(isinstance(x, str) for x in group_by):
            node.findings.warn(
                node.at("metadata", "annotations", notes.GROUP_BY),
                "not a JSON list of label names; not imported",
            )
            return {}
        found: dict[str, Any] = {"group_by": group_by}
        if notes.MAX_GROUPS in ours:
            try:
                found["max_groups"] = int(ours[notes.MAX_GROUPS])
            except ValueError:
                node.findings.warn(
                    node.at("metadata", "annotations", notes.MAX_GROUPS),
                    "not a whole number; not imported (the default bound applies)",
                )
        return found
    labels = common_group_labels(queries) if queries else None
    if labels:
        node.findings.warn(
            node.at("spec"),
            f"the queries aggregate by ({phrase(labels)}), but OpenSLO v1 has no grouping: "
            f"imported as one SLO over every {phrase(labels)} (their series summed); for a "
            f"budget per group, add `group_by: [{phrase(labels)}]` to it",
        )
    return {}
