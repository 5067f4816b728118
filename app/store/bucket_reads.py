"""Bucketed reads of one SLO's ledger: per-bucket totals for incidents and charts, and the
exact bad of whole five-minute spans, from the five-minute rollups where buckets allow."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, and_, func, select

from app.slo.ledger import SliceStatus
from app.slo.windows import Window, align_up
from app.store import rollup_reads
from app.store.rollups import FIVE_MINUTES as FIVE
from app.store.tables import fivemin, slices


def five_minute_bad(connection: Connection, slo_id: int, spans: Sequence[Window]) -> list[float]:
    """The bad total of each span from the five-minute rollups (spans of whole five-minute
    buckets: exact, summed in Python's order rather than the database's)."""
    if not spans:
        return []
    ranges = [(span.start, span.end) for span in spans]
    rows = connection.execute(
        _five_minute_bad_statement(len(ranges)), rollup_reads.span_parameters([slo_id], ranges)
    )
    found = {int(end): float(bad) for end, bad in rows}
    ends = sorted(found)
    return [
        math.fsum(found[end] for end in ends[bisect_right(ends, lo) : bisect_right(ends, hi)])
        for lo, hi in ranges
    ]


@cache
def _five_minute_bad_statement(spans: int) -> Any:
    return select(fivemin.c.bucket, fivemin.c.bad).where(
        rollup_reads.any_range(fivemin.c.slo_id, fivemin.c.bucket, spans)
    )


def bucket_totals(
    connection: Connection,
    slo_id: int,
    window: Window,
    bucket: int,
    burning_above: float | None = None,
) -> list[tuple[int, float, float, int]]:
    """(bucket end, total, bad, counted slices) per bucket of `bucket` seconds, aligned to
    multiples of it, summed by the database; modes not included.

    When buckets are whole five minutes the middle of the window comes from the five-minute
    rollups (a 30-day period is 8,640 rows instead of 43,200 slices) and only the ragged ends
    from slices.
    """

    def keep(rows: list[tuple[int, float, float, int]]) -> list[tuple[int, float, float, int]]:
        if burning_above is None:
            return rows
        return [row for row in rows if row[1] > 0 and row[2] > row[1] * burning_above]

    first, last = align_up(window.start, FIVE), window.end - window.end % FIVE
    if bucket % FIVE or last <= first:
        return keep(_slice_buckets(connection, slo_id, window, bucket))
    merged: dict[int, list[float]] = {}
    parts = [
        _slice_buckets(connection, slo_id, Window(window.start, first), bucket),
        rollup_reads.coarse_buckets(connection, slo_id, Window(first, last), bucket, burning_above),
        _slice_buckets(connection, slo_id, Window(last, window.end), bucket),
    ]
    for part in parts:
        for end, total, bad, count in part:
            row = merged.setdefault(end, [0.0, 0.0, 0])
            row[0] += total
            row[1] += bad
            row[2] += count
    return keep([(end, row[0], row[1], int(row[2])) for end, row in sorted(merged.items())])


def _slice_buckets(
    connection: Connection, slo_id: int, window: Window, bucket: int
) -> list[tuple[int, float, float, int]]:
    if window.seconds <= 0:
        return []
    bucket_end = ((slices.c.t + (bucket - 1)) // bucket) * bucket
    counted = and_(slices.c.status == SliceStatus.OK.value, slices.c.excluded.is_(False))
    rows = connection.execute(
        select(
            bucket_end.label("bucket"),
            func.sum(slices.c.total).filter(counted),
            func.sum(slices.c.bad).filter(counted),
            func.count().filter(counted),
        )
        .where(slices.c.slo_id == slo_id, slices.c.t > window.start, slices.c.t <= window.end)
        .group_by("bucket")
        .order_by("bucket")
    )
    return [(int(end), total or 0.0, bad or 0.0, count) for end, total, bad, count in rows]
