"""Grouped SLOs: which labels a query keeps, which failure modes are per group, group keys.

A grouped SLO (`group_by: [route]`) asks each query once for all groups; every series of an
answer belongs to the group its `group_by` labels name. Whether a query keeps those labels is
read from its outer aggregation (`sum by (route) (...)`), so validation can tell before any
data arrives: SLI queries and `bad` counts must keep them; a `when` condition that keeps them
holds per group, one that keeps none of them holds for every group at once (a global `when`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from functools import cached_property
from typing import Any

import promql_parser

from app.slo.definitions import SLODefinition
from app.slo.promql import render
from app.slo.spec import SLOSpec, slo_key

KEY_LENGTH = 200  # of an SLO's or a group's key (`slos.key`)
# A group's identity: its `group_by` label values, in `group_by` order.
GroupKey = tuple[str, ...]
# The labels of the group that counts every group beyond `max_groups`.
OTHER_VALUE = "__other__"

# Functions whose answer keeps no labels of their arguments.
_LABELLESS = frozenset({"vector", "time", "scalar", "pi", "absent", "absent_over_time"})
_SET_OPERATORS = frozenset({"and", "unless"})
_KEEPING_AGGREGATIONS = frozenset({"topk", "bottomk", "limitk", "limit_ratio"})


class ModeScope(StrEnum):
    GROUP = "group"  # its query keeps the group labels: attributed to the group it names
    GLOBAL = "global"  # keeps none of them: holds for every group at once


def kept_labels(query: str) -> frozenset[str] | None:
    """The labels every series of the query's answer carries at most, from its aggregations;
    None when the answer keeps whatever labels the selected series have (no aggregation)."""
    return _labels(promql_parser.parse(render(query, 60)))


def _labels(expr: Any) -> frozenset[str] | None:
    kind = type(expr).__name__
    if kind in ("NumberLiteral", "StringLiteral"):
        return frozenset()
    if kind in ("ParenExpr", "UnaryExpr", "SubqueryExpr"):
        return _labels(expr.expr)
    reading = _READINGS.get(kind)
    # A selector keeps its series' labels; an expression this reading does not know is
    # assumed to keep everything too (so a grouped SLO refuses it rather than guess).
    return None if reading is None else reading(expr)


def _aggregated(expr: Any) -> frozenset[str] | None:
    inner = _labels(expr.expr)
    if str(expr.op) in _KEEPING_AGGREGATIONS:
        return inner
    modifier = expr.modifier
    extra: frozenset[str] = frozenset()
    if str(expr.op) == "count_values" and type(expr.param).__name__ == "StringLiteral":
        extra = frozenset({str(expr.param.val)})
    if modifier is None:
        return extra
    named = frozenset(modifier.labels)
    if str(modifier.type).endswith("By"):
        return named | extra
    return None if inner is None else (inner - named) | extra


def _called(expr: Any) -> frozenset[str] | None:
    name = expr.func.name
    if name in _LABELLESS:
        return frozenset()
    arguments = [a for a in expr.args if type(a).__name__ != "StringLiteral"]
    if not arguments:
        return frozenset()
    found = _labels(arguments[0])
    if name in ("label_replace", "label_join") and found is not None:
        return found | {str(expr.args[1].val)}
    return found


def _combined(expr: Any) -> frozenset[str] | None:
    left, right = _labels(expr.lhs), _labels(expr.rhs)
    if _scalar(expr.lhs):
        return right
    if _scalar(expr.rhs) or str(expr.op) in _SET_OPERATORS:
        return left
    if str(expr.op) == "or":
        return left if right is None else (right if left is None else left & right)
    return _matched(expr, left, right)


def _matched(
    expr: Any, left: frozenset[str] | None, right: frozenset[str] | None
) -> frozenset[str] | None:
    """The labels of vector-vector arithmetic or comparison, by its matching."""
    modifier = expr.modifier
    matching = None if modifier is None else modifier.matching
    card = "" if modifier is None else str(modifier.card)
    extra = frozenset(modifier.group_labels or ()) if modifier is not None else frozenset()
    if card.endswith("OneToMany"):
        return None if right is None else right | extra
    if card.endswith("ManyToOne"):
        return None if left is None else left | extra
    if matching is None:
        return left
    named = frozenset(matching.labels)
    if str(matching.type).endswith("Include"):
        return named
    return None if left is None else left - named


_READINGS: dict[str, Callable[[Any], frozenset[str] | None]] = {
    "AggregateExpr": _aggregated,
    "Call": _called,
    "BinaryExpr": _combined,
}


def _scalar(expr: Any) -> bool:
    kind = type(expr).__name__
    if kind == "ParenExpr":
        return _scalar(expr.expr)
    return kind == "NumberLiteral" or (kind == "Call" and expr.func.name in ("scalar", "time"))


def query_scope(query: str, group_by: tuple[str, ...]) -> ModeScope | None:
    """GROUP when the query keeps every group label, GLOBAL when it keeps none; None when it
    keeps some but not all, or cannot be told (no aggregation): such a query is refused."""
    kept = kept_labels(query)
    if kept is None:
        return None
    if kept >= set(group_by):
        return ModeScope.GROUP
    if not kept & set(group_by):
        return ModeScope.GLOBAL
    return None


def mode_scopes(spec: SLOSpec) -> dict[str, ModeScope]:
    """The scope of each failure mode's `when` in a grouped SLO; a mode with only `bad` is
    per group (validation refuses a `bad` count that does not keep the group labels)."""
    group_by = spec.group_by or ()
    return {
        mode.name: ModeScope.GROUP
        if mode.when is None
        else query_scope(mode.when, group_by) or ModeScope.GROUP
        for mode in spec.failure_modes
    }


def group_of(labels: Mapping[str, str], group_by: tuple[str, ...]) -> GroupKey:
    """The group a series belongs to (a label it lacks reads as empty, as in PromQL)."""
    return tuple(labels.get(name, "") for name in group_by)


def other_group(group_by: tuple[str, ...]) -> GroupKey:
    return tuple(OTHER_VALUE for _ in group_by)


def group_labels(group: GroupKey, group_by: tuple[str, ...]) -> dict[str, str]:
    return dict(zip(group_by, group, strict=True))


def group_slo_key(service: str, slo: str, labels: Mapping[str, str]) -> str:
    """`checkout/success{route="/pay"}`; the "other" group is `checkout/success{__other__}`.
    At most `KEY_LENGTH` characters: a longer key keeps its start and ends with a digest of
    the whole (`bounded_key`), the key its ledger row is stored and looked up under."""
    if labels and all(value == OTHER_VALUE for value in labels.values()):
        return bounded_key(f"{slo_key(service, slo)}{{{OTHER_VALUE}}}")
    matchers = ",".join(f"{name}={json.dumps(value)}" for name, value in labels.items())
    return bounded_key(f"{slo_key(service, slo)}{{{matchers}}}")


def bounded_key(key: str) -> str:
    """The key, shortened with a digest of the whole when a label value makes it too long."""
    if len(key) <= KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"{key[: KEY_LENGTH - 14]}~{digest}}}"


def slo_of(key: str) -> str:
    """The SLO key of a group's key (`checkout/success{route="/pay"}` → `checkout/success`);
    an SLO's key as it is (SLO names have no braces)."""
    return key.split("{", 1)[0]


@dataclass(frozen=True)
class GroupDefinition(SLODefinition):
    """One group of a grouped SLO, as reports see it: the SLO's definition under the group's
    key, with the group's labels added to the SLO's."""

    group: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def key(self) -> str:
        return group_slo_key(self.service, self.spec.name, self.group)

    @property
    def labels(self) -> dict[str, str]:
        return {**self.service_labels, **self.spec.labels, **self.group}


def group_definition(definition: SLODefinition, labels: Mapping[str, str]) -> GroupDefinition:
    # Every field of the SLO's definition, derived rather than listed: one it gains later is
    # not dropped from its groups.
    inherited = {item.name: getattr(definition, item.name) for item in fields(SLODefinition)}
    return GroupDefinition(**inherited, group=dict(labels))
