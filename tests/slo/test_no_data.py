"""No-data reasons: stored form, how a no-series slice is made precise, and the words shown."""

from __future__ import annotations

import pytest

from app.slo.ledger import NoData, NoDataReason, SliceRecord, SliceStatus
from app.slo.no_data import describe, presence_query, refined
from app.slo.queries import SignalRole, counter_signal
from app.slo.sampling import IntervalOrigin, Sampling


@pytest.mark.parametrize("reason", list(NoDataReason))
def test_every_reason_round_trips_through_its_stored_form(reason: NoDataReason) -> None:
    no_data = NoData(reason, "mode:payment-timeout:bad")
    assert NoData.decode(no_data.encode()) == no_data
    assert describe(no_data, 60, None)  # and has words


def test_slices_stored_before_reasons_were_kept_say_so() -> None:
    assert NoData.decode(None) is None and NoData.decode("no-such-reason:total") is None
    assert "not recorded" in describe(None, 60, None)


def test_the_presence_query_asks_about_the_first_counted_selector_over_slice_and_hour() -> None:
    total = counter_signal("total", SignalRole.TOTAL, 'sum(rate(x_total{a="1"}[{{window}}]))', None)
    assert presence_query(total, 60) == 'count(last_over_time(x_total{a="1"}[1h1m]))'
    plain = counter_signal("total", SignalRole.TOTAL, "sum(x_total)", "count")
    assert presence_query(plain, 60) is None


@pytest.mark.parametrize(
    ("role", "present", "later", "reason"),
    [
        (SignalRole.TOTAL, True, False, NoDataReason.TOO_SPARSE),
        (SignalRole.THRESHOLD, True, False, NoDataReason.STALE_GAUGE),
        (SignalRole.TOTAL, False, True, NoDataReason.OUT_OF_RANGE),
        (SignalRole.TOTAL, False, False, NoDataReason.NO_SERIES),
    ],
)
def test_a_no_series_slice_is_made_precise_by_what_the_source_holds(
    role: SignalRole, present: bool, later: bool, reason: NoDataReason
) -> None:
    record = SliceRecord(
        t=120, status=SliceStatus.NO_DATA, no_data=NoData(NoDataReason.NO_SERIES, "total")
    )
    made = refined(record, role, present, later)
    assert made.no_data == NoData(reason, "total")
    not_finite = SliceRecord(
        t=120, status=SliceStatus.NO_DATA, no_data=NoData(NoDataReason.NOT_FINITE, "total")
    )
    assert refined(not_finite, role, present, later) is not_finite


def test_too_sparse_names_the_interval_found() -> None:
    sparse = NoData(NoDataReason.TOO_SPARSE, "total")
    known = Sampling(60, 120, IntervalOrigin.DATA)
    assert "sampled every 2m" in describe(sparse, 60, known)
    assert "not learned yet" in describe(sparse, 60, Sampling(60, None, IntervalOrigin.UNKNOWN))
