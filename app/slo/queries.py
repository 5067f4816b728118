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
    unit: Unit | None = None  # counters only: how to turn a sample into a count
    mode: str | None = None

    @property
    def counts_events(self) -> bool:
        """Counter signals: their windowed rate()/increase() count differences of samples."""
        return self.role in _COUNTED

    def render(self, window_seconds: int) -> str:
        if self.counts_events:
            return counts.rewrite(self.template, window_seconds).query
        return promql.render(self.template, window_seconds)


def query_unit(spec: SLOSpec, query: str) -> Unit | None:
    """The unit of an events query: the SLI's explicit `unit`, else what the query shows."""
    events = spec.sli.events if spec.sli is not None else None
    if events is not None and events.unit != "auto":
        return events.unit
    return promql.detect_unit(query)


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
                found.append(Signal(role.value, role, query, query_unit(spec, query)))
    elif sli is not None and sli.latency is not None:
        total, good = promql.latency_queries(
            sli.latency.histogram, sli.latency.selector, sli.latency.le
        )
        found.append(Signal("total", SignalRole.TOTAL, total, "rate"))
        found.append(Signal("good", SignalRole.GOOD, good, "rate"))
    elif sli is not None and sli.threshold is not None:
        found.append(Signal("threshold", SignalRole.THRESHOLD, sli.threshold.query))
        freshness = promql.freshness_query(sli.threshold.query, spec.slice_seconds)
        if freshness is not None:
            found.append(Signal("freshness", SignalRole.FRESHNESS, freshness))
    for mode in spec.failure_modes:
        if mode.bad is not None:
            found.append(
                Signal(
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
