"""Read models for charts and rankings: ledger buckets over a range, attribution across SLOs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from app.slo.ledger import SliceRecord, WindowTotals
from app.slo.windows import Window, align_up
from app.store import rollup_reads, rollups
from app.store.ledger import HOUR, read_slices
from app.store.tables import failure_modes, hourly, hourly_modes, slos


def buckets(
    connection: Connection, slo_id: int, window: Window, resolution: int
) -> list[tuple[int, WindowTotals]]:
    """(bucket end, totals with per-mode credit) for every bucket of `resolution` in `window`.

    The coarsest rollup that fits (hours, then five minutes) is summed by the database; other
    resolutions or unaligned windows are summed from slices. Buckets without any slice are left
    out.
    """
    for level in rollups.LEVELS:
        size = level.size
        if resolution % size == 0 and window.start % size == 0 and window.end % size == 0:
            return sorted(
                rollup_reads.grouped(connection, slo_id, level, window, resolution).items()
            )
    members: dict[int, list[SliceRecord]] = {}
    for record in read_slices(connection, slo_id, window):
        end = align_up(record.t - window.start, resolution) + window.start
        members.setdefault(end, []).append(record)
    return sorted((end, WindowTotals.of(records)) for end, records in members.items())


@dataclass(frozen=True)
class ModeSpend:
    slo_key: str
    failure_mode: str
    design_choice: str
    dependency: str | None
    credited: float


@dataclass(frozen=True)
class SLOSpend:
    slo_key: str
    total: float
    bad: float
    unattributed: float


def spend_by_mode(
    connection: Connection, window: Window, slo_keys: Sequence[str] | None = None
) -> tuple[list[SLOSpend], list[ModeSpend]]:
    """Per-SLO totals and per-mode credit over whole hours of `window`, summed in SQL."""
    hours = Window(align_up(window.start, HOUR), window.end - window.end % HOUR)
    in_range = (hourly.c.hour > hours.start) & (hourly.c.hour <= hours.end)
    totals_query = (
        select(
            slos.c.key,
            func.sum(hourly.c.total),
            func.sum(hourly.c.bad),
            func.sum(hourly.c.unattributed),
        )
        .join(slos, slos.c.id == hourly.c.slo_id)
        # SLOs only: a grouped SLO's groups are in its own sums already.
        .where(in_range, slos.c.active.is_(True), slos.c.parent_id.is_(None))
        .group_by(slos.c.key)
    )
    mode_range = (hourly_modes.c.hour > hours.start) & (hourly_modes.c.hour <= hours.end)
    modes_query = (
        select(
            slos.c.key,
            hourly_modes.c.mode,
            failure_modes.c.design_choice,
            failure_modes.c.dependency,
            func.sum(hourly_modes.c.credited),
        )
        .join(slos, slos.c.id == hourly_modes.c.slo_id)
        .join(
            failure_modes,
            (failure_modes.c.slo_id == hourly_modes.c.slo_id)
            & (failure_modes.c.name == hourly_modes.c.mode),
        )
        .where(mode_range, slos.c.active.is_(True))
        .group_by(
            slos.c.key,
            hourly_modes.c.mode,
            failure_modes.c.design_choice,
            failure_modes.c.dependency,
        )
    )
    if slo_keys is not None:
        totals_query = totals_query.where(slos.c.key.in_(slo_keys))
        modes_query = modes_query.where(slos.c.key.in_(slo_keys))
    spends = [
        SLOSpend(key, total or 0.0, bad or 0.0, unattributed or 0.0)
        for key, total, bad, unattributed in connection.execute(totals_query)
    ]
    modes = [
        ModeSpend(key, mode, design_choice, dependency, credited or 0.0)
        for key, mode, design_choice, dependency, credited in connection.execute(modes_query)
    ]
    return spends, modes


def hourly_bucket_sums(
    connection: Connection, slo_ids: Sequence[int], window: Window, step: int
) -> dict[int, list[tuple[int, float, float]]]:
    """(bucket end, total, bad) per `step` bucket of the hourly rollups, for many SLOs at once.

    The lean read behind lists of trend lines: summed in SQL, one query for every SLO sharing
    `window` and `step` (whole hours), no per-mode credit. Buckets are those of `buckets`; the
    sums may differ from its Python sums in the last bits (SQL sums in its own order).
    """
    if not slo_ids:
        return {}
    bucket = ((hourly.c.hour - window.start + (step - 1)) // step) * step + window.start
    rows = connection.execute(
        select(
            hourly.c.slo_id,
            bucket.label("bucket"),
            func.sum(hourly.c.total),
            func.sum(hourly.c.bad),
        )
        .where(
            hourly.c.slo_id.in_(slo_ids),
            hourly.c.hour > window.start,
            hourly.c.hour <= window.end,
        )
        .group_by(hourly.c.slo_id, "bucket")
        .order_by(hourly.c.slo_id, "bucket")
    )
    out: dict[int, list[tuple[int, float, float]]] = {slo_id: [] for slo_id in slo_ids}
    for slo_id, end, total, bad in rows:
        out[slo_id].append((int(end), total or 0.0, bad or 0.0))
    return out
