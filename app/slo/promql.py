"""PromQL in the spec: `{{window}}` rendering, syntax checks and what a query returns.

Parsing uses promql-parser (the Rust parser Prometheus-compatible tools share), so a query that
passes here is one Prometheus will accept, and a query that fails gets the parser's own message.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Literal

import promql_parser

from app.slo.durations import format_duration
from app.slo.spec import WINDOW_PLACEHOLDER

RATE_FUNCTIONS = frozenset({"rate", "irate"})
COUNT_FUNCTIONS = frozenset({"increase", "count_over_time", "sum_over_time"})
_CHILD_ATTRIBUTES = ("expr", "lhs", "rhs", "param")


def render(query: str, window_seconds: int) -> str:
    """Substitute the `{{window}}` placeholder with a Prometheus duration."""
    return query.replace(WINDOW_PLACEHOLDER, format_duration(window_seconds))


def syntax_error(query: str, window_seconds: int = 60) -> str | None:
    """The parser's message if the query (with its window rendered) is not valid PromQL."""
    try:
        promql_parser.parse(render(query, window_seconds))
    except ValueError as error:
        return " ".join(str(error).split()) or "invalid PromQL"
    return None


def nodes(expr: Any) -> Iterator[Any]:
    """The expression and every expression inside it, depth first."""
    yield expr
    for attribute in _CHILD_ATTRIBUTES:
        child = getattr(expr, attribute, None)
        if child is not None and not isinstance(child, str | int | float):
            yield from nodes(child)
    for argument in getattr(expr, "args", None) or ():
        yield from nodes(argument)


@lru_cache(maxsize=8192)  # pure; asked for each counter signal whenever an SLO is evaluated
def function_names(query: str) -> frozenset[str]:
    """Every function a query calls (its `{{window}}` rendered as 1m)."""
    expr = promql_parser.parse(render(query, 60))
    return frozenset(node.func.name for node in nodes(expr) if type(node).__name__ == "Call")


def detect_unit(query: str) -> Literal["rate", "count"] | None:
    """Whether an events query returns per-second rates or counts; None when it cannot tell.

    `rate()`/`irate()` return per-second values (Sloth style) that Faultline multiplies by the
    window; `increase()` returns counts already. A query mixing both is ambiguous.
    """
    names = function_names(query)
    rates, counts = bool(names & RATE_FUNCTIONS), bool(names & COUNT_FUNCTIONS)
    if rates and not counts:
        return "rate"
    if counts and not rates:
        return "count"
    return None


def has_bool_comparison(query: str) -> bool:
    """True when the outermost expression is a `bool` comparison, which is never empty."""
    expr = promql_parser.parse(render(query, 60))
    while type(expr).__name__ == "ParenExpr":
        expr = getattr(expr, "expr")  # noqa: B009 - the stubs do not type ParenExpr.expr
    modifier = getattr(expr, "modifier", None)
    return type(expr).__name__ == "BinaryExpr" and bool(getattr(modifier, "return_bool", False))


def instant_selectors(query: str) -> list[str]:
    """The instant-vector selectors a query reads (not those inside range selectors)."""
    return list(_instant_selectors(query))


@lru_cache(maxsize=8192)  # pure; a threshold SLO's freshness query is built on every evaluation
def _instant_selectors(query: str) -> tuple[str, ...]:
    expr = promql_parser.parse(render(query, 60))
    found = [str(node) for node in nodes(expr) if type(node).__name__ == "VectorSelector"]
    return tuple(dict.fromkeys(found))


def freshness_query(query: str, slice_seconds: int, by: tuple[str, ...] = ()) -> str | None:
    """A query that returns a series only if every series `query` reads was sampled in the slice.

    An instant query returns a gauge's last sample for up to five minutes (Prometheus' lookback);
    without this check a scrape gap would be judged on a stale value instead of as no data. The
    range is one millisecond (Prometheus' resolution) shorter than the slice so that it covers
    `(t - slice, t]` whether the Prometheus version closes range selectors on the left (2.x) or
    not (3.x). Selectors with
    `offset` or `@` read the past on purpose and are not checked. A grouped SLO's counts `by`
    its group labels, so each group is judged on its own series' samples.
    """
    try:
        found = instant_selectors(query)
    except ValueError:  # not PromQL (MetricsQL, for a VictoriaMetrics source): not checked
        return None
    selectors = [
        selector for selector in found if " offset " not in selector and "@" not in selector
    ]
    if not selectors:
        return None
    grouping = f" by ({', '.join(by)})" if by else ""
    return " and ".join(
        f"count{grouping}(count_over_time({selector}[{slice_seconds * 1000 - 1}ms]))"
        for selector in selectors
    )


def le_matcher(le: float) -> str:
    """A regex matching the ways exporters spell a histogram bound (`0.5`, `1`, `1.0`, `1e+06`)."""
    spellings = {repr(float(le)), f"{le:g}", format(le, "g")}
    if float(le).is_integer():
        spellings.add(str(int(le)))
    escaped = sorted(spelling.replace(".", "\\\\.").replace("+", "\\\\+") for spelling in spellings)
    return "|".join(escaped)


def latency_queries(
    histogram: str, selector: str, le: float, by: tuple[str, ...] = ()
) -> tuple[str, str]:
    """(total, good) count queries for a histogram SLI, with a `{{window}}` placeholder;
    summed `by` the labels of a grouped SLO."""
    matchers = selector.strip()[1:-1].strip().rstrip(",") if selector else ""
    bucket_matchers = (
        f'{matchers}, le=~"{le_matcher(le)}"' if matchers else f'le=~"{le_matcher(le)}"'
    )
    summed = f"sum by ({', '.join(by)}) " if by else "sum"
    total = f"{summed}(rate({histogram}_count{{{matchers}}}[{WINDOW_PLACEHOLDER}]))"
    good = f"{summed}(rate({histogram}_bucket{{{bucket_matchers}}}[{WINDOW_PLACEHOLDER}]))"
    return total, good
