import math

import pytest

from app.slo.evaluation import evaluate_slice
from app.slo.ledger import NoData, NoDataReason, SliceStatus
from app.slo.spec import SLOSpec

EVENTS = {
    "name": "success",
    "objective": 99.9,
    "sli": {
        "events": {
            "total": "sum(rate(req_total[{{window}}]))",
            "bad": 'sum(rate(req_total{code="500"}[{{window}}]))',
        }
    },
    "failure_modes": [
        {
            "name": "timeout",
            "design_choice": "synchronous-call",
            "bad": "sum(rate(timeouts_total[{{window}}]))",
        },
        {"name": "backlog", "design_choice": "queue", "when": "max(age) > 300"},
    ],
}


def spec(**changes: object) -> SLOSpec:
    return SLOSpec.model_validate({**EVENTS, **changes})


def test_windowed_rates_are_answered_in_counts_and_attribution_follows_the_rules() -> None:
    # `rate(x[{{window}}])` is rendered as the count of the slice (app.slo.counts).
    record = evaluate_slice(
        spec(),
        600,
        {
            "total": [600.0],  # 600 requests in the slice
            "bad": [6.0],  # 6 bad
            "mode:timeout:bad": [3.0],  # 3 of them timeouts
            "mode:backlog:when": [412.0],  # the backlog condition returned a series: it held
        },
    )
    assert record.status is SliceStatus.OK
    assert (record.total, record.bad) == pytest.approx((600, 6))
    assert record.modes["timeout"].credited == pytest.approx(3)
    assert record.modes["backlog"].credited == pytest.approx(3)
    assert record.modes["backlog"].held is True
    assert record.unattributed == pytest.approx(0)


def test_per_second_queries_that_stay_rates_are_multiplied_by_the_slice() -> None:
    irate = {"total": "sum(irate(req_total[{{window}}]))", "bad": "sum(irate(e_total[5m]))"}
    record = evaluate_slice(
        spec(sli={"events": irate}, failure_modes=[]), 600, {"total": [10.0], "bad": [0.1]}
    )
    assert (record.total, record.bad) == pytest.approx((600, 6))


def test_no_total_series_is_no_data_and_spends_nothing() -> None:
    record = evaluate_slice(spec(), 600, {"total": [], "bad": [1.0]})
    assert record.status is SliceStatus.NO_DATA
    assert not record.counts


def test_nan_and_inf_are_never_stored() -> None:
    record = evaluate_slice(spec(), 600, {"total": [math.nan, math.inf]})
    assert record.status is SliceStatus.NO_DATA
    assert record.no_data == NoData(NoDataReason.NOT_FINITE, "total")


@pytest.mark.parametrize(
    ("readings", "signal"),
    [
        ({"total": [1.0], "bad": [math.nan]}, "bad"),  # sum(rate(errors[1m])) / 0
        ({"total": [1.0], "bad": [0.5, math.inf]}, "bad"),  # one series of two: not a count
        ({"total": [1.0, -math.inf], "bad": [0.0]}, "total"),
        ({"total": [1.0], "bad": [0.0], "mode:timeout:bad": [math.nan]}, "mode:timeout:bad"),
    ],
)
def test_nan_on_any_counted_side_is_no_data_never_zero_bad(
    readings: dict[str, list[float]], signal: str
) -> None:
    record = evaluate_slice(spec(), 600, readings)
    assert (record.status, record.bad, record.total) == (SliceStatus.NO_DATA, 0, 0)
    assert record.no_data == NoData(NoDataReason.NOT_FINITE, signal)
    assert not record.counts


def test_counts_too_large_to_add_up_are_no_data() -> None:
    huge = {"total": [1e308, 1e308, 1e308], "bad": [0.0]}  # fsum overflows
    record = evaluate_slice(spec(), 600, huge)
    assert record.no_data == NoData(NoDataReason.OVERFLOW, "total")
    per_second = {"total": "sum(irate(req_total[{{window}}]))", "bad": "sum(irate(e[5m]))"}
    rates = spec(sli={"events": per_second}, failure_modes=[])
    record = evaluate_slice(rates, 600, {"total": [1e307], "bad": [0.0]})  # ×60 s: too large
    assert record.no_data == NoData(NoDataReason.OVERFLOW, "total")


