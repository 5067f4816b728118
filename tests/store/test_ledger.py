import random

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.slo.ledger import ModeSlice, SliceRecord, SliceStatus, WindowTotals
from app.slo.windows import STANDARD_WINDOWS, Window, trailing
from app.store import bucket_reads, ledger
from app.store.database import alembic_config
from app.store.store import Store
from app.store.tables import fivemin, fivemin_modes, metadata, slices, slos


def make_store(url: str, opened: list[Store]) -> tuple[Store, int]:
    store = Store(url).open()
    opened.append(store)
    with store.begin() as connection:
        result = connection.execute(
            slos.insert().values(
                key="s/x",
                service="s",
                name="x",
                active=True,
                definition="{}",
                content_hash="c",
                history_hash="h",
                slice_seconds=60,
                updated_at=0,
            )
        )
        slo_id = int(result.inserted_primary_key[0])
    return store, slo_id


def records(start: int, count: int, seed: int = 7) -> list[SliceRecord]:
    rng = random.Random(seed)
    out = []
    for index in range(count):
        t = start + 60 * (index + 1)
        if rng.random() < 0.05:
            out.append(SliceRecord(t=t, status=SliceStatus.NO_DATA))
            continue
        total = rng.uniform(0, 500)
        bad = total * rng.random() * 0.05
        out.append(
            SliceRecord(
                t=t,
                status=SliceStatus.OK,
                total=total,
                bad=bad,
                unattributed=bad / 4,
                modes={
                    "a": ModeSlice(credited=bad / 2, raw_bad=bad / 2),
                    "b": ModeSlice(credited=bad / 4, held=rng.random() < 0.5),
                },
                excluded=rng.random() < 0.02,
            )
        )
    return out


def test_migrations_match_the_tables(database_url: str) -> None:
    store = Store(database_url).open()
    try:
        with store.read() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == []
        store.open()  # a second start finds nothing to do
    finally:
        store.close()


def test_upserts_are_idempotent(database_url: str, stores: list[Store]) -> None:
    store, slo_id = make_store(database_url, stores)
    batch = records(1_800_000_000, 500)
    with store.begin() as connection:
        ledger.write_slices(connection, slo_id, batch)
        ledger.write_slices(connection, slo_id, batch[100:300])  # overlap: re-evaluated
        ledger.write_slices(connection, slo_id, batch)
    with store.read() as connection:
        assert ledger.count_slices(connection, slo_id) == 500
        back = ledger.read_slices(connection, slo_id, Window(0, 2_000_000_000))
    assert back == batch


@pytest.mark.parametrize("seed", [1, 2])
def test_window_sums_from_rollups_equal_direct_sums(
    database_url: str, stores: list[Store], seed: int
) -> None:
    store, slo_id = make_store(database_url, stores)
    start = 1_800_000_000 - 1_800_000_000 % 3600 + 17 * 60  # not hour-aligned on purpose
    batch = records(start, 4 * 24 * 60, seed)  # four days
    with store.begin() as connection:
        for index in range(0, len(batch), 1000):  # chunked like the engine writes
            ledger.write_slices(connection, slo_id, batch[index : index + 1000])
    end = batch[-1].t - 7 * 60
    windows = [trailing(end, seconds) for _, seconds in STANDARD_WINDOWS]
    windows.append(Window(start + 333, end - 3600 * 5 - 60))
    with store.read() as connection:
        sums = ledger.window_totals(connection, slo_id, windows)
    for window, total in zip(windows, sums, strict=True):
        direct = WindowTotals.of(r for r in batch if window.contains(r.t))
        assert total.slices == direct.slices
        assert total.no_data_slices == direct.no_data_slices
        assert total.excluded_slices == direct.excluded_slices
        assert total.total == pytest.approx(direct.total, rel=1e-9)
        assert total.bad == pytest.approx(direct.bad, rel=1e-9)
        assert total.credited["a"] == pytest.approx(direct.credited["a"], rel=1e-9)
        assert total.held_slices.get("b", 0) == direct.held_slices.get("b", 0)


