"""The PromQL signals one SLO evaluates at every slice end, and what each one means.

Every signal of an SLO is evaluated at the same timestamp, so good and total never skew.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from app.slo import counts, promql
from app.slo.spec import SLOSpec

Unit = Literal["rate", "count"]


class SignalRole(StrEnum):
    TOTAL = "total"
    BAD = "bad"
    GOOD = "good"
    THRESHOLD = "threshold"
    FRESHNESS = "freshness"
    MODE_BAD = "mode_bad"
    MODE_WHEN = "mode_when"


_COUNTED = frozenset({SignalRole.TOTAL, SignalRole.BAD, SignalRole.GOOD, SignalRole.MODE_BAD})


@dataclass(frozen=True)
class Signal:
    """One query of an SLO. `key` is unique within the SLO (`total`, `mode:payment-timeout:bad`)."""

    key: str
    role: SignalRole
    template: str
    unit: Unit | None = None  # counters only: how to turn what the rendered query returns
    mode: str | None = None  # into a count
    template_unit: Unit | None = None  # what the query as written returns

    @property
    def counts_events(self) -> bool:
        """Counter signals: their windowed rate()/increase() count differences of samples."""
        return self.role in _COUNTED

    def render(self, window_seconds: int, *, closed_ranges: bool = True) -> str:
        """The query at one window; `closed_ranges` as in `counts.sample_increase`."""
        if self.counts_events:
            per_second = self.unit != "count" or self.template_unit != "rate"
            return counts.rewrite(
                self.template, window_seconds, per_second=per_second, closed_ranges=closed_ranges
            ).query
        return promql.render(self.template, window_seconds)


def query_unit(spec: SLOSpec, query: str) -> Unit | None:
    """The unit of an events query: the SLI's explicit `unit`, else what the query shows."""
    events = spec.sli.events if spec.sli is not None else None
    if events is not None and events.unit != "auto":
        return events.unit
    return promql.detect_unit(query)


def counter_signal(
    key: str, role: SignalRole, template: str, unit: Unit | None, mode: str | None = None
) -> Signal:
    """A counter signal. A per-second query whose every rate() counts sample differences
    returns counts once rendered (see `counts.rewrite`); its unit says so."""
    rendered_unit = unit
    if unit == "rate":
        rewritten = counts.rewrite(template, 60, per_second=False)
        if rewritten.calls and not promql.function_names(rewritten.query) & promql.RATE_FUNCTIONS:
            rendered_unit = "count"
    return Signal(key, role, template, rendered_unit, mode, template_unit=unit)


def signals(spec: SLOSpec) -> tuple[Signal, ...]:
    """All queries of an SLO, in a stable order. Assumes a validated spec."""
    found: list[Signal] = []
    sli = spec.sli
    if sli is not None and sli.events is not None:
        for role, query in (
            (SignalRole.TOTAL, sli.events.total),
            (SignalRole.BAD, sli.events.bad),
            (SignalRole.GOOD, sli.events.good),
        ):
            if query is not None:
                found.append(counter_signal(role.value, role, query, query_unit(spec, query)))
    elif sli is not None and sli.latency is not None:
        total, good = promql.latency_queries(
            sli.latency.histogram, sli.latency.selector, sli.latency.le, spec.group_by or ()
        )
        found.append(counter_signal("total", SignalRole.TOTAL, total, "rate"))
        found.append(counter_signal("good", SignalRole.GOOD, good, "rate"))
    elif sli is not None and sli.threshold is not None:
        found.append(Signal("threshold", SignalRole.THRESHOLD, sli.threshold.query))
        freshness = promql.freshness_query(
            sli.threshold.query, spec.slice_seconds, spec.group_by or ()
        )
        if freshness is not None:
            found.append(Signal("freshness", SignalRole.FRESHNESS, freshness))
    for mode in spec.failure_modes:
        if mode.bad is not None:
            found.append(
                counter_signal(
                    f"mode:{mode.name}:bad",
                    SignalRole.MODE_BAD,
                    mode.bad,
                    query_unit(spec, mode.bad),
                    mode.name,
                )
            )
        if mode.when is not None:
            found.append(
                Signal(f"mode:{mode.name}:when", SignalRole.MODE_WHEN, mode.when, None, mode.name)
            )
    return tuple(found)
