import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.slo.budget import (
    budget_consumed,
    burn_rate,
    error_ratio,
    sli_value,
    slice_contributions,
    time_to_exhaustion,
)
from app.slo.ledger import ModeSlice, SliceRecord, SliceStatus, WindowTotals


@st.composite
def records(draw: st.DrawFn) -> list[SliceRecord]:
    count = draw(st.integers(min_value=1, max_value=200))
    result = []
    for index in range(count):
        if draw(st.integers(min_value=0, max_value=9)) == 0:
            result.append(SliceRecord(t=60 * index, status=SliceStatus.NO_DATA))
            continue
        total = draw(st.floats(min_value=0, max_value=1e6))
        bad = draw(st.floats(min_value=0, max_value=1)) * total
        result.append(
            SliceRecord(
                t=60 * index,
                status=SliceStatus.OK,
                total=total,
                bad=bad,
                unattributed=bad / 2,
                modes={"x": ModeSlice(credited=bad / 2)},
                excluded=draw(st.integers(min_value=0, max_value=19)) == 0,
            )
        )
    return result


@given(records(), st.sampled_from([0.1, 0.01, 0.001, 0.0005]))
def test_consumed_over_a_window_equals_the_sum_over_its_slices(
    slices: list[SliceRecord], budget: float
) -> None:
    totals = WindowTotals.of(slices)
    contributions = slice_contributions(slices, totals, budget)
    assert math.fsum(contributions) == pytest.approx(budget_consumed(totals, budget), rel=1e-9)


@given(records(), st.integers(min_value=1, max_value=199))
def test_window_totals_add_up_across_a_split(slices: list[SliceRecord], cut: int) -> None:
    whole = WindowTotals.of(slices)
    parts = WindowTotals.of(slices[:cut]) + WindowTotals.of(slices[cut:])
    assert parts.total == pytest.approx(whole.total)
    assert parts.bad == pytest.approx(whole.bad)
    assert parts.slices == whole.slices
    assert parts.no_data_slices == whole.no_data_slices
    assert parts.credited.get("x", 0) == pytest.approx(whole.credited.get("x", 0))


def test_no_data_is_not_good_data() -> None:
    nothing = WindowTotals.of([SliceRecord(t=60, status=SliceStatus.NO_DATA)])
    assert error_ratio(nothing) is None
    assert burn_rate(nothing, 0.001) is None
    assert budget_consumed(nothing, 0.001) == 0.0
    assert nothing.no_data_slices == 1


def test_excluded_slices_spend_nothing() -> None:
    excluded = SliceRecord(t=60, status=SliceStatus.OK, total=100, bad=100, excluded=True)
    clean = SliceRecord(t=120, status=SliceStatus.OK, total=100, bad=0)
    totals = WindowTotals.of([excluded, clean])
    assert (totals.total, totals.bad, totals.excluded_slices) == (100, 0, 1)


def test_burn_rate_and_consumed() -> None:
    totals = WindowTotals(total=1_000_000, bad=690, slices=1)
    assert budget_consumed(totals, 0.001) == pytest.approx(0.69)
    assert burn_rate(WindowTotals(total=1000, bad=14.4, slices=1), 0.001) == pytest.approx(14.4)


def test_time_to_exhaustion() -> None:
    thirty_days = 30 * 86400
    # Half the budget left, burning at 2x: a quarter of the period.
    assert time_to_exhaustion(0.5, 2.0, thirty_days) == pytest.approx(thirty_days / 4)
    assert time_to_exhaustion(0.5, 0.0, thirty_days) is None
    assert time_to_exhaustion(-0.1, 3.0, thirty_days) == 0.0


def test_zero_traffic_spends_nothing_and_is_not_a_perfect_sli() -> None:
    quiet = WindowTotals.of([SliceRecord(t=60, status=SliceStatus.OK, total=0.0, bad=0.0)])
    assert quiet.has_data
    assert burn_rate(quiet, 0.001) == 0.0
    assert budget_consumed(quiet, 0.001) == 0.0
    assert sli_value(quiet) is None  # "no events", not 100 %
    assert sli_value(WindowTotals.of([])) is None
    busy = WindowTotals.of([SliceRecord(t=60, status=SliceStatus.OK, total=100.0, bad=1.0)])
    assert sli_value(busy) == pytest.approx(0.99)
