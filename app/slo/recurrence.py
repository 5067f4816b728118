"""RFC 5545 recurrences (DTSTART + RRULE, with RDATE / EXDATE) for recurring budget corrections.

A rule is written as iCalendar lines:

    DTSTART;TZID=Europe/Berlin:20240303T020000
    RRULE:FREQ=WEEKLY;BYDAY=SU

`DTSTART` is required: without it a rule would start whenever it was first read. With `TZID` the
rule recurs in local time (02:00 Berlin stays 02:00 across DST); with a trailing `Z`, or with no
zone at all, it recurs in UTC. A local time that a DST change skips is read with the offset from
before the change (PEP 495, fold 0); one that occurs twice is its first occurrence. DTSTART
should match the rule (RFC 5545 leaves other sets undefined); occurrences are the rule's matches.
Expansion is lazy and remembered, so asking for one more tick's occurrences costs only the new
ones.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rruleset, rrulestr

# Properties of a recurrence set (RFC 5545 dropped EXRULE); anything else is a mistake to name.
_PROPERTIES = ("RRULE", "RDATE", "EXDATE")
# The longest each month can be; dateutil searches to the year 9999 (seconds of CPU) for a rule
# that can never match, so the impossible day-of-month rules are refused up front.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_EARLIEST_YEAR = 1970
# A correction that recurs every few minutes is not a correction but a different SLI.
_TOO_FREQUENT = ("SECONDLY", "MINUTELY")
_DTSTART = re.compile(
    r"^DTSTART(?P<params>(?:;[A-Z-]+=[^;:]+)*):(?P<value>\d{8}(?:T\d{6}(?P<utc>Z)?)?)$",
    re.IGNORECASE,
)


class RecurrenceError(ValueError):
    """A recurrence that cannot be used; the message says what to write instead."""


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RecurrenceError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin"
        ) from None


def _lines(text: str) -> list[str]:
    """Unfold RFC 5545 continuation lines (a line starting with a space continues the last)."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        if raw[:1] in {" ", "\t"} and lines:
            lines[-1] += raw[1:]
        elif raw.strip():
            lines.append(raw.strip())
    return lines


def _parse_dtstart(line: str) -> datetime:
    match = _DTSTART.match(line)
    if match is None:
        raise RecurrenceError(
            f"cannot read {line!r}; write DTSTART:20240303T020000Z or "
            "DTSTART;TZID=Europe/Berlin:20240303T020000"
        )
    zone: tzinfo = UTC
    for param in filter(None, match.group("params").split(";")):
        name, _, value = param.partition("=")
        if name.upper() == "TZID":
            zone = _zone(value)
        elif name.upper() != "VALUE":
            raise RecurrenceError(f"unsupported DTSTART parameter {name!r}")
    value = match.group("value")
    if match.group("utc") and zone is not UTC:
        raise RecurrenceError("DTSTART has both TZID and a trailing Z; give one of them")
    try:
        moment = datetime.strptime(value[:15], "%Y%m%dT%H%M%S" if "T" in value else "%Y%m%d")
    except ValueError:
        raise RecurrenceError(f"{value!r} in DTSTART is not a date and time") from None
    if moment.year < _EARLIEST_YEAR:
        raise RecurrenceError(f"DTSTART must be in {_EARLIEST_YEAR} or later")
    return moment.replace(tzinfo=zone)


def _property(line: str) -> str:
    name = re.split(r"[;:]", line, maxsplit=1)[0].upper()
    if name not in _PROPERTIES:
        raise RecurrenceError(
            f"unsupported line {line!r}; a recurrence has one DTSTART and RRULE, RDATE or "
            "EXDATE lines"
        )
    if name == "RRULE":
        parts = {
            part.partition("=")[0]: part.partition("=")[2]
            for part in line.split(":", 1)[-1].upper().split(";")
        }
        frequency = parts.get("FREQ")
        if not frequency:
            raise RecurrenceError("RRULE needs FREQ, e.g. RRULE:FREQ=WEEKLY;BYDAY=SU")
        if frequency in _TOO_FREQUENT:
            raise RecurrenceError(
                f"FREQ={frequency} recurs too often for a budget correction; the shortest is "
                "FREQ=HOURLY"
            )
        _check_month_days(parts.get("BYMONTHDAY"), parts.get("BYMONTH"))
    return name


