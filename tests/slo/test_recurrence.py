"""RFC 5545 recurrences of budget corrections: time zones, DST changes, EXDATE, and errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.slo.recurrence import RecurrenceError, parse_recurrence

FAR = 2**40


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def utc(starts: list[int]) -> list[str]:
    return [datetime.fromtimestamp(s, UTC).strftime("%Y-%m-%d %H:%M") for s in starts]


def starts(text: str, after: int = 0, before: int = FAR) -> list[str]:
    return utc(parse_recurrence(text).starts_between(after, before))


def test_local_time_stays_local_across_the_spring_dst_change() -> None:
    # Europe/Berlin moves from CET (+1) to CEST (+2) on 2024-03-31.
    rule = "DTSTART;TZID=Europe/Berlin:20240324T040000\nRRULE:FREQ=WEEKLY;BYDAY=SU;COUNT=3"
    assert starts(rule) == ["2024-03-24 03:00", "2024-03-31 02:00", "2024-04-07 02:00"]


def test_local_time_stays_local_across_the_autumn_dst_change() -> None:
    # 2024-10-27: CEST (+2) back to CET (+1); 02:30 happens twice and the first one is meant.
    rule = "DTSTART;TZID=Europe/Berlin:20241020T023000\nRRULE:FREQ=WEEKLY;COUNT=3"
    assert starts(rule) == ["2024-10-20 00:30", "2024-10-27 00:30", "2024-11-03 01:30"]


def test_a_skipped_local_time_takes_the_offset_from_before_the_change() -> None:
    # 02:30 does not exist in Berlin on 2024-03-31: it is read as 02:30 CET, i.e. 03:30 CEST.
    rule = "DTSTART;TZID=Europe/Berlin:20240329T023000\nRRULE:FREQ=DAILY;COUNT=4"
    assert starts(rule) == [
        "2024-03-29 01:30",
        "2024-03-30 01:30",
        "2024-03-31 01:30",
        "2024-04-01 00:30",
    ]


def test_another_zone_changes_on_its_own_date() -> None:
    # America/New_York moves to EDT on 2024-03-10, three weeks before Europe.
    rule = "DTSTART;TZID=America/New_York:20240308T090000\nRRULE:FREQ=DAILY;COUNT=4"
    assert starts(rule) == [
        "2024-03-08 14:00",
        "2024-03-09 14:00",
        "2024-03-10 13:00",
        "2024-03-11 13:00",
    ]


@pytest.mark.parametrize("dtstart", ["DTSTART:20240303T020000Z", "DTSTART:20240303T020000"])
def test_utc_and_floating_starts_recur_in_utc(dtstart: str) -> None:
    rule = f"{dtstart}\nRRULE:FREQ=WEEKLY;BYDAY=SU;COUNT=5"
    assert starts(rule, ts("2024-03-20T00:00:00+00:00"), ts("2024-04-01T00:00:00+00:00")) == [
        "2024-03-24 02:00",
        "2024-03-31 02:00",
    ]


def test_exdate_rdate_until_and_a_bare_rule_line() -> None:
    rule = (
        "DTSTART;TZID=Europe/Berlin:20240304T220000\n"
        "FREQ=DAILY;UNTIL=20240308T000000Z\n"
        "EXDATE;TZID=Europe/Berlin:20240305T220000\n"
        "RDATE:20240310T120000Z"
    )
    assert starts(rule) == [
        "2024-03-04 21:00",
        "2024-03-06 21:00",
        "2024-03-07 21:00",
        "2024-03-10 12:00",
    ]


def test_folded_lines_are_unfolded() -> None:
    rule = "DTSTART:20240304T000000Z\r\nRRULE:FREQ=HOURLY;INTERVAL=6;\r\n COUNT=3\r\n"
    assert starts(rule) == ["2024-03-04 00:00", "2024-03-04 06:00", "2024-03-04 12:00"]


def test_occurrences_in_a_range_are_half_open_and_expansion_is_shared() -> None:
    text = "DTSTART:20200101T000000Z\nRRULE:FREQ=HOURLY"
    recurrence = parse_recurrence(text)
    assert parse_recurrence(text) is recurrence  # parsed once, expanded once
    at = ts("2024-03-04T00:00:00+00:00")
    assert recurrence.starts_between(at, at + 3 * 3600) == [at, at + 3600, at + 7200]
    assert recurrence.starts_between(at - 1, at) == []
    since = ts("2020-01-01T00:00:00+00:00")
    assert len(recurrence.starts_between(since, at)) == (at - since) // 3600 == 1524 * 24


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("RRULE:FREQ=WEEKLY", "needs exactly one DTSTART"),
        ("DTSTART:20240101T000000Z", "needs an RRULE line"),
        ("DTSTART:2024-01-01\nRRULE:FREQ=DAILY", "cannot read 'DTSTART:2024-01-01'"),
        ("DTSTART;TZID=Mars/Olympus:20240101T000000\nRRULE:FREQ=DAILY", "unknown time zone"),
        ("DTSTART;TZID=UTC:20240101T000000Z\nRRULE:FREQ=DAILY", "both TZID and a trailing Z"),
        ("DTSTART:20240101T000000Z\nRRULE:BYDAY=MO", "RRULE needs FREQ"),
        ("DTSTART:20240101T000000Z\nRRULE:FREQ=MINUTELY", "recurs too often"),
        ("DTSTART:20240101T000000Z\nRRULE:FREQ=WEEKLY;BYDAY=XX", "invalid 'BYDAY': XX"),
        ("DTSTART:20240101T000000Z\nRRULE:FREQ=DAILY;UNTIL=20240105T000000", "in UTC"),
        ("DTSTART:20240101T000000Z\nRRULE:FREQ=DAILY\nEXDATE:20240102T000000", "need a zone"),
        ("DTSTART:20240101T000000Z\nSUMMARY:deploy", "unsupported line 'SUMMARY:deploy'"),
        ("DTSTART:20240101T000000Z\nRRULE:FREQ=DAILY;COUNT=1\nEXDATE:20240101T000000Z", "no occ"),
        ("DTSTART:20240101T000000Z\nRRULE:FREQ=DAILY;BYMONTH=2,4;BYMONTHDAY=31", "never falls"),
        ("DTSTART:19690101T000000Z\nRRULE:FREQ=DAILY", "1970 or later"),
        ("DTSTART:20241301T000000Z\nRRULE:FREQ=DAILY", "not a date and time"),
        ("DTSTART:20240101T000000Z\nRRULE:FREQ=DAILY\nEXRULE:FREQ=WEEKLY", "unsupported line"),
    ],
)
def test_unusable_rules_are_refused_with_what_to_write(text: str, message: str) -> None:
    with pytest.raises(RecurrenceError, match=message):
        parse_recurrence(text)