def test_bucket_totals(database_url: str, stores: list[Store]) -> None:
    store, slo_id = make_store(database_url, stores)
    batch = records(1_800_000_000, 120)
    with store.begin() as connection:
        ledger.write_slices(connection, slo_id, batch)
    with store.read() as connection:
        buckets = bucket_reads.bucket_totals(connection, slo_id, Window(0, 2_000_000_000), 300)
    assert len(buckets) == 24
    for end, total, bad, count in buckets:
        members = [r for r in batch if end - 300 < r.t <= end]
        direct = WindowTotals.of(members)
        assert (total, bad, count) == (
            pytest.approx(direct.total),
            pytest.approx(direct.bad),
            direct.slices,
        )


def test_deleting_history_removes_slices_and_rollups(
    database_url: str, stores: list[Store]
) -> None:
    store, slo_id = make_store(database_url, stores)
    with store.begin() as connection:
        ledger.write_slices(connection, slo_id, records(1_800_000_000, 90))
        ledger.delete_history(connection, slo_id)
    with store.read() as connection:
        assert ledger.count_slices(connection, slo_id) == 0
        assert (
            ledger.window_totals(connection, slo_id, [Window(0, 2_000_000_000)])[0]
            == WindowTotals()
        )
        assert connection.execute(slices.select()).first() is None


def test_slice_by_slice_writes_and_rewrites_keep_rollups_exact(
    database_url: str, stores: list[Store]
) -> None:
    store, slo_id = make_store(database_url, stores)
    start = 1_800_000_000 - 1_800_000_000 % 3600 + 7 * 60
    first = records(start, 200, seed=3)
    rewritten = records(start, 200, seed=4)  # the same slice ends, other values
    with store.begin() as connection:
        for record in first:  # one slice per write, as ticks do
            ledger.write_slices(connection, slo_id, [record])
        for record in rewritten[50:120]:  # re-evaluated later: replaces, never adds
            ledger.write_slices(connection, slo_id, [record])
        ledger.write_slices(connection, slo_id, first[100:110])
    expected = first[:50] + rewritten[50:100] + first[100:110] + rewritten[110:120] + first[120:]
    end = first[-1].t
    windows = [trailing(end, seconds) for _, seconds in STANDARD_WINDOWS]
    windows.append(Window(start - 1, end))
    with store.read() as connection:
        sums = ledger.window_totals(connection, slo_id, windows)
    for window, total in zip(windows, sums, strict=True):
        direct = WindowTotals.of(r for r in expected if window.contains(r.t))
        assert (total.slices, total.no_data_slices, total.excluded_slices) == (
            direct.slices,
            direct.no_data_slices,
            direct.excluded_slices,
        )
        assert total.bad == pytest.approx(direct.bad, rel=1e-9, abs=1e-9)
        assert total.total == pytest.approx(direct.total, rel=1e-9)
        assert total.credited.get("a", 0) == pytest.approx(direct.credited.get("a", 0), abs=1e-9)
        assert total.held_slices.get("b", 0) == direct.held_slices.get("b", 0)


def test_upgrading_an_older_ledger_fills_the_new_rollups(
    database_url: str, stores: list[Store]
) -> None:
    """A ledger written before five-minute rollups existed sums the same after the upgrade."""
    store, slo_id = make_store(database_url, stores)
    batch = records(1_800_000_000, 300)
    with store.begin() as connection:
        ledger.write_slices(connection, slo_id, batch)
        for table in (fivemin_modes, fivemin):
            connection.execute(table.delete())
        command.downgrade(alembic_config(connection), "0002")
        command.upgrade(alembic_config(connection), "head")
    window = Window(batch[0].t - 60, batch[-1].t)
    with store.read() as connection:
        total = ledger.window_totals(
            connection, slo_id, [Window(window.start + 17, window.end - 7)]
        )[0]
    direct = WindowTotals.of(r for r in batch if window.start + 17 < r.t <= window.end - 7)
    assert total.bad == pytest.approx(direct.bad)
    assert total.slices == direct.slices
