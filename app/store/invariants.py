"""The ledger's invariant: every hourly and five-minute rollup equals the sum of its slices.

`rollup_disagreements` recomputes the rollups of one SLO from its slices, a day at a time, and
lists every bucket whose stored sums differ; `repair_rollups` rebuilds them from the slices.
`faultline check-ledger` and the tests call both.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from app.slo.ledger import WindowTotals
from app.slo.windows import Window, align_up
from app.store import ledger, rollup_reads
from app.store.hour_sums import note_rewrite
from app.store.locks import lock_slo
from app.store.rollups import HOUR, LEVELS, Level, Sums
from app.store.tables import slices

DAY = 86400
# Rollups are sums in a different order than a fresh sum of the slices: equal up to rounding.
_RELATIVE = 1e-9
_ABSOLUTE = 1e-6


@dataclass(frozen=True)
class Disagreement:
    slo_id: int
    level: str  # "1h" or "5m"
    bucket: int  # the bucket's end
    field: str
    stored: float
    expected: float

    def describe(self) -> str:
        return (
            f"{self.level} rollup ending {self.bucket}: {self.field} is {self.stored:g}, "
            f"its slices add up to {self.expected:g}"
        )


def _span(connection: Connection, slo_id: int) -> Window | None:
    """From the first to the last bucket end that has a slice or a rollup row, whole days."""
    lows, highs = [], []
    for table, key in (
        (slices, slices.c.t),
        *((level.sums, level.key_of(level.sums)) for level in LEVELS),
    ):
        low, high = connection.execute(
            select(func.min(key), func.max(key)).where(table.c.slo_id == slo_id)
        ).one()
        if low is not None:
            lows.append(int(low))
            highs.append(int(high))
    if not lows:
        return None
    start = align_up(min(lows), DAY) - DAY
    return Window(start, align_up(max(highs), DAY))


def _days(span: Window) -> Iterator[Window]:
    for start in range(span.start, span.end, DAY):
        yield Window(start, start + DAY)


def _label(level: Level) -> str:
    return "1h" if level.size == HOUR else f"{level.size // 60}m"


def _fields(totals: WindowTotals) -> dict[str, float]:
    values: dict[str, float] = {
        "total": totals.total,
        "bad": totals.bad,
        "unattributed": totals.unattributed,
        "slices": totals.slices,
        "no_data_slices": totals.no_data_slices,
        "excluded_slices": totals.excluded_slices,
    }
    values.update({f"credited[{mode}]": value for mode, value in totals.credited.items()})
    values.update({f"held[{mode}]": value for mode, value in totals.held_slices.items()})
    return values


def _differs(stored: float, expected: float) -> bool:
    return not math.isclose(stored, expected, rel_tol=_RELATIVE, abs_tol=_ABSOLUTE)


def rollup_disagreements(connection: Connection, slo_id: int) -> list[Disagreement]:
    """Every rollup field of the SLO that disagrees with its slices (empty when the invariant
    holds). Run it in one snapshot (`Store.snapshot()`) when writers may be at work."""
    span = _span(connection, slo_id)
    if span is None:
        return []
    found: list[Disagreement] = []
    for day in _days(span):
        records = ledger.read_slices(connection, slo_id, day)
        for level in LEVELS:
            expected: dict[int, Sums] = {}
            for record in records:
                expected.setdefault(align_up(record.t, level.size), Sums()).add(record)
            stored = rollup_reads.bucket_rows(connection, slo_id, level, [(day.start, day.end)])
            for end in sorted(set(expected) | set(stored)):
                want = _fields(expected[end].totals() if end in expected else WindowTotals())
                have = _fields(stored.get(end, WindowTotals()))
                for name in sorted(set(want) | set(have)):
                    if _differs(have.get(name, 0.0), want.get(name, 0.0)):
                        found.append(
                            Disagreement(
                                slo_id,
                                _label(level),
                                end,
                                name,
                                have.get(name, 0.0),
                                want.get(name, 0.0),
                            )
                        )
    return found


def repair_rollups(connection: Connection, slo_id: int) -> list[Disagreement]:
    """Rebuild from their slices the hours whose rollups disagree; returns what was wrong.
    Call in a write transaction: the SLO's lock keeps its writers out meanwhile."""
    lock_slo(connection, slo_id)
    wrong = rollup_disagreements(connection, slo_id)
    hours = sorted({align_up(item.bucket, HOUR) for item in wrong})
    if hours:
        note_rewrite(connection, slo_id, hours[0] - HOUR + 1)
        ledger.rebuild_hours(connection, slo_id, hours)
    return wrong
