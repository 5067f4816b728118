"""Definitions on the slice their series' sample intervals allow (see `app.slo.sampling`)."""

from __future__ import annotations

from dataclasses import replace

from app.slo import counts, promql
from app.slo.definitions import SLODefinition
from app.slo.queries import SignalRole, signals
from app.slo.sampling import IntervalOrigin, Sampling


def interval_selector(definition: SLODefinition) -> str | None:
    """One selector whose samples stand for the SLI's: the first counter it counts, else the
    first gauge of its threshold query."""
    for signal in signals(definition.spec):
        if signal.role in (SignalRole.TOTAL, SignalRole.GOOD, SignalRole.BAD):
            found = counts.windowed_selectors(signal.template)
            if found:
                return found[0]
        if signal.role is SignalRole.THRESHOLD:
            found = promql.instant_selectors(signal.template)
            if found:
                return found[0]
    return None


def sampling_for(
    definition: SLODefinition, learned: int | None, source_interval: int | None
) -> Sampling:
    """The SLO's sampling: its own `scrape_interval:`, else the source's, else `learned`."""
    spec = definition.spec
    configured = definition.sampling.configured_slice if definition.sampling else spec.slice_seconds
    if spec.scrape_interval is not None:
        return Sampling(configured, spec.scrape_interval, IntervalOrigin.YAML)
    if source_interval is not None:
        return Sampling(configured, source_interval, IntervalOrigin.SOURCE)
    origin = IntervalOrigin.DATA if learned is not None else IntervalOrigin.UNKNOWN
    return Sampling(configured, learned, origin)


def with_sampling(definition: SLODefinition, sampling: Sampling) -> SLODefinition:
    """The definition evaluated on the effective slice, with its sampling attached."""
    spec = definition.spec.model_copy(update={"slice_seconds": sampling.effective_slice})
    return replace(definition, spec=spec, sampling=sampling)
