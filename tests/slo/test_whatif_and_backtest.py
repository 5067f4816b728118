"""What-if edits and backtest scoring, as pure functions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.slo.backtest import Firing, incident_of, score, score_tiers
from app.slo.incidents import Incident
from app.slo.series import SliceSeries
from app.slo.whatif import Change, EditKind, ModeEdit, edit_series, edit_totals, parse_period
from app.slo.windows import Window

amounts = st.lists(
    st.tuples(
        st.floats(1, 1e4), st.floats(0, 1), st.floats(0, 1), st.booleans()
    ),  # total, bad share, mode's share of bad, counted
    min_size=1,
    max_size=60,
)


def _series(rows: list[tuple[float, float, float, bool]]) -> SliceSeries:
    t = np.arange(60, 60 * (len(rows) + 1), 60, dtype=np.int64)
    counted = np.array([int(c) for *_, c in rows], dtype=np.int64)
    total = np.array([r[0] if r[3] else 0.0 for r in rows])
    bad = np.array([r[0] * r[1] if r[3] else 0.0 for r in rows])
    credit = bad * np.array([r[2] for r in rows])
    zeros = np.zeros(len(rows), dtype=np.int64)
    return SliceSeries(t, counted, 1 - counted, zeros, total, bad, bad - credit, {"m": credit})


@settings(max_examples=200, deadline=None)
@given(amounts, st.floats(0, 1))
def test_editing_window_totals_is_editing_every_slice(
    rows: list[tuple[float, float, float, bool]], kept: float
) -> None:
    series = _series(rows)
    whole = Window(0, 60 * len(rows))
    edit = ModeEdit(mode="m", kind=EditKind.SCALE, value=kept)
    by_slice = edit_series(series, [edit]).totals(whole)
    by_sum = edit_totals(series.totals(whole), [edit])
    assert by_sum.bad == pytest.approx(by_slice.bad, rel=1e-9, abs=1e-9)
    assert by_sum.credited["m"] == pytest.approx(by_slice.credited["m"], rel=1e-9, abs=1e-9)
    assert by_sum.total == by_slice.total


def test_removing_is_scaling_by_zero_and_a_cap_keeps_a_ratio_of_each_slice() -> None:
    series = _series([(1000.0, 0.05, 0.8, True), (1000.0, 0.002, 1.0, True)])
    removed = edit_series(series, [ModeEdit(mode="m", kind=EditKind.REMOVE)])
    scaled = edit_series(series, [ModeEdit(mode="m", kind=EditKind.SCALE, value=0.0)])
    assert removed.bad.tolist() == scaled.bad.tolist() == pytest.approx([10.0, 0.0])
    capped = edit_series(series, [ModeEdit(mode="m", kind=EditKind.CAP, value=0.005)])
    assert capped.credited["m"].tolist() == pytest.approx([5.0, 2.0])  # 40 → 5; 2 stays
    assert capped.bad.tolist() == pytest.approx([15.0, 2.0])


def test_changes_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="cap"):
        ModeEdit(mode="m", kind=EditKind.CAP, value=2)
    with pytest.raises(ValueError, match="one edit per failure mode"):
        Change(modes=(ModeEdit(mode="m", kind=EditKind.REMOVE),) * 2)
    with pytest.raises(ValueError, match="period"):
        parse_period("30m")
    assert parse_period("month").describe() == "month (UTC)"
    assert Change().empty and Change(modes=()).linear


INCIDENTS = [Incident(start=1000, end=2000, consumed=0.3, bad=1.0)]


def test_a_firing_belongs_to_the_incident_its_short_window_overlaps() -> None:
    def fired(at: int, short: int = 300) -> Firing:
        return Firing("t", "page", short, at, None)

    assert incident_of(fired(1200), INCIDENTS) == 0
    assert incident_of(fired(2250), INCIDENTS) == 0  # its 5m window still saw the incident
    assert incident_of(fired(2400), INCIDENTS) is None  # too late: a false positive
    assert incident_of(fired(900), INCIDENTS) is None  # before it began
    assert incident_of(fired(8000, short=6 * 3600), INCIDENTS) == 0


def test_scores_are_the_four_criteria() -> None:
    firings = [
        Firing("fast", "page", 300, 1300, 2100),
        Firing("fast", "page", 300, 5000, 5600),  # nothing burned there
        Firing("slow", "ticket", 1800, 1900, None),  # still firing at the range's end
    ]
    fast, slow, both = score_tiers(["fast", "slow"], firings, INCIDENTS)
    assert (fast.precision, fast.recall, fast.false_positives) == (0.5, 1.0, 1)
    assert (fast.median_detection_seconds, fast.median_reset_seconds) == (300.0, 100.0)
    assert (slow.recall, slow.median_reset_seconds) == (1.0, None)
    assert both.detections[0].detection_seconds == 300 and both.detections[0].reset_seconds is None
    nothing = score("x", [], [])
    assert (nothing.precision, nothing.recall, nothing.missed) == (None, None, 0)
