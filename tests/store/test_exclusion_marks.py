"""Re-marking stored slices for budget corrections, on SQLite and PostgreSQL: flags flip exactly
where the corrections say, the rollups follow, and the raw counts never change."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.slo.exclusions import ExcludedSlices
from app.slo.ledger import WindowTotals
from app.slo.windows import Window
from app.store import ledger
from app.store.exclusion_marks import RANGES, remark_slices, stored_span
from app.store.store import Store
from tests.store.test_ledger import make_store, records

START = 1_800_000_000 - 1_800_000_000 % 3600


def sums(store: Store, slo_id: int, window: Window) -> tuple[WindowTotals, WindowTotals]:
    """(from the rollups, straight from the slices)."""
    with store.read() as connection:
        [rolled] = ledger.window_totals(connection, slo_id, [window])
        direct = WindowTotals.of(ledger.read_slices(connection, slo_id, window))
    return rolled, direct


@pytest.mark.parametrize("many", [False, True], ids=["few-ranges", "many-ranges"])
def test_flags_flip_exactly_and_rollups_follow(
    database_url: str,
    stores: list[Store],
    many: bool,
) -> None:
    store, slo_id = make_store(database_url, stores)
    batch = [replace(record, excluded=False) for record in records(START, 2 * 24 * 60)]
    window = Window(START, batch[-1].t)
    with store.begin() as connection:
        ledger.write_slices(connection, slo_id, batch)
        assert stored_span(connection, slo_id) == Window(START + 59, batch[-1].t)
    # Five minutes of every twenty (many ranges), or three one-hour windows (few).
    spans = (
        [(t, t + 300) for t in range(START, window.end, 1200)]
        if many
        else [(START + k * 7200, START + k * 7200 + 3600) for k in (1, 5, 9)]
    )
    excluded = ExcludedSlices.of(spans, 60, window)
    assert (len(excluded.ranges) > RANGES) == many
    with store.begin() as connection:
        changed = remark_slices(connection, slo_id, excluded, window)
    assert changed == excluded.count == (144 * 5 if many else 3 * 60)
    with store.read() as connection:
        back = ledger.read_slices(connection, slo_id, window)
    assert [r.t for r in back if r.excluded] == [t for t in (r.t for r in batch) if t in excluded]
    assert [replace(r, excluded=False) for r in back] == batch  # counts untouched
    rolled, direct = sums(store, slo_id, window)
    # A slice without data stays no-data: exclusion matters only where there was data.
    with_data = sum(1 for r in batch if r.t in excluded and r.status.value == "ok")
    assert rolled.excluded_slices == direct.excluded_slices == with_data < excluded.count
    assert rolled.bad == pytest.approx(direct.bad, rel=1e-12)
    assert rolled.total == pytest.approx(direct.total, rel=1e-12)

    with store.begin() as connection:  # the same marks again: nothing to do
        assert remark_slices(connection, slo_id, excluded, window) == 0
    with store.begin() as connection:  # no correction left: every flag is cleared
        assert remark_slices(connection, slo_id, ExcludedSlices(60), window) == excluded.count
    rolled, direct = sums(store, slo_id, window)
    assert rolled.excluded_slices == direct.excluded_slices == 0
    assert rolled.slices == direct.slices == len(batch) - direct.no_data_slices
