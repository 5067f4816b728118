"""The ledger a replay judges: slices where alerts may move, five-minute rollups elsewhere.

`load` reads the rollups of the range (and of the longest alert window before it), asks
`app.alerting.replay_plan` which buckets any rule of either side may hold in, and reads slices
only for those buckets and the far edges of their windows. A cap, or windows and slices that do
not line up with five-minute buckets, read every slice instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection

from app.alerting.conditions import AlertRule
from app.alerting.replay_plan import (
    BUCKET,
    detailed_buckets,
    plannable,
    spans_of,
    windows_read,
)
from app.slo.definitions import SLODefinition
from app.slo.series import Ints, SliceSeries, merge
from app.slo.whatif import ModeEdit, edit_series
from app.slo.windows import Window, align_up
from app.store.series_reads import read_buckets, read_series

MAX_SPANS = 200  # beyond this many separate spans, one read of the whole range is cheaper


@dataclass(frozen=True)
class Loaded:
    actual: SliceSeries
    changed: SliceSeries
    judged: Ints  # slice ends to judge (outside them no rule can change its standing)
    slices: int  # stored slices in the range


def load(
    connection: Connection,
    slo_id: int,
    window: Window,
    first: int,
    sides: Sequence[tuple[SLODefinition, Sequence[AlertRule]]],
    edits: Sequence[ModeEdit],
    *,
    modes: Sequence[str],
    every_slice: bool,
    incident_bucket: int,
) -> Loaded:
    """Both sides' series over `(first, window.end]`; `modes`: the credit to read."""
    lengths = [s for _, rules in sides for rule in rules for s in windows_read(rule)]
    slice_seconds = {definition.spec.slice_seconds for definition, _ in sides}
    if every_slice or not all(plannable(s, lengths, incident_bucket) for s in slice_seconds):
        series = read_series(connection, slo_id, Window(first, window.end), modes)
        inside = (series.t > window.start) & (series.t <= window.end)
        return Loaded(series, edit_series(series, edits), series.t[inside], _stored(series, window))
    coarse = read_buckets(
        connection, slo_id, Window(first - BUCKET, align_up(window.end, BUCKET)), modes
    )
    edited = edit_series(coarse, edits)
    planned = [(d, rules, coarse if i == 0 else edited) for i, (d, rules) in enumerate(sides)]
    judged_buckets, reads = detailed_buckets(window, planned)
    spans = [(lo, min(hi, window.end)) for lo, hi in spans_of(reads) if lo < window.end]
    fine = read_series(
        connection,
        slo_id,
        Window(first, window.end),
        modes,
        spans=None if len(spans) > MAX_SPANS else spans,
    )
    series = merge(coarse, fine, reads, BUCKET)
    bucket_of = -(-fine.t // BUCKET) * BUCKET
    judged = fine.t[
        np.isin(bucket_of, judged_buckets) & (fine.t > window.start) & (fine.t <= window.end)
    ]
    return Loaded(series, edit_series(series, edits), judged, _stored(series, window))


def _stored(series: SliceSeries, window: Window) -> int:
    inside = (series.t > window.start) & (series.t <= window.end)
    return int((series.counted + series.no_data + series.excluded)[inside].sum())
