"""The URL is the state of a page: parsing, defaults, and what controls write back."""

from __future__ import annotations

import pytest

from app.web.urlstate import ViewState, parse, with_controls


def test_defaults_make_an_empty_query() -> None:
    assert ViewState().query() == ""
    assert parse("") == ViewState()
    assert parse(None) == ViewState()


def test_a_query_round_trips() -> None:
    state = ViewState(
        range="custom",
        start="now-5h",
        end="2024-03-04T06:00:00Z",
        refresh="off",
        sort="burn_rate",
        search="check",
        service=("checkout", "orders"),
        label=("team:payments",),
        policy=("exhausted", "at-risk"),
        status=("ok",),
        group_by="dependency",
    )
    assert parse(state.query()) == state
    assert parse(state.query().removeprefix("?")) == state


def test_values_that_make_no_sense_fall_back_to_defaults() -> None:
    state = parse("?range=fortnight&sort=colour&refresh=1s&group_by=team&unknown=1&search=%20x%20")
    assert (state.range, state.sort, state.refresh, state.group_by) == (
        "period",
        "remaining",
        "1m",
        "failure_mode",
    )
    assert state.search == "x"


def test_start_and_end_belong_to_custom_ranges_only() -> None:
    assert ViewState(range="7d", start="now-1h").query() == "?range=7d"
    assert ViewState(range="custom", start="now-1h").query() == "?range=custom&start=now-1h"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (ViewState(), (None, None)),
        (ViewState(range="7d"), ("now-7d", None)),
        (ViewState(range="6h"), ("now-6h", None)),
        (ViewState(range="custom", start="now-5h", end="now-1h"), ("now-5h", "now-1h")),
        (ViewState(range="custom"), (None, None)),
    ],
)
def test_range_params_are_the_apis(
    state: ViewState, expected: tuple[str | None, str | None]
) -> None:
    assert state.range_params() == expected


def test_period_on_pages_of_many_slos_uses_the_given_span() -> None:
    assert ViewState().range_params("30d") == ("now-30d", None)
    assert ViewState(range="1d").range_params("30d") == ("now-1d", None)


def test_controls_update_the_state_they_name() -> None:
    state = with_controls(
        ViewState(search="old"),
        {"sort": "name", "policy": ["exhausted"], "search": "", "refresh": "bogus", "x": 1},
    )
    assert (state.sort, state.policy, state.search, state.refresh) == (
        "name",
        ("exhausted",),
        "",
        "1m",
    )


def test_refresh_seconds() -> None:
    assert [parse(f"?refresh={r}").refresh_seconds for r in ("off", "30s", "1m", "5m")] == [
        0,
        30,
        60,
        300,
    ]
