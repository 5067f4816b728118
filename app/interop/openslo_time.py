"""OpenSLO time: duration shorthands, rolling and calendar time windows, time-slice windows.

OpenSLO durations are a number and one of `m h d w M Q Y` (months, quarters and years have no
fixed length). A rolling window in months is imported as 30-day months, with a warning. A
calendar window of one week, month or quarter is a Faultline calendar period; Faultline's periods
begin at midnight on the first day (Monday for weeks) in the window's time zone, so a
`calendar.startTime` off that boundary is reported.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.interop.findings import Findings, Origin
from app.interop.reader import Node, child
from app.slo.durations import format_duration
from app.slo.spec import CalendarUnit

_SHORTHAND = re.compile(r"^(\d+)([smhdwMQY])$")
_FIXED_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_APPROXIMATE_DAYS = {"M": 30, "Q": 90, "Y": 365}
_CALENDAR_UNITS = {
    ("1", "w"): CalendarUnit.WEEK,
    ("7", "d"): CalendarUnit.WEEK,
    ("1", "M"): CalendarUnit.MONTH,
    ("1", "Q"): CalendarUnit.QUARTER,
    ("3", "M"): CalendarUnit.QUARTER,
}
DEFAULT_PERIOD = "30d"
Period = str | dict[str, str]


def shorthand_seconds(
    origin: Origin, text: str, findings: Findings, *, allow_zero: bool = False
) -> int | None:
    """A fixed-length duration shorthand in seconds; an error for anything else."""
    match = _SHORTHAND.match(text.strip())
    minimum = 0 if allow_zero else 1
    if match is None or match.group(2) in _APPROXIMATE_DAYS or int(match.group(1)) < minimum:
        findings.error(
            origin, f"{text!r} is not a duration here; use a number and m, h, d or w (e.g. 1h)"
        )
        return None
    return int(match.group(1)) * _FIXED_SECONDS[match.group(2)]


def time_window(spec: Node) -> Period | None:
    """The SLO's `timeWindow` as a Faultline period (a duration, or a calendar mapping)."""
    findings = spec.findings
    items = spec.sequence("timeWindow")
    if not items:
        findings.warn(
            spec.at("timeWindow"),
            f"no time window given; imported with Faultline's default rolling {DEFAULT_PERIOD}",
        )
        return DEFAULT_PERIOD
    if len(items) > 1:
        findings.warn(spec.at("timeWindow"), "OpenSLO allows one time window; the first is used")
    origin, item = items[0]
    node = child(origin, item, findings)
    if node is None:
        return None
    duration = node.text("duration", required=True)
    rolling = node.flag("isRolling")
    calendar = node.mapping("calendar")
    node.unread()
    if duration is None:
        return None
    if calendar is not None and rolling is not True:
        return _calendar(node.at("duration"), duration, calendar)
    if calendar is not None:
        calendar.raw("startTime")
        calendar.raw("timeZone")
        findings.warn(calendar.origin, "ignored: the window is rolling (isRolling: true)")
    elif rolling is False:
        findings.error(node.at("isRolling"), "a calendar window needs `calendar` (startTime)")
        return None
    return _rolling(node.at("duration"), duration, findings)


def _rolling(origin: Origin, duration: str, findings: Findings) -> str | None:
    match = _SHORTHAND.match(duration.strip())
    if match is None or int(match.group(1)) <= 0:
        findings.error(origin, f"{duration!r} is not a duration shorthand (e.g. 28d, 4w, 1M)")
        return None
    amount, unit = int(match.group(1)), match.group(2)
    if unit in _APPROXIMATE_DAYS:
        days = amount * _APPROXIMATE_DAYS[unit]
        findings.warn(
            origin,
            f"a rolling {duration} has no fixed length; imported as {days}d "
            f"({_APPROXIMATE_DAYS[unit]} days per {unit})",
        )
        return f"{days}d"
    return f"{amount}{unit}"  # as written: 28d stays 28d


def _calendar(origin: Origin, duration: str, calendar: Node) -> dict[str, str] | None:
    findings = calendar.findings
    match = _SHORTHAND.match(duration.strip())
    unit = _CALENDAR_UNITS.get((match.group(1), match.group(2))) if match else None
    zone_name = calendar.text("timeZone")
    start = calendar.raw("startTime")
    calendar.unread()
    if unit is None:
        findings.warn(
            origin,
            f"a calendar window of {duration} is not supported (Faultline has calendar weeks, "
            "months and quarters: 1w, 1M, 1Q); SLO not imported",
        )
        return None
    if zone_name is None:
        findings.warn(calendar.at("timeZone"), "no time zone given; imported as UTC")
        zone_name = "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        findings.error(calendar.at("timeZone"), f"unknown time zone {zone_name!r}")
        return None
    if start is not None:
        _check_start(calendar.at("startTime"), start, unit, zone, findings)
    return {"calendar": unit.value, "timezone": zone_name}


def _check_start(
    origin: Origin, value: Any, unit: CalendarUnit, zone: ZoneInfo, findings: Findings
) -> None:
    """Faultline's calendar periods start on calendar boundaries; say so if startTime is not one."""
    try:
        start = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    except ValueError:
        findings.error(origin, f"{value!r} is not a date and time (YYYY-MM-DD HH:MM:SS)")
        return
    start = start.replace(tzinfo=None)
    on_boundary = start.time() == datetime.min.time() and (
        (unit is CalendarUnit.WEEK and start.weekday() == 0)
        or (unit is CalendarUnit.MONTH and start.day == 1)
        or (unit is CalendarUnit.QUARTER and start.day == 1 and start.month in (1, 4, 7, 10))
    )
    if not on_boundary:
        boundary = {
            CalendarUnit.WEEK: "Monday",
            CalendarUnit.MONTH: "the first of the month",
            CalendarUnit.QUARTER: "the first of January, April, July or October",
        }[unit]
        findings.warn(
            origin,
            f"Faultline's {unit.value}s begin at 00:00 on {boundary} ({zone.key}); the budget "
            f"resets there, not at {start.isoformat(sep=' ')}",
        )


def slice_window(origin: Origin, value: Any, findings: Findings) -> str | None:
    """`timeSliceWindow`: a duration shorthand, or a bare number of minutes."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return format_duration(value * 60)
    if isinstance(value, str):
        seconds = shorthand_seconds(origin, value, findings)
        return None if seconds is None else format_duration(seconds)
    findings.error(origin, f"{value!r} is not a time-slice window (e.g. 1m, or 5 for minutes)")
    return None
