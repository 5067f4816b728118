"""Period and window arithmetic on epoch seconds: slices, rolling and calendar periods.

All times are integer epoch seconds (UTC). A slice is named by its end `t` and covers
`(t − slice, t]`; a window `(start, end]` holds the slices whose ends fall inside it. Calendar
periods start at local midnight in their time zone, so DST moves the UTC start, never the local one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.slo.spec import CalendarPeriod, CalendarUnit, RollingPeriod

DAY = 86400
# Nominal lengths used where a period must be one number (burn-rate factors, Prometheus rules).
NOMINAL_CALENDAR_SECONDS = {
    CalendarUnit.WEEK: 7 * DAY,
    CalendarUnit.MONTH: 30 * DAY,
    CalendarUnit.QUARTER: 90 * DAY,
}
STANDARD_WINDOWS: tuple[tuple[str, int], ...] = (
    ("5m", 300),
    ("30m", 1800),
    ("1h", 3600),
    ("2h", 7200),
    ("6h", 21600),
    ("1d", DAY),
    ("3d", 3 * DAY),
)


@dataclass(frozen=True, order=True)
class Window:
    """The half-open interval `(start, end]` of epoch seconds."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start})")

    @property
    def seconds(self) -> int:
        return self.end - self.start

    def contains(self, t: int) -> bool:
        return self.start < t <= self.end

    def clamp_start(self, earliest: int) -> Window:
        return Window(max(self.start, min(earliest, self.end)), self.end)


def align_down(t: int, step: int) -> int:
    """The latest multiple of `step` at or before `t`."""
    return t - t % step


def align_up(t: int, step: int) -> int:
    return -(-t // step) * step


def slice_ends(window: Window, slice_seconds: int) -> Iterator[int]:
    """Ends of the slices inside `window`, oldest first."""
    t = align_up(window.start + 1, slice_seconds)
    while t <= window.end:
        yield t
        t += slice_seconds


def count_slices(window: Window, slice_seconds: int) -> int:
    first = align_up(window.start + 1, slice_seconds)
    return 0 if first > window.end else (window.end - first) // slice_seconds + 1


def trailing(end: int, seconds: int) -> Window:
    """The window of the last `seconds` ending at `end`."""
    return Window(end - seconds, end)


def _calendar_start(local: datetime, unit: CalendarUnit) -> datetime:
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit is CalendarUnit.WEEK:  # ISO weeks start on Monday
        return midnight - timedelta(days=midnight.weekday())
    if unit is CalendarUnit.MONTH:
        return midnight.replace(day=1)
    first_month = 3 * ((midnight.month - 1) // 3) + 1
    return midnight.replace(month=first_month, day=1)


def _calendar_next(start: datetime, unit: CalendarUnit) -> datetime:
    if unit is CalendarUnit.WEEK:
        return start + timedelta(days=7)
    months = 1 if unit is CalendarUnit.MONTH else 3
    month_index = start.month - 1 + months
    return start.replace(year=start.year + month_index // 12, month=month_index % 12 + 1)


def _local_to_epoch(local: datetime) -> int:
    # zoneinfo computes the UTC offset from the wall time, so after date arithmetic across a DST
    # change the offset of the new date applies.
    return int(local.timestamp())


def calendar_bounds(period: CalendarPeriod, at: int) -> Window:
    """The calendar period containing `at`, as `(start, next start]` in epoch seconds."""
    zone = ZoneInfo(period.timezone)
    local = datetime.fromtimestamp(at, zone)
    start = _calendar_start(local, period.calendar)
    if _local_to_epoch(start) == at:
        # `at` is exactly the boundary: it is the last instant of the previous period.
        start = _calendar_start(datetime.fromtimestamp(at - 1, zone), period.calendar)
    end = _calendar_next(start, period.calendar)
    return Window(_local_to_epoch(start), _local_to_epoch(end))


def period_window(period: RollingPeriod | CalendarPeriod, at: int) -> Window:
    """The budget window that ends at `at`: the last N seconds, or the calendar period so far."""
    if isinstance(period, RollingPeriod):
        return trailing(at, period.seconds)
    return Window(calendar_bounds(period, at).start, at)


def period_seconds(period: RollingPeriod | CalendarPeriod, at: int | None = None) -> int:
    """The length of the period: exact for the calendar period containing `at`, else nominal."""
    if isinstance(period, RollingPeriod):
        return period.seconds
    if at is None:
        return NOMINAL_CALENDAR_SECONDS[period.calendar]
    return calendar_bounds(period, at).seconds


def period_remaining_seconds(period: RollingPeriod | CalendarPeriod, at: int) -> int | None:
    """Seconds until a calendar budget resets; None for rolling periods, which never reset."""
    if isinstance(period, RollingPeriod):
        return None
    return calendar_bounds(period, at).end - at
