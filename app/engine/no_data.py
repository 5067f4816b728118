"""Make a chunk's `no-series` reasons precise by asking the source about the series themselves.

Asked only when a chunk has such slices (a healthy SLO costs nothing more): one range query per
signal over the chunk, and, for slices whose series had no sample within the hour, one point at
the range's last slice end. A question the source does not answer leaves the reason as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from app.slo.ledger import NoDataReason, SliceRecord
from app.slo.no_data import presence_query, refined
from app.slo.queries import Signal
from app.sources.errors import SourceError
from app.sources.signals import SignalReader

log = logging.getLogger(__name__)


def explained(
    source: SignalReader,
    signals: Mapping[str, Signal],
    records: Sequence[SliceRecord],
    last: int,
    step: int,
) -> list[SliceRecord]:
    """`records` (one chunk, in time order) with `no-series` made `too-sparse`, `stale-gauge`
    or `out-of-range` where the source holds the series."""
    wanted = {
        record.no_data.signal
        for record in records
        if record.no_data is not None and record.no_data.reason is NoDataReason.NO_SERIES
    }
    if not wanted:
        return list(records)
    first, chunk_last = records[0].t, records[-1].t
    result = list(records)
    for key in sorted(wanted):
        signal = signals.get(key)
        query = presence_query(signal, step) if signal is not None else None
        if signal is None or query is None:
            continue
        try:
            present = source.query_range(query, first, chunk_last, step)
            later: bool | None = None
            for index, record in enumerate(result):
                if record.no_data is None or record.no_data.signal != key:
                    continue
                held = bool(present.get(record.t))
                if not held and later is None:
                    later = bool(source.query_range(query, last, last, step).get(last))
                result[index] = refined(record, signal.role, held, bool(later))
        except SourceError as error:
            # Best effort: the chunk is written with the reason it has (a deadline or an
            # outage between the read and this question must not cost the chunk itself).
            log.warning("why %s has no data could not be asked: %s", key, error)
    return result
