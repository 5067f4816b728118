import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.slo.attribution import attribute

MODES = ["a", "b", "c", "d"]
counts = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)


@st.composite
def slices(draw: st.DrawFn) -> tuple[float, dict[str, float | None], dict[str, bool | None]]:
    bad = draw(counts)
    names = draw(st.lists(st.sampled_from(MODES), unique=True, max_size=4))
    mode_bad = {name: draw(st.one_of(st.none(), counts)) for name in names}
    mode_held = {name: draw(st.one_of(st.none(), st.booleans())) for name in names}
    return bad, mode_bad, mode_held


@given(slices())
def test_never_negative_and_adds_up_exactly(
    case: tuple[float, dict[str, float | None], dict[str, bool | None]],
) -> None:
    bad, mode_bad, mode_held = case
    result = attribute(bad, mode_bad, mode_held)
    assert all(value >= 0 for value in result.credited.values())
    assert result.unattributed >= 0
    parts = math.fsum([*result.credited.values(), result.unattributed])
    assert parts == pytest.approx(bad, rel=1e-12, abs=1e-9)


@given(slices())
def test_direct_credit_never_exceeds_the_mode_count(
    case: tuple[float, dict[str, float | None], dict[str, bool | None]],
) -> None:
    bad, mode_bad, _ = case
    result = attribute(bad, mode_bad, {})
    for mode, count in mode_bad.items():
        assert result.credited[mode] <= (count or 0.0) * (1 + 1e-12) + 1e-9


def test_bad_counts_are_credited_directly() -> None:
    result = attribute(10, {"timeout": 6, "conflict": 1}, {})
    assert result.credited == {"timeout": 6, "conflict": 1}
    assert result.unattributed == 3


def test_overlapping_bad_counts_are_scaled_down_to_fit() -> None:
    # One bad request with two causes: 8 + 4 claimed, only 6 bad.
    result = attribute(6, {"timeout": 8, "backlog": 4}, {})
    assert result.credited == pytest.approx({"timeout": 4, "backlog": 2})
    assert result.unattributed == 0


def test_the_rest_is_split_equally_among_holding_conditions() -> None:
    result = attribute(10, {"timeout": 4}, {"backlog": True, "lag": True, "region": False})
    assert result.credited == pytest.approx({"timeout": 4, "backlog": 3, "lag": 3, "region": 0})
    assert result.unattributed == 0


def test_a_mode_with_both_signals_gets_its_count_and_its_share() -> None:
    result = attribute(10, {"stale": 2}, {"stale": True, "backlog": True})
    assert result.credited == pytest.approx({"stale": 6, "backlog": 4})


def test_what_nobody_explains_stays_unattributed() -> None:
    result = attribute(5, {"timeout": 1}, {"backlog": False})
    assert result.credited == {"timeout": 1, "backlog": 0}
    assert result.unattributed == 4


def test_a_clean_slice_credits_nothing() -> None:
    result = attribute(0, {"timeout": 3}, {"backlog": True})
    assert result.credited == {"timeout": 0, "backlog": 0}
    assert result.unattributed == 0


def test_refuses_impossible_totals() -> None:
    with pytest.raises(ValueError, match="finite"):
        attribute(float("nan"), {}, {})
