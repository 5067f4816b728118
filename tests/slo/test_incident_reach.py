"""The hourly pre-selection of where incidents may lie finds every incident a full scan finds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.slo.alert_spec import IncidentRule
from app.slo.budget import consumed_by
from app.slo.incidents import HOUR, Incident, detect_incidents, incident_reach
from app.slo.ledger import SliceRecord, SliceStatus, WindowTotals
from app.slo.windows import Window, align_up

START = 1_700_000_000 - 1_700_000_000 % HOUR + 1_260  # not on an hour: ragged window edges
BUDGET = 0.001


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[SliceRecord], IncidentRule]:
    """Slices of a few hours: bursts, a trickle of bad, and quiet stretches with no bad."""
    kinds = []  # of each ten-minute stretch: quiet, trickle of bad or burst
    for hour in draw(st.lists(st.sampled_from("qqtbm"), min_size=1, max_size=12)):
        mixed = st.lists(st.sampled_from("qtb"), min_size=6, max_size=6)
        kinds += draw(mixed) if hour == "m" else [hour] * 6
    rule = IncidentRule(
        min_consumed=draw(st.sampled_from([0.001, 0.01, 0.05, 0.2, 0.5])),
        burn_rate_above=draw(st.sampled_from([0.5, 1.0, 6.0])),
        bucket=draw(st.sampled_from([300, 600, 900, 3600, 5400])),
        merge_gap=draw(st.sampled_from([0, 300, 1800, 3600, 3900, 7200])),
    )
    return records_of("".join(kinds)), rule


def records_of(kinds: str, start: int = START) -> list[SliceRecord]:
    """Ten slices per letter (ten minutes): q quiet, t a trickle of bad, b a burst."""
    records = []
    for index, kind in enumerate(kinds):
        for minute in range(10):
            t = start + (index * 10 + minute + 1) * 60
            share = {"q": 0.0, "t": 0.0005, "b": 0.03}[kind]
            bad = 100.0 * share * (1 + (minute % 3) / 4)
            records.append(SliceRecord(t=t, status=SliceStatus.OK, total=100.0, bad=bad))
    return records


@settings(max_examples=300, deadline=None)
@given(ledgers())
def test_incidents_in_the_reach_are_every_incident(
    case: tuple[list[SliceRecord], IncidentRule],
) -> None:
    assert_reach_keeps_every_incident(*case)


@pytest.mark.parametrize(("merge_gap", "merged"), [(3600, True), (3599, False)])
def test_bursts_a_quiet_hour_apart_merge_when_the_gap_allows(merge_gap: int, merged: bool) -> None:
    """Each burst alone spends too little; a quiet hour apart they are one incident when the
    merge gap is an hour, and then the reach must keep both."""
    # Half past an hour, so hours are whole from the fourth letter: one burst ends an hour,
    # the other starts the hour after the quiet one; quiet hours after them for the period.
    records = records_of("qqq" + "tttqqb" + "qqqqqq" + "bqqttt" + "q" * 36, START - 1260 + 1800)
    rule = IncidentRule(min_consumed=1.0, burn_rate_above=1.0, bucket=300, merge_gap=merge_gap)
    incidents = assert_reach_keeps_every_incident(records, rule)
    assert len(incidents) == int(merged)


def assert_reach_keeps_every_incident(
    records: list[SliceRecord], rule: IncidentRule
) -> list[Incident]:
    period = WindowTotals.of(records)
    window = Window(records[0].t - 60, records[-1].t)
    hours: dict[int, float] = {}
    for record in records:
        end = align_up(record.t, HOUR)
        hours[end] = hours.get(end, 0.0) + record.bad
    least = rule.min_consumed * (1 - 1e-9)
    reach = incident_reach(
        [(end, bad) for end, bad in sorted(hours.items()) if bad > 0],
        window,
        rule=rule,
        can_spend=lambda bad: consumed_by(bad, period, BUDGET) >= least,
    )
    assert all(window.start <= part.start < part.end <= window.end for part in reach)
    inside = [record for record in records if any(part.contains(record.t) for part in reach)]
    expected = detect_incidents(records, period_totals=period, budget=BUDGET, rule=rule)
    found = detect_incidents(inside, period_totals=period, budget=BUDGET, rule=rule)
    assert found == expected
    return expected
