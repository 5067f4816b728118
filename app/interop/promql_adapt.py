"""Queries from other tools, made into Faultline queries — only where that is safe.

Faultline counts events per slice, so an events query needs a `{{window}}` range
(`sum(rate(x[{{window}}]))`). Sloth writes the same placeholder as `{{.window}}`. OpenSLO queries
usually have no window at all: an instant counter (`sum(x_total{...})`) or a rate over a fixed
range (`sum(rate(x[5m]))`). Both can be counted per slice after a rewrite the warning states;
anything else is refused with the reason, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import promql_parser

from app.slo import promql
from app.slo.spec import WINDOW_PLACEHOLDER

_GO_WINDOW = re.compile(r"\{\{-?\s*\.window\s*-?\}\}")
_WINDOW = re.compile(r"\{\{\s*window\s*\}\}")
_TEMPLATE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_FIXED_RANGE = re.compile(r"\[\s*(?:\d+(?:ms|[smhdwy]))+\s*\]")
_COUNTING_FUNCTIONS = frozenset({"rate", "increase"})
# OpenMetrics names counters `_total`; histograms and summaries expose `_count`, `_sum`, `_bucket`.
_COUNTER_SUFFIXES = ("_total", "_count", "_bucket", "_sum")


@dataclass(frozen=True)
class AdaptedQuery:
    """A query Faultline can use (perhaps rewritten, `note` says how), or why there is none."""

    query: str | None
    note: str | None = None
    reason: str | None = None


def _refused(reason: str) -> AdaptedQuery:
    return AdaptedQuery(None, reason=reason)


def normalize_window(query: str) -> tuple[str, str | None]:
    """`{{.window}}` (Sloth, Go templates) and `{{ window }}` as `{{window}}`; other templates
    are an error, since nothing would fill them in."""
    text = _WINDOW.sub(WINDOW_PLACEHOLDER, _GO_WINDOW.sub(WINDOW_PLACEHOLDER, query.strip()))
    others = [match for match in _TEMPLATE.findall(text) if match != WINDOW_PLACEHOLDER]
    if others:
        return text, f"template variable {others[0]} has no Faultline equivalent"
    return text, None


def _parse(text: str) -> tuple[Any, str | None]:
    try:
        return promql_parser.parse(promql.render(text, 60)), None
    except ValueError as error:
        return None, f"invalid PromQL: {' '.join(str(error).split())}"


def _walk(expr: Any, parent: Any = None) -> Iterator[tuple[Any, Any]]:
    """Every node of a parsed expression with its parent."""
    yield expr, parent
    for attribute in ("expr", "lhs", "rhs", "param", "vector_selector"):
        node = getattr(expr, attribute, None)
        if node is not None and not isinstance(node, str | int | float):
            yield from _walk(node, expr)
    for argument in getattr(expr, "args", None) or ():
        yield from _walk(argument, expr)


def _kind(node: Any) -> str:
    return type(node).__name__


def gauge_query(query: str) -> AdaptedQuery:
    """A threshold query: used as it is, once any placeholder is Faultline's."""
    text, reason = normalize_window(query)
    if reason is None:
        reason = promql.syntax_error(text)
        reason = None if reason is None else f"invalid PromQL: {reason}"
    return _refused(reason) if reason else AdaptedQuery(text)


def counter_query(query: str, *, counter: bool | None) -> AdaptedQuery:
    """An events query that Faultline can count per slice, or the reason it cannot be.

    `counter` is OpenSLO's `ratioMetric.counter`: whether a bare series is a counter (None when
    the document does not say).
    """
    text, reason = normalize_window(query)
    if reason is not None:
        return _refused(reason)
    expr, reason = _parse(text)
    if reason is not None:
        return _refused(reason)
    if WINDOW_PLACEHOLDER in text:
        return AdaptedQuery(text)
    matrices = [node for node, _ in _walk(expr) if _kind(node) == "MatrixSelector"]
    if matrices or any(_kind(node) == "SubqueryExpr" for node, _ in _walk(expr)):
        return _fixed_ranges(text, expr, len(matrices))
    return _bare_counter(expr, counter)


def _fixed_ranges(text: str, expr: Any, count: int) -> AdaptedQuery:
    """`rate(x[5m])` → `rate(x[{{window}}])`: per slice, a rate over the slice is its count."""
    for node, parent in _walk(expr):
        if _kind(node) == "SubqueryExpr":
            return _refused("a subquery cannot be counted per slice")
        if _kind(node) != "MatrixSelector":
            continue
        function = parent.func.name if _kind(parent) == "Call" else None
        if function not in _COUNTING_FUNCTIONS:
            return _refused(
                f"the range selector is read by {function or 'an expression'}(), not rate() or "
                f"increase(), so it does not count events; write the query with a "
                f"{WINDOW_PLACEHOLDER} range"
            )
    ranges = _FIXED_RANGE.findall(text)
    if len(ranges) != count:
        return _refused(
            f"cannot tell the range selectors apart; write the query with a {WINDOW_PLACEHOLDER} "
            f"range"
        )
    rewritten = _FIXED_RANGE.sub(f"[{WINDOW_PLACEHOLDER}]", text)
    shown = ", ".join(sorted({item.replace(" ", "") for item in ranges}))
    return AdaptedQuery(
        rewritten,
        note=f"the query takes a rate over a fixed range ({shown}); Faultline counts events per "
        f"slice, so the range became [{WINDOW_PLACEHOLDER}]: {rewritten}",
    )


def _bare_counter(expr: Any, counter: bool | None) -> AdaptedQuery:
    """`x_total{...}` or `sum(x_total{...})` → `sum(rate(x_total{...}[{{window}}]))`."""
    node = expr
    while _kind(node) == "ParenExpr":
        node = node.expr
    aggregate = None
    if _kind(node) == "AggregateExpr" and str(node.op) == "sum" and node.param is None:
        aggregate = node
        node = node.expr
        while _kind(node) == "ParenExpr":
            node = node.expr
    if _kind(node) != "VectorSelector":
        return _refused(
            "the query has no range selector, so it cannot be counted per slice, and it is not a "
            f"plain counter Faultline could wrap in rate(); write it with a {WINDOW_PLACEHOLDER} "
            f"range, e.g. sum(rate(x_total[{WINDOW_PLACEHOLDER}]))"
        )
    name = node.name or ""
    if counter is False:
        return _refused(
            "ratioMetric.counter is false: a gauge cannot be counted per slice; write the query "
            f"with a {WINDOW_PLACEHOLDER} range"
        )
    if counter is None and not name.endswith(_COUNTER_SUFFIXES):
        return _refused(
            f"the query has no range selector and {name or 'the series'} is not known to be a "
            "counter (set ratioMetric.counter: true, or write the query with a "
            f"{WINDOW_PLACEHOLDER} range)"
        )
    selector = str(node)
    inner = f"rate({selector.removesuffix('{}')}[{WINDOW_PLACEHOLDER}])"
    rewritten = f"sum({inner})"
    modifier = aggregate.modifier if aggregate is not None else None
    if modifier is not None:
        grouping = "without" if "without" in str(modifier.type).lower() else "by"
        rewritten = f"sum {grouping} ({', '.join(modifier.labels)}) ({inner})"
    why = "ratioMetric.counter is true" if counter else f"{name} is named as a counter"
    return AdaptedQuery(
        rewritten,
        note=f"the query reads a counter without a range ({why}); Faultline counts events per "
        f"slice, so it became {rewritten}",
    )
