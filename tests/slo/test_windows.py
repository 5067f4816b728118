from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.slo.durations import DurationError, format_duration, parse_duration
from app.slo.spec import CalendarPeriod, CalendarUnit, RollingPeriod
from app.slo.windows import (
    Window,
    calendar_bounds,
    count_slices,
    period_seconds,
    period_window,
    slice_ends,
)

BERLIN = ZoneInfo("Europe/Berlin")


def epoch(year: int, month: int, day: int, hour: int = 0, zone: ZoneInfo = BERLIN) -> int:
    return int(datetime(year, month, day, hour, tzinfo=zone).timestamp())


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h30m", 5400), ("28d", 28 * 86400), ("2w", 14 * 86400)],
)
def test_durations_round_trip(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "5", "5x", "-5m", "0s", "500ms", "1.5h"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


def test_rolling_period_is_the_trailing_window() -> None:
    assert period_window(RollingPeriod(seconds=3600), 10_000) == Window(6400, 10_000)


def test_month_in_berlin_starts_at_local_midnight_across_dst() -> None:
    period = CalendarPeriod(calendar=CalendarUnit.MONTH, timezone="Europe/Berlin")
    # 31 March 2026 is after the spring-forward (29 March): the month started at UTC+1.
    bounds = calendar_bounds(period, epoch(2026, 3, 31, 12))
    assert bounds.start == epoch(2026, 3, 1)
    assert bounds.end == epoch(2026, 4, 1)
    assert bounds.seconds == 31 * 86400 - 3600  # one hour shorter: the clocks went forward


def test_october_is_one_hour_longer_in_berlin() -> None:
    period = CalendarPeriod(calendar=CalendarUnit.MONTH, timezone="Europe/Berlin")
    assert period_seconds(period, epoch(2026, 10, 15)) == 31 * 86400 + 3600


def test_week_starts_on_monday_and_quarter_on_the_first_month() -> None:
    week = CalendarPeriod(calendar=CalendarUnit.WEEK, timezone="UTC")
    quarter = CalendarPeriod(calendar=CalendarUnit.QUARTER, timezone="UTC")
    utc = ZoneInfo("UTC")
    wednesday = epoch(2026, 11, 25, 15, utc)
    assert calendar_bounds(week, wednesday).start == epoch(2026, 11, 23, 0, utc)
    assert calendar_bounds(quarter, wednesday) == Window(
        epoch(2026, 10, 1, 0, utc), epoch(2027, 1, 1, 0, utc)
    )


def test_the_boundary_instant_belongs_to_the_period_it_ends() -> None:
    period = CalendarPeriod(calendar=CalendarUnit.MONTH, timezone="Europe/Berlin")
    first_of_april = epoch(2026, 4, 1)
    assert period_window(period, first_of_april) == Window(epoch(2026, 3, 1), first_of_april)


@given(
    start=st.integers(min_value=0, max_value=10**9),
    length=st.integers(min_value=0, max_value=10**6),
    slice_seconds=st.sampled_from([15, 30, 60, 300]),
)
def test_slice_ends_lie_in_the_window_and_are_aligned(
    start: int, length: int, slice_seconds: int
) -> None:
    window = Window(start, start + length)
    ends = list(slice_ends(window, slice_seconds))
    assert len(ends) == count_slices(window, slice_seconds)
    assert all(window.contains(t) and t % slice_seconds == 0 for t in ends)
    assert len(ends) in (length // slice_seconds, length // slice_seconds + 1)
