"""Corrections → excluded slices: the overlap rule, merging, chunk masks, scopes, YAML sync plans."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.slo.correction_spec import CorrectionSpec
from app.slo.corrections import Correction, plan_declared
from app.slo.exclusions import ExcludedSlices, excluded_slices
from app.slo.ledger import SliceRecord, SliceStatus
from app.slo.windows import Window

T0 = 1_709_510_400  # 2024-03-04 00:00 UTC, a Monday


def one_off(name: str, start: int, end: int, **extra: object) -> CorrectionSpec:
    return CorrectionSpec(
        name=name, category="maintenance", note="n", start=start, end=end, **extra
    )


def recurring(name: str, rrule: str, duration: str) -> CorrectionSpec:
    return CorrectionSpec(
        name=name, category="maintenance", note="n", rrule=rrule, duration=duration
    )


def ends(excluded: ExcludedSlices) -> list[int]:
    step = excluded.slice_seconds
    return [t for first, last in excluded.ranges for t in range(first, last + 1, step)]


def test_an_interval_on_slice_boundaries_excludes_the_slices_ending_inside_it() -> None:
    excluded = ExcludedSlices.of([(T0 + 600, T0 + 900)], 60, Window(T0, T0 + 3600))
    assert ends(excluded) == [T0 + 660, T0 + 720, T0 + 780, T0 + 840, T0 + 900]
    assert excluded.count == 5
    assert T0 + 600 not in excluded and T0 + 960 not in excluded


def test_a_slice_touched_by_any_part_of_an_interval_is_excluded() -> None:
    # [10:30, 12:01) touches the slices (10:00, 11:00] … (12:00, 13:00] of one minute each.
    excluded = ExcludedSlices.of([(T0 + 30, T0 + 121)], 60, Window(T0, T0 + 3600))
    assert ends(excluded) == [T0 + 60, T0 + 120, T0 + 180]


def test_overlapping_and_adjacent_intervals_merge_and_the_window_clips() -> None:
    intervals = [(T0 + 300, T0 + 600), (T0 + 600, T0 + 660), (T0 + 500, T0 + 540), (T0 - 60, T0)]
    excluded = ExcludedSlices.of(intervals, 60, Window(T0, T0 + 3600))
    assert excluded.ranges == ((T0 + 360, T0 + 660),)
    clipped = ExcludedSlices.of([(T0 - 3600, T0 + 120)], 60, Window(T0, T0 + 3600))
    assert clipped.ranges == ((T0 + 60, T0 + 120),)
    assert not ExcludedSlices.of([(T0 + 10, T0 + 10)], 60, Window(T0, T0 + 3600))


@settings(max_examples=300, deadline=None)
@given(
    step=st.sampled_from([15, 60, 300]),
    intervals=st.lists(
        st.tuples(st.integers(0, 7200), st.integers(1, 2000)).map(lambda p: (p[0], p[0] + p[1])),
        max_size=8,
    ),
    lo=st.integers(0, 3600),
    span=st.integers(0, 7200),
)
def test_membership_and_masks_match_the_overlap_rule(
    step: int, intervals: list[tuple[int, int]], lo: int, span: int
) -> None:
    window = Window(T0 + lo, T0 + lo + span)
    shifted = [(T0 + a, T0 + b) for a, b in intervals]
    excluded = ExcludedSlices.of(shifted, step, window)
    first = -(-(window.start + 1) // step) * step
    slice_ends = list(range(first, window.end + 1, step))
    expected = [any(a < t < b + step for a, b in shifted) for t in slice_ends]
    assert [t in excluded for t in slice_ends] == expected
    if slice_ends:
        assert excluded.mask(slice_ends[0], slice_ends[-1]) == expected
        assert excluded.mask(slice_ends[0] + step, slice_ends[-1]) == expected[1:]
    assert excluded.count == sum(expected)


def test_mark_sets_and_clears_the_flag() -> None:
    excluded = ExcludedSlices.of([(T0, T0 + 120)], 60, Window(T0, T0 + 600))
    inside = SliceRecord(t=T0 + 60, status=SliceStatus.OK, total=10, bad=1)
    outside = SliceRecord(t=T0 + 240, status=SliceStatus.OK, total=10, bad=1, excluded=True)
    assert excluded.mark(inside).excluded and not excluded.mark(outside).excluded
    assert excluded.mark(excluded.mark(inside)) == excluded.mark(inside)


def test_recurring_corrections_cover_each_occurrence_for_its_duration() -> None:
    # Daily 00:30 Berlin (23:30 UTC in March) for 45 minutes: each crosses midnight UTC.
    rule = "DTSTART;TZID=Europe/Berlin:20240301T003000\nRRULE:FREQ=DAILY"
    spec = recurring("nightly", rule, "45m")
    window = Window(T0, T0 + 2 * 86400)
    # The occurrence of the evening before the window still covers its first 15 minutes.
    assert spec.intervals(window.start, window.end) == [
        (T0 - 1800, T0 + 900),
        (T0 + 84600, T0 + 87300),
        (T0 + 171000, T0 + 173700),
    ]
    correction = Correction(spec, "checkout", "checkout-success")
    excluded = excluded_slices([correction], "checkout/checkout-success", window, 60)
    assert excluded.ranges == (
        (T0 + 60, T0 + 900),
        (T0 + 84660, T0 + 87300),
        (T0 + 171060, window.end),
    )


def test_scope_is_one_slo_or_every_slo_of_a_service() -> None:
    window = Window(T0, T0 + 3600)
    freeze = Correction(one_off("freeze", T0, T0 + 600), "checkout")
    own = Correction(one_off("own", T0 + 1200, T0 + 1800), "checkout", "checkout-latency")
    key = "checkout/checkout-success"
    assert excluded_slices([freeze, own], key, window, 60).count == 10
    assert excluded_slices([freeze, own], "checkout/checkout-latency", window, 60).count == 20
    assert excluded_slices([freeze, own], "orders/orders-freshness", window, 60).count == 0


def test_one_off_windows_must_end_after_they_start() -> None:
    with pytest.raises(ValueError, match="`end` must be after `start`"):
        one_off("x", T0, T0)
    with pytest.raises(ValueError, match="not both"):
        one_off("x", T0, T0 + 60, duration="1h")
    spec = CorrectionSpec.model_validate(
        {
            "name": "x",
            "category": "deployment",
            "note": "n",
            "start": "2024-03-04T01:00:00+01:00",
            "end": datetime.fromisoformat("2024-03-04T00:30:00+00:00"),
        }
    )
    assert (spec.start, spec.end) == (T0, T0 + 1800)
    dumped = spec.model_dump(mode="json")
    assert dumped["start"] == "2024-03-04T00:00:00Z"
    assert CorrectionSpec.model_validate(dumped) == spec


def stored(spec: CorrectionSpec, scope: tuple[str, str | None], source: str) -> Correction:
    return Correction(spec, scope[0], scope[1], source=source, id=1)


def test_yaml_sync_plans_creates_updates_and_deletes_by_scope_and_name() -> None:
    slo = ("checkout", "checkout-success")
    weekly = recurring("weekly", "DTSTART:20240303T020000Z\nRRULE:FREQ=WEEKLY", "2h")
    freeze = one_off("freeze", T0, T0 + 600)
    declared = [
        Correction(weekly, *slo, source="file:a.yaml"),
        Correction(freeze.model_copy(update={"note": "new"}), "checkout", source="file:a.yaml"),
        Correction(one_off("taken", T0, T0 + 60), *slo, source="file:a.yaml"),
    ]
    existing = [
        stored(weekly, slo, "file:a.yaml"),  # unchanged
        stored(freeze, ("checkout", None), "file:a.yaml"),  # note edited
        stored(one_off("gone", T0, T0 + 60), slo, "file:old.yaml"),  # no longer declared
        stored(one_off("manual", T0, T0 + 60), slo, "api"),  # made through the API: stays
        stored(one_off("taken", T0, T0 + 60), slo, "api"),  # now declared: the file takes it
    ]
    plan = plan_declared(declared, existing)
    assert [(change.describe(), change.actor) for change in plan] == [
        ("update checkout/freeze", "file:a.yaml"),
        ("update checkout/checkout-success/taken", "file:a.yaml"),
        ("delete checkout/checkout-success/gone", "file:old.yaml"),
    ]
    # A new note moves no window; a new source neither; a deletion does.
    assert [change.moves_windows for change in plan] == [False, False, True]
    assert plan_declared(declared[:1], existing[:1]) == []
