"""A grouped SLO's chunk: each group evaluated from its own series of the one answer, global
`when` conditions applied to every group, the cap, and the SLO level as the exact sum."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.slo.chunk import ChunkEvaluator
from app.slo.chunk_outcome import ChunkOutcome
from app.slo.grid import GridAnswer
from app.slo.group_chunk import GroupedEvaluator, LabelledAnswer
from app.slo.spec import SLOSpec

SLICES = 6


def grouped_spec(max_groups: int = 500) -> SLOSpec:
    return SLOSpec.model_validate(
        {
            "name": "success",
            "objective": 99,
            "group_by": ["route"],
            "max_groups": max_groups,
            "sli": {
                "events": {
                    "total": "sum by (route) (increase(a[{{window}}]))",
                    "bad": "sum by (route) (increase(b[{{window}}]))",
                }
            },
            "failure_modes": [
                {"name": "timeout", "design_choice": "synchronous-call",
                 "bad": "sum by (route) (increase(t[{{window}}]))"},
                {"name": "route-down", "design_choice": "synchronous-call",
                 "when": "max by (route) (down) > 0"},
                {"name": "outage", "design_choice": "multi-region", "when": "min(probe) == 0"},
            ],
        }
    )  # fmt: skip


def ungrouped(spec: SLOSpec) -> SLOSpec:
    return spec.model_copy(update={"group_by": None, "max_groups": None})


def series(values: list[float | None]) -> tuple[np.ndarray, np.ndarray]:
    present = np.array([v is not None for v in values])
    return np.array([0.0 if v is None else v for v in values]), present


def answer(rows: dict[str, list[float | None]]) -> LabelledAnswer:
    """Rows by route (an empty route name: a series without labels)."""
    built = [series(values) for values in rows.values()]
    values = np.stack([v for v, _ in built]) if built else np.zeros((0, SLICES))
    present = np.stack([p for _, p in built]) if built else np.zeros((0, SLICES), dtype=bool)
    labels = [{"route": route} if route else {} for route in rows]
    return GridAnswer(values, present), labels


def story(routes: list[str]) -> dict[str, LabelledAnswer]:
    rng = np.random.default_rng(7)
    total = {r: [float(v) for v in rng.integers(50, 500, SLICES)] for r in routes}
    bad = {r: [float(v) for v in rng.integers(0, 20, SLICES)] for r in routes}
    timeout = {r: [float(v) for v in rng.integers(0, 10, SLICES)] for r in routes}
    total[routes[0]][2] = None  # type: ignore[call-overload]  # a slice without data
    down = {routes[1]: [0.0, 1.0, 1.0, None, None, 0.0]}
    return {
        "total": answer(total),  # type: ignore[arg-type]
        "bad": answer(bad),  # type: ignore[arg-type]
        "mode:timeout:bad": answer(timeout),  # type: ignore[arg-type]
        "mode:route-down:when": answer(down),  # type: ignore[arg-type]
        "mode:outage:when": answer({"": [None, None, None, None, 0.0, 0.0]}),
    }


def only(answers: dict[str, LabelledAnswer], routes: set[str]) -> dict[str, GridAnswer]:
    chosen = {}
    for key, (grid, labels) in answers.items():
        if key == "mode:outage:when":
            chosen[key] = grid
            continue
        rows = [i for i, found in enumerate(labels) if found.get("route") in routes]
        chosen[key] = GridAnswer(grid.values[rows], grid.present[rows])
    return chosen


def assert_same(found: ChunkOutcome, expected: ChunkOutcome) -> None:
    assert found.records() == expected.records()


def assert_sum(slo: ChunkOutcome, groups: list[ChunkOutcome]) -> None:
    assert np.array_equal(slo.ok, np.any([g.ok for g in groups], axis=0))
    for column in ("total", "bad", "unattributed"):
        assert np.array_equal(getattr(slo, column), sum(getattr(g, column) for g in groups))
    for index, mode in enumerate(slo.modes):
        assert np.array_equal(mode.credited, sum(g.modes[index].credited for g in groups))


def test_each_group_is_evaluated_as_if_it_were_its_own_slo_and_the_slo_is_their_sum() -> None:
    spec = grouped_spec()
    routes = ["/cart", "/pay", "/search"]
    answers = story(routes)
    chunk = GroupedEvaluator(spec).evaluate(1000, SLICES, answers, known=())
    assert sorted(chunk.groups) == [(r,) for r in routes] and chunk.overflow == ()
    reference = ChunkEvaluator(ungrouped(spec))
    for route in routes:
        expected = reference.evaluate(1000, SLICES, only(answers, {route}))
        assert_same(chunk.groups[route,], expected)
    assert_sum(chunk.slo, list(chunk.groups.values()))
    # The per-group `when` spends only /pay's budget; the global one every group's.
    records = {route: chunk.groups[route,].records() for route in routes}
    assert records["/pay"][1].modes["route-down"].held is True
    assert records["/cart"][1].modes["route-down"].held is False
    assert all(records[route][5].modes["outage"].held for route in routes)
    # A group without data in a slice leaves it out of the SLO's sum there, nothing more.
    assert records["/cart"][2].status != "ok"
    assert chunk.slo.ok[2] and chunk.slo.total[2] == sum(records[r][2].total for r in routes)


def test_groups_beyond_the_cap_are_counted_together_in_other_and_reported() -> None:
    spec = grouped_spec(max_groups=3)
    routes = [f"/r{i}" for i in range(6)]
    answers = story(routes)
    evaluator = GroupedEvaluator(spec)
    chunk = evaluator.evaluate(1000, SLICES, answers, known=())
    other = ("__other__",)
    assert sorted(chunk.groups) == [("/r0",), ("/r1",), ("/r2",), other]
    assert chunk.overflow == (("/r3",), ("/r4",), ("/r5",))
    expected = ChunkEvaluator(ungrouped(spec)).evaluate(
        1000, SLICES, only(answers, {"/r3", "/r4", "/r5"})
    )
    assert_same(chunk.groups[other], expected)
    assert_sum(chunk.slo, list(chunk.groups.values()))
    # Groups that have a ledger keep it; newcomers fill what room is left, in sorted order.
    later = evaluator.evaluate(1000, SLICES, answers, known={("/r5",), ("/r4",), other})
    assert sorted(later.groups) == [("/r0",), ("/r4",), ("/r5",), other]
    assert later.overflow == (("/r1",), ("/r2",), ("/r3",))
    assert_sum(later.slo, list(later.groups.values()))
    # The SLO level does not depend on how groups are split.
    assert np.array_equal(later.slo.total, chunk.slo.total)


def test_the_global_cap_sends_new_groups_to_other_and_says_how_many_it_turned_away() -> None:
    spec = grouped_spec(max_groups=5)
    routes = [f"/r{i}" for i in range(6)]
    answers = story(routes)
    evaluator = GroupedEvaluator(spec)
    other = ("__other__",)
    # Room for two more groups over all SLOs: two get ledgers; of the four others, three would
    # have fit under `max_groups` (5) and are turned away by the global cap alone.
    chunk = evaluator.evaluate(1000, SLICES, answers, known=(), room_left=lambda: 2)
    assert sorted(chunk.groups) == [("/r0",), ("/r1",), other]
    assert chunk.overflow == (("/r2",), ("/r3",), ("/r4",), ("/r5",))
    assert chunk.beyond_total == 3
    assert_sum(chunk.slo, list(chunk.groups.values()))
    # Groups with a ledger keep it when the cap is reached (or passed); only newcomers wait.
    full = evaluator.evaluate(1000, SLICES, answers, known={("/r3",)}, room_left=lambda: -4)
    assert sorted(full.groups) == [("/r3",), other] and full.beyond_total == 4
    # Room enough: as without a global cap.
    roomy = evaluator.evaluate(1000, SLICES, answers, known=(), room_left=lambda: 100)
    assert roomy.overflow == (("/r5",),) and roomy.beyond_total == 0
    assert np.array_equal(roomy.slo.total, chunk.slo.total)
    # Without a new group to place, the room is not even asked (a count over every group).
    steady = evaluator.evaluate(1000, SLICES, answers, known=set(roomy.groups), room_left=None)
    asked: list[int] = []
    again = evaluator.evaluate(
        1000, SLICES, answers, known=set(roomy.groups), room_left=lambda: asked.append(1) or 0
    )
    assert asked == [] and sorted(again.groups) == sorted(steady.groups)


def test_without_any_group_the_slo_is_no_data_with_its_reason() -> None:
    spec = grouped_spec()
    chunk = GroupedEvaluator(spec).evaluate(1000, SLICES, {}, known=())
    assert chunk.groups == {} and not chunk.slo.ok.any()
    assert {r.no_data.encode() for r in chunk.slo.records() if r.no_data} == {"no-series:total"}


awkward = st.sampled_from([0.0, -0.0, math.nan, math.inf, 1e301])
amounts = st.one_of(st.integers(0, 1000).map(float), st.integers(0, 1000).map(float), awkward)


@st.composite
def labelled(
    draw: st.DrawFn, routes: list[str], slices: int, gauge: bool = False
) -> LabelledAnswer:
    """Some of the routes, each with a point in some slices (a series may repeat a route)."""
    chosen = draw(st.lists(st.sampled_from(routes), max_size=len(routes) + 1))
    values = st.sampled_from([0.0, 1.0]) if gauge else amounts
    rows = [[draw(st.one_of(st.none(), values)) for _ in range(slices)] for _ in chosen]
    built = [series(row) for row in rows]
    grid = (
        GridAnswer(np.stack([v for v, _ in built]), np.stack([p for _, p in built]))
        if built
        else GridAnswer.empty(slices)
    )
    return grid, [{"route": route} for route in chosen]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_answers_give_groups_as_their_own_slos_and_an_slo_that_is_their_exact_sum(
    data: st.DataObject,
) -> None:
    routes = [f"/r{i}" for i in range(data.draw(st.integers(1, 5)))]
    slices = data.draw(st.integers(1, 4))
    spec = grouped_spec(max_groups=data.draw(st.integers(1, 5)))
    answers = {
        key: data.draw(labelled(routes, slices, gauge=key.endswith(":when")))
        for key in ("total", "bad", "mode:timeout:bad", "mode:route-down:when")
    }
    answers["mode:outage:when"] = answer({"": data.draw(st.lists(st.sampled_from([None, 0.0]), min_size=slices, max_size=slices))})  # fmt: skip
    known = data.draw(st.sets(st.sampled_from(routes).map(lambda r: (r,))))
    chunk = GroupedEvaluator(spec).evaluate(1000, slices, answers, known)
    reference = ChunkEvaluator(ungrouped(spec))
    overflow = {group[0] for group in chunk.overflow}
    for group, outcome in chunk.groups.items():
        members = overflow if group == ("__other__",) else {group[0]}
        assert_same(outcome, reference.evaluate(1000, slices, only(answers, members)))
    if chunk.groups:
        assert_sum(chunk.slo, list(chunk.groups.values()))
    else:
        assert not chunk.slo.ok.any()
    admitted = [g for g in chunk.groups if g not in known and g != ("__other__",)]
    assert len([g for g in known if g in chunk.groups]) + len(admitted) <= max(
        len(known), spec.group_limit
    )