def _check_month_days(days: str | None, months: str | None) -> None:
    try:
        day_numbers = [abs(int(day)) for day in days.split(",")] if days else []
        month_numbers = [int(month) for month in months.split(",")] if months else range(1, 13)
    except ValueError:
        return  # dateutil names the malformed part
    if day_numbers and not any(
        day <= _MONTH_DAYS[month - 1]
        for day in day_numbers
        for month in month_numbers
        if 1 <= month <= 12
    ):
        raise RecurrenceError(f"BYMONTHDAY={days} never falls in BYMONTH={months}")


class Recurrence:
    """A validated recurrence set; occurrence starts are epoch seconds."""

    def __init__(self, text: str, start: datetime, rules: rruleset) -> None:
        self.text = text
        self.start = start
        self._rules = rules
        self._lock = threading.Lock()
        self._iterator: Iterator[datetime] = iter(rules)
        self._starts: list[int] = []  # expanded so far, ascending
        self._exhausted = False

    def _expand_through(self, t: int) -> None:
        """Expand until an occurrence after `t` is known, or the rule ends."""
        while not self._exhausted and (not self._starts or self._starts[-1] <= t):
            occurrence = next(self._iterator, None)
            if occurrence is None:
                self._exhausted = True
            else:
                self._starts.append(int(occurrence.timestamp()))

    def starts_between(self, after: int, before: int) -> list[int]:
        """Occurrence starts `s` with `after <= s < before`, ascending."""
        with self._lock:
            self._expand_through(before)
            starts = self._starts
            return starts[bisect_left(starts, after) : bisect_left(starts, before)]

    def __repr__(self) -> str:
        return f"Recurrence({self.text!r})"


@lru_cache(maxsize=256)
def parse_recurrence(text: str) -> Recurrence:
    """Parse and check a recurrence; the same text gives the same (shared) object."""
    lines = _lines(text)
    starts = [line for line in lines if line.upper().startswith("DTSTART")]
    if len(starts) != 1:
        raise RecurrenceError(
            "a recurrence needs exactly one DTSTART line, e.g. "
            "DTSTART;TZID=Europe/Berlin:20240303T020000 before RRULE:FREQ=WEEKLY;BYDAY=SU"
        )
    dtstart = _parse_dtstart(starts[0])
    # A bare `FREQ=...` line is an RRULE line, as dateutil and most calendar UIs accept it.
    body = [
        f"RRULE:{line}" if line.upper().startswith("FREQ=") else line
        for line in lines
        if not line.upper().startswith("DTSTART")
    ]
    names = [_property(line) for line in body]
    if "RRULE" not in names:
        raise RecurrenceError("a recurrence needs an RRULE line, e.g. RRULE:FREQ=WEEKLY;BYDAY=SU")
    try:
        rules = rrulestr("\n".join(body), dtstart=dtstart, forceset=True, tzids=_zone)
        assert isinstance(rules, rruleset)  # forceset=True
        # Trial expansion: mixed naive and aware EXDATEs only fail when compared.
        first = list(islice(iter(rules), 1))
    except RecurrenceError:
        raise
    except TypeError as error:
        if "offset-naive" not in str(error):
            raise RecurrenceError(f"invalid RRULE: {error}") from None
        raise RecurrenceError(
            "RDATE and EXDATE times need a zone, as DTSTART has: a trailing Z or TZID=..."
        ) from None
    except (ValueError, OverflowError, KeyError, IndexError, AttributeError) as error:
        # dateutil's parser says what it could not read, in more ways than one.
        raise RecurrenceError(f"invalid RRULE: {error}") from None
    if not first:
        raise RecurrenceError("the rule has no occurrences (check COUNT, UNTIL and EXDATE)")
    return Recurrence("\n".join(lines), dtstart, rules)
