"""PromQL for Prometheus-side alerting: per-window error ratios and event counts of one SLO.

Ratios are computed from counts over each window, `sum(bad over w) / sum(total over w)`, never
as averages of short-window ratios (an average of ratios weighs a quiet minute like a busy one).
A query the spec writes as a rate (`rate(x[{{window}}])`) is rendered with the window itself, so
`sum(rate(bad[1h])) / sum(rate(total[1h]))` is exactly `increase(bad) / increase(total)` over
the hour; rates and counts are only converted (× window seconds) when one SLO mixes them.

The expressions follow the ledger's rules: series are summed, a `bad` query without series
means zero bad events, a threshold slice is bad when any series breaks the condition, and an SLI
without series has no data (the recorded series is absent, which the no-data alert watches).

A grouped SLO (`group_by`) sums `by` its group labels instead, so every expression answers one
series per group, and a group's ratio is its own bad over its own total; a group without `bad`
series counts zero bad events (`or (total * 0)`, which keeps the group's labels, where an
ungrouped SLO uses `or vector(0)`). A grouped threshold's slice is bad per group (`max by`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import promql_parser

from app.slo import promql
from app.slo.queries import Unit, query_unit
from app.slo.spec import Budgeting, SLOSpec, ThresholdOp

# The condition that makes a threshold slice bad: the negation of the SLI's `op`.
_NEGATED = {
    ThresholdOp.LT: ">=",
    ThresholdOp.LE: ">",
    ThresholdOp.GT: "<=",
    ThresholdOp.GE: "<",
    ThresholdOp.EQ: "!=",
    ThresholdOp.NE: "==",
}


def number(value: float) -> str:
    """A PromQL literal without float noise (`0.001`, `14.4`)."""
    return f"{value:.10g}"


@cache
def _aggregation(query: str) -> str | None:
    """The outermost aggregation (`sum`, `max`, …) when it has no `by`/`without`: the query
    then returns one series and needs no aggregation around it."""
    expr = promql_parser.parse(promql.render(query, 60))
    if isinstance(expr, promql_parser.AggregateExpr) and not expr.modifier:
        return str(expr.op)
    return None


@cache
def _summed_by(query: str) -> frozenset[str] | None:
    """The labels of an outermost `sum by (...)`; None for any other query."""
    expr = promql_parser.parse(promql.render(query, 60))
    if (
        isinstance(expr, promql_parser.AggregateExpr)
        and str(expr.op) == "sum"
        and expr.modifier is not None
        and str(expr.modifier.type).endswith("By")
    ):
        return frozenset(expr.modifier.labels)
    return None


def summed(query: str, rendered: str, by: tuple[str, ...] = ()) -> str:
    """`rendered` (the query with its window) summed to one series, or one per group of `by`;
    a query already summed that way is kept as it is."""
    if by:
        if _summed_by(query) == frozenset(by):
            return rendered
        return f"sum by ({', '.join(by)}) ({rendered})"
    return rendered if _aggregation(query) == "sum" else f"sum({rendered})"


@dataclass(frozen=True)
class Counter:
    """One events query and whether it returns a per-second rate or a count."""

    query: str
    unit: Unit
    by: tuple[str, ...] = ()  # a grouped SLO's group labels

    def over(self, window: int, unit: Unit) -> str:
        """`sum(...)` (per group: `sum by (...)`) of the query over `window`, in `unit`."""
        expr = summed(self.query, promql.render(self.query, window), self.by)
        if self.unit == unit:
            return expr
        if unit == "count":
            return f"({expr} * {window})"
        return f"({expr} / {window})"


@dataclass(frozen=True)
class EventsSignals:
    """Total and bad of an events or latency SLI (bad from `bad`, `total - good`, or modes)."""

    total: Counter
    bad: Counter | None = None
    good: Counter | None = None
    mode_bad: tuple[Counter, ...] = ()

    @property
    def unit(self) -> Unit:
        """The unit ratios are computed in: shared by all queries, or counts when they mix."""
        units = {c.unit for c in (self.total, self.bad, self.good, *self.mode_bad) if c}
        return units.pop() if len(units) == 1 else "count"

    def total_over(self, window: int, unit: Unit | None = None) -> str:
        return self.total.over(window, unit or self.unit)

    def bad_over(self, window: int) -> str:
        unit = self.unit
        # No series until the first failure ever happens: that is zero bad events (per group:
        # zero for each group that has a total, with its labels).
        zero = f"({self.total_over(window)} * 0)" if self.total.by else "vector(0)"
        if self.bad is not None:
            return f"({self.bad.over(window, unit)} or {zero})"
        if self.good is not None:
            return f"({self.total_over(window)} - {self.good.over(window, unit)})"
        parts = [f"({mode.over(window, unit)} or {zero})" for mode in self.mode_bad]
        return "(" + " + ".join(parts) + ")"

    def error_ratio(self, window: int) -> str:
        return f"{self.bad_over(window)} / {self.total_over(window)}"


def events_signals(spec: SLOSpec) -> EventsSignals | None:
    """The counters of an events or latency SLI; None for a threshold SLI."""
    sli = spec.sli
    if sli is None:
        return None
    by = spec.group_by or ()
    if sli.latency is not None:
        requests, fast = promql.latency_queries(
            sli.latency.histogram, sli.latency.selector, sli.latency.le, by
        )
        return EventsSignals(Counter(requests, "rate", by), good=Counter(fast, "rate", by))
    events = sli.events
    if events is None:
        return None

    def counter(query: str | None) -> Counter | None:
        return None if query is None else Counter(query, _unit(spec, query), by)

    total = Counter(events.total, _unit(spec, events.total), by)
    modes = tuple(
        c for c in (counter(mode.bad) for mode in spec.failure_modes if mode.bad) if c is not None
    )
    return EventsSignals(total, bad=counter(events.bad), good=counter(events.good), mode_bad=modes)


def _unit(spec: SLOSpec, query: str) -> Unit:
    unit = query_unit(spec, query)
    if unit is None:  # validation refuses such specs; stay safe anyway
        raise ValueError(f"cannot tell whether {query!r} is a rate or a count")
    return unit


def bad_slice(spec: SLOSpec) -> str:
    """1 when the slice ending now is bad, 0 when good, no sample when there is no data."""
    sli = spec.sli
    assert sli is not None
    if sli.threshold is not None:
        query, op = sli.threshold.query, _NEGATED[sli.threshold.op]
        bound = number(sli.threshold.value)
        if spec.group_by:  # a group's slice is bad when any of its series breaks the condition
            return f"max by ({', '.join(spec.group_by)}) (({query}) {op} bool {bound})"
        return (
            f"{query} {op} bool {bound}"
            if _aggregation(query)
            else f"max(({query}) {op} bool {bound})"
        )
    signals = events_signals(spec)
    assert signals is not None and spec.slice_target is not None
    allowed = 1.0 - spec.slice_target / 100.0
    return f"({signals.error_ratio(spec.slice_seconds)}) > bool {number(allowed)}"


def is_timeslices(spec: SLOSpec) -> bool:
    return spec.effective_budgeting is Budgeting.TIMESLICES
