"""The latest stretch of no-data slices and its reason, read back from the ledger."""

from __future__ import annotations

import pytest

from app.slo.ledger import NoData, NoDataReason, SliceRecord, SliceStatus
from app.store import ledger
from app.store.no_data import latest_run
from app.store.store import Store
from tests.store.test_ledger import make_store

START = 1_800_000_000


SPARSE = NoData(NoDataReason.TOO_SPARSE, "total")
GONE = NoData(NoDataReason.NO_SERIES, "total")


def _ok(t: int) -> SliceRecord:
    return SliceRecord(t=t, status=SliceStatus.OK, total=10.0, bad=1.0)


def _no(t: int, why: NoData) -> SliceRecord:
    return SliceRecord(t=t, status=SliceStatus.NO_DATA, no_data=why)


def test_the_latest_stretch_with_one_reason_and_where_it_began(
    database_url: str, stores: list[Store]
) -> None:
    store, slo_id = make_store(database_url, stores)
    ends = [START + 60 * n for n in range(1, 31)]
    batch = [_ok(t) for t in ends[:10]]
    batch += [_no(t, SPARSE) for t in ends[10:15]] + [_no(t, GONE) for t in ends[15:30]]
    with store.begin() as connection:
        ledger.write_slices(connection, slo_id, batch)
    with store.read() as connection:
        run = latest_run(connection, slo_id, START, ends[-1])
        earlier = latest_run(connection, slo_id, START, ends[14])
        none = latest_run(connection, slo_id, START, ends[9])
    assert run is not None and (run.no_data, run.since, run.last) == (GONE, ends[15], ends[29])
    assert earlier is not None and (earlier.no_data, earlier.since) == (SPARSE, ends[10])
    assert none is None


def test_a_stretch_longer_than_a_day_is_found_to_the_hour(
    database_url: str, stores: list[Store]
) -> None:
    store, slo_id = make_store(database_url, stores)
    data_until = START + 3 * 3600
    ends = range(START + 60, START + 2 * 86_400, 60)
    batch = [_ok(t) if t <= data_until else _no(t, GONE) for t in ends]
    with store.begin() as connection:
        ledger.write_slices(connection, slo_id, batch)
    with store.read() as connection:
        run = latest_run(connection, slo_id, START, batch[-1].t)
    assert run is not None and run.no_data == GONE
    assert data_until < run.since <= data_until + 3600
    assert run.since == pytest.approx(data_until + 60, abs=3600)