def test_no_data_says_why() -> None:
    assert evaluate_slice(spec(), 600, {}).no_data == NoData(NoDataReason.NO_SERIES, "total")


def test_no_bad_series_with_traffic_means_zero_bad() -> None:
    record = evaluate_slice(spec(), 600, {"total": [120.0]})
    assert (record.status, record.total, record.bad) == (SliceStatus.OK, 120, 0)
    assert record.modes["backlog"].held is False


def test_bad_is_clamped_to_total() -> None:
    record = evaluate_slice(spec(), 600, {"total": [60.0], "bad": [120.0]})
    assert record.bad == record.total == 60


def test_good_queries_count_the_complement() -> None:
    events = {
        "total": "sum(increase(req_total[{{window}}]))",
        "good": "sum(increase(ok_total[{{window}}]))",
    }
    record = evaluate_slice(
        spec(sli={"events": events}, failure_modes=[]), 600, {"total": [100.0], "good": [97.0]}
    )
    assert (record.total, record.bad) == (100, 3)  # increase() is a count already


def test_without_own_bad_the_modes_count_bad_capped_at_total() -> None:
    events = {"total": "sum(rate(req_total[{{window}}]))"}
    modes = [
        {"name": "a", "design_choice": "queue", "bad": "sum(rate(a_total[{{window}}]))"},
        {"name": "b", "design_choice": "queue", "bad": "sum(rate(b_total[{{window}}]))"},
    ]
    record = evaluate_slice(
        spec(sli={"events": events}, failure_modes=modes),
        600,
        {"total": [60.0], "mode:a:bad": [45.0], "mode:b:bad": [45.0]},
    )
    assert (record.total, record.bad) == (60, 60)  # min(total, 45 + 45)
    assert record.modes["a"].credited == pytest.approx(30)


def test_threshold_slices_are_judged_at_their_end() -> None:
    threshold = spec(
        sli={"threshold": {"query": "max(age)", "op": "<=", "value": 300}},
        failure_modes=[{"name": "workers", "design_choice": "queue", "when": "up == 0"}],
    )
    fresh = {"freshness": [1.0]}
    good = evaluate_slice(threshold, 600, {"threshold": [120.0], **fresh})
    bad = evaluate_slice(
        threshold, 660, {"threshold": [301.0], "mode:workers:when": [0.0], **fresh}
    )
    assert (good.total, good.bad, good.value) == (1, 0, 120)
    assert (bad.total, bad.bad, bad.value) == (1, 1, 301)
    assert bad.modes["workers"].credited == 1
    assert evaluate_slice(threshold, 720, {}).status is SliceStatus.NO_DATA
    # Prometheus still returns the last value five minutes into a scrape gap: that is stale.
    stale = evaluate_slice(threshold, 780, {"threshold": [120.0], "freshness": []})
    assert stale.status is SliceStatus.NO_DATA
    assert stale.no_data == NoData(NoDataReason.STALE_GAUGE, "threshold")
    nan = evaluate_slice(threshold, 840, {"threshold": [math.nan], **fresh})
    assert nan.no_data == NoData(NoDataReason.NOT_FINITE, "threshold")


def test_timeslices_of_events_use_the_slice_target() -> None:
    sliced = spec(budgeting="timeslices", slice_target=99)
    ok = evaluate_slice(sliced, 600, {"total": [600.0], "bad": [6.0]})  # 99.0% good
    not_ok = evaluate_slice(
        sliced, 660, {"total": [600.0], "bad": [12.0], "mode:timeout:bad": [6.0]}
    )
    assert (ok.total, ok.bad) == (1, 0)
    assert (not_ok.total, not_ok.bad) == (1, 1)
    assert not_ok.events_total == pytest.approx(600)
    assert not_ok.modes["timeout"].credited == pytest.approx(0.5)  # explains half the bad events


def test_a_timeslice_without_events_spends_nothing_and_saves_nothing() -> None:
    sliced = spec(budgeting="timeslices", slice_target=99)
    quiet = evaluate_slice(sliced, 600, {"total": [0.0], "bad": [0.0]})
    assert quiet.status is SliceStatus.OK  # sampled, but nothing was asked
    assert (quiet.total, quiet.bad, quiet.events_total) == (0, 0, 0)
