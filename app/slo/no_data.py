"""Why a slice has no data: telling a missing series from a sparse or an old one, and saying so.

A counted query returns no series at a slice end both when its series do not exist and when they
have no sample of their own in the slice (or none before it); a threshold query returns nothing
when its gauge has stopped reporting. The engine tells them apart by asking, only for such
slices, whether the query's first series selector has any sample in the slice or the hour before
it (`presence_query`), and, where not, whether it has one at the latest slice end: then the
source holds the series but nothing from that time (retention, or the series began later).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.slo import counts, promql
from app.slo.counts import LOOKBACK
from app.slo.durations import format_duration, parse_duration
from app.slo.ledger import NoData, NoDataReason, SliceRecord
from app.slo.queries import Signal, SignalRole
from app.slo.sampling import Sampling

_LOOKBACK_SECONDS = parse_duration(LOOKBACK)


def presence_query(signal: Signal, window_seconds: int) -> str | None:
    """`count(last_over_time(S[slice + 1h]))` for the signal's first series selector; None when
    the query has none to ask about."""
    if signal.role is SignalRole.THRESHOLD:
        found = promql.instant_selectors(signal.template)
    else:
        found = counts.windowed_selectors(signal.template)
    if not found:
        return None
    reach = format_duration(window_seconds + _LOOKBACK_SECONDS)
    return f"count(last_over_time({found[0]}[{reach}]))"


def refined(record: SliceRecord, role: SignalRole, present: bool, held_later: bool) -> SliceRecord:
    """The record with its `no-series` reason made precise by what the source holds."""
    if record.no_data is None or record.no_data.reason is not NoDataReason.NO_SERIES:
        return record
    if present:
        reason = (
            NoDataReason.STALE_GAUGE if role is SignalRole.THRESHOLD else NoDataReason.TOO_SPARSE
        )
    elif held_later:
        reason = NoDataReason.OUT_OF_RANGE
    else:
        return record
    return replace(record, no_data=NoData(reason, record.no_data.signal))


_SAYS = {
    NoDataReason.NO_SERIES: "{query} returned no series, and no series it reads exist",
    NoDataReason.TOO_SPARSE: (
        "{query}'s series have no sample of their own in the {slice}, or none before it ({found})"
    ),
    NoDataReason.OUT_OF_RANGE: (
        "the source holds {query}'s series, but no sample from that time "
        "(older than its retention, or before the series began)"
    ),
    NoDataReason.STALE_GAUGE: "{query}'s gauges have no fresh sample inside the {slice}",
    NoDataReason.NOT_FINITE: "{query} returned NaN or ±Inf",
    NoDataReason.OVERFLOW: "{query} counted more than can be added up",
}


def describe(no_data: NoData | None, slice_seconds: int, sampling: Sampling | None) -> str:
    """One sentence for people: what was missing, and what the interval found says."""
    if no_data is None:
        return "no data (the reason was not recorded: slices evaluated by an older version)"
    interval = sampling.interval if sampling is not None else None
    found = (
        f"series sampled every {format_duration(interval)}"
        if interval is not None
        else "sample interval not learned yet"
    )
    return _SAYS[no_data.reason].format(
        query=f"the {no_data.signal} query",
        slice=f"{format_duration(slice_seconds)} slice",
        found=found,
    )


@dataclass(frozen=True)
class NoDataRun:
    """The latest stretch of no-data slices with one reason: slice ends `since` … `last`."""

    no_data: NoData | None
    since: int
    last: int
