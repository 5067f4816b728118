"""Learn each SLO's sample interval from the source and evaluate it on a slice that fits.

One small query per distinct selector (SLOs reading the same series share it), asked by a tick
before it evaluates (registering definitions asks nothing, so startup and reloads never wait on
the source). An SLO whose interval cannot be learned yet (no hour of samples, the source down)
keeps its configured slice and is asked about again at the next tick, until it is known.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

from app.slo.definitions import DefinitionSet, SLODefinition
from app.slo.sampled import interval_selector, sampling_for, with_sampling
from app.slo.sampling import (
    LEARNING_LOOKBACK,
    LEARNING_STEP,
    IntervalOrigin,
    interval_from_counts,
    interval_query,
)
from app.sources.errors import (
    MalformedAnswerError,
    QueryCancelledError,
    QueryError,
    SourceUnavailableError,
)
from app.sources.signals import SignalSource

log = logging.getLogger(__name__)


def learn_sampling(
    source: SignalSource,
    declared: DefinitionSet,
    now: int,
    source_interval: int | None = None,
    known: Mapping[str, SLODefinition] | None = None,
    deadline: float | None = None,
    ask: bool = True,
) -> DefinitionSet:
    """`declared` with every SLO on its effective slice. Intervals already learned in `known`
    (the previous result) are kept, so only unknown ones cost a query (none without `ask`); no
    query runs past `deadline` (a `time.monotonic()` instant)."""
    learned: dict[str, int | None] = {}
    asking = ask  # until the source is found unavailable: then nobody else would answer
    slos = []
    for definition in declared.slos:
        previous = known.get(definition.key) if known is not None else None
        interval = _known_interval(previous, definition)
        if interval is None and definition.spec.scrape_interval is None and not source_interval:
            selector = interval_selector(definition)
            if selector is not None and asking:
                if selector not in learned:
                    try:
                        learned[selector] = _ask(source, selector, now, deadline)
                    except (SourceUnavailableError, QueryCancelledError) as error:
                        log.warning("sample intervals not learned yet: %s", error)
                        asking = False
                interval = learned.get(selector)
        sampling = sampling_for(definition, interval, source_interval)
        if sampling.coarsened and (previous is None or previous.sampling != sampling):
            log.info(
                "%s: series sampled every %ss; evaluated on %ss slices instead of %ss",
                definition.key,
                sampling.interval,
                sampling.effective_slice,
                sampling.configured_slice,
            )
        slos.append(with_sampling(definition, sampling))
    return replace(declared, slos=tuple(slos))


def unknown(definitions: DefinitionSet) -> bool:
    """Whether some SLO's interval is still to be learned."""
    return any(
        slo.sampling is not None and slo.sampling.origin is IntervalOrigin.UNKNOWN
        for slo in definitions.slos
    )


def _known_interval(previous: SLODefinition | None, definition: SLODefinition) -> int | None:
    if previous is None or previous.sampling is None:
        return None
    if previous.sampling.origin is not IntervalOrigin.DATA:
        return None
    if interval_selector(previous) != interval_selector(definition):
        return None
    return previous.sampling.interval


def _ask(source: SignalSource, selector: str, now: int, deadline: float | None) -> int | None:
    """The interval of the densest series of `selector` over the last hours, or None. An
    unavailable source raises `SourceUnavailableError`, a passed deadline `QueryCancelledError`."""
    query = interval_query(selector)
    try:
        answer = source.query_range(
            query, now - LEARNING_LOOKBACK, now, LEARNING_STEP, deadline=deadline
        )
    except (QueryError, MalformedAnswerError) as error:
        log.warning("could not learn the sample interval of %s: %s", selector, error)
        return None
    return interval_from_counts(value for values in answer.values() for value in values)
