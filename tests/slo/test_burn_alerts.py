import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.slo.alert_spec import AlertPolicy, Tier
from app.slo.burn_alerts import burn_rate_factor, effective_tiers, evaluate_tier
from app.slo.ledger import WindowTotals
from app.slo.spec import AlertingRef, Budgeting

DAY = 86400


def factors(period_days: int) -> list[float]:
    return [
        burn_rate_factor(tier.budget_fraction, period_days * DAY, tier.long_window)
        for tier in AlertPolicy().tiers
    ]


def test_30_day_factors_are_the_sre_workbook_ones() -> None:
    assert factors(30) == pytest.approx([14.4, 6.0, 3.0, 1.0])


def test_28_day_factors_scale_with_the_period() -> None:
    assert factors(28) == pytest.approx([13.44, 5.6, 2.8, 0.9333333], rel=1e-6)


@given(st.integers(min_value=1, max_value=400))
def test_factors_are_proportional_to_the_period(days: int) -> None:
    for base, scaled in zip(factors(30), factors(days), strict=True):
        assert scaled == pytest.approx(base * days / 30)


def totals(total: float, bad: float) -> WindowTotals:
    return WindowTotals(total=total, bad=bad, slices=1)


PAGE = Tier(name="page", severity="page", long_window=3600, short_window=300, budget_fraction=0.02)


def evaluate(long: WindowTotals, short: WindowTotals, min_events: int = 100) -> bool:
    result = evaluate_tier(
        PAGE,
        period_seconds=30 * DAY,
        budget=0.001,
        long_totals=long,
        short_totals=short,
        budgeting=Budgeting.OCCURRENCES,
        min_events=min_events,
    )
    return result.firing


def test_fires_only_when_both_windows_burn_faster_than_the_factor() -> None:
    fast = totals(10_000, 150)  # burn 15 > 14.4
    slow = totals(10_000, 140)  # burn 14 < 14.4
    assert evaluate(fast, fast)
    assert not evaluate(fast, slow)
    assert not evaluate(slow, fast)


def test_minimum_events_guard_keeps_low_traffic_quiet() -> None:
    one_failure_in_sixty = totals(60, 1)  # burn 16.7, but only 60 events
    assert not evaluate(one_failure_in_sixty, totals(5, 1))
    assert evaluate(one_failure_in_sixty, totals(5, 1), min_events=50)


def test_no_data_never_fires() -> None:
    assert not evaluate(WindowTotals(), WindowTotals(), min_events=0)


def test_timeslices_are_not_guarded_by_event_counts() -> None:
    result = evaluate_tier(
        PAGE,
        period_seconds=30 * DAY,
        budget=0.01,
        long_totals=totals(60, 20),
        short_totals=totals(5, 5),
        budgeting=Budgeting.TIMESLICES,
        min_events=100,
    )
    assert result.firing and not result.guarded


def test_per_slo_overrides_disable_tiers_and_set_for() -> None:
    tiers = effective_tiers(
        AlertPolicy(), AlertingRef(disabled_tiers=("ticket-slow",), for_seconds=120)
    )
    assert [tier.name for tier in tiers] == ["page-fast", "page-slow", "ticket-fast"]
    assert {tier.for_seconds for tier in tiers} == {120}
