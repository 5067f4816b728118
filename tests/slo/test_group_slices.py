"""Grouped SLOs budgeted in time slices (a threshold SLI, or `timeslices` of events): each
group's ledger is that of the ungrouped SLO of its series alone, and the SLO's slice counts one
unit per group with data in it (its bad: the groups whose slice is bad), so the group ledgers
add up to the SLO's exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.slo.chunk import ChunkEvaluator
from app.slo.grid import GridAnswer
from app.slo.group_chunk import GroupedEvaluator, LabelledAnswer
from app.slo.queries import signals
from app.slo.spec import SLOSpec
from tests.slo.test_group_chunk import assert_same, assert_sum, labelled, series, ungrouped

SLICES = 6
REGIONS = ["ap-south", "eu-west", "us-east"]


def lag_spec(op: str = "<=", max_groups: int = 500) -> SLOSpec:
    return SLOSpec.model_validate(
        {
            "name": "replica-lag",
            "objective": 99,
            "group_by": ["region"],
            "max_groups": max_groups,
            "sli": {
                "threshold": {
                    "query": "max by (region) (pg_replication_lag_seconds)",
                    "op": op,
                    "value": 30,
                }
            },
            "failure_modes": [
                {"name": "partition", "design_choice": "multi-region",
                 "when": "max by (region) (link_down) > 0"},
                {"name": "checkpoint", "design_choice": "read-replica",
                 "when": "max(primary_checkpointing) > 0"},
            ],
        }
    )  # fmt: skip


def sliced_spec() -> SLOSpec:
    return SLOSpec.model_validate(
        {
            "name": "success",
            "objective": 99,
            "budgeting": "timeslices",
            "slice_target": 95,
            "group_by": ["region"],
            "sli": {
                "events": {
                    "total": "sum by (region) (increase(a[{{window}}]))",
                    "bad": "sum by (region) (increase(b[{{window}}]))",
                }
            },
            "failure_modes": [
                {"name": "timeout", "design_choice": "synchronous-call",
                 "bad": "sum by (region) (increase(t[{{window}}]))"},
                {"name": "outage", "design_choice": "multi-region", "when": "min(probe) == 0"},
            ],
        }
    )  # fmt: skip


def by_region(rows: list[tuple[str, list[float | None]]]) -> LabelledAnswer:
    """Rows as (region, values); an empty region: a series without the label."""
    built = [series(values) for _, values in rows]
    if not built:
        return GridAnswer.empty(SLICES), []
    grid = GridAnswer(np.stack([v for v, _ in built]), np.stack([p for _, p in built]))
    return grid, [{"region": region} if region else {} for region, _ in rows]


def alone(answers: dict[str, LabelledAnswer], regions: set[str]) -> dict[str, GridAnswer]:
    """The answers the ungrouped SLO of `regions` alone would get (global ones whole)."""
    chosen = {}
    for key, (grid, labels) in answers.items():
        if key == "mode:checkpoint:when" or all(not found for found in labels):
            chosen[key] = grid
            continue
        rows = [i for i, found in enumerate(labels) if found.get("region") in regions]
        chosen[key] = GridAnswer(grid.values[rows], grid.present[rows])
    return chosen


def lag_story() -> dict[str, LabelledAnswer]:
    return {
        "threshold": by_region(
            [
                ("us-east", [1.0, 45.0, 50.0, 40.0, 2.0, 1.0]),  # lags on a partition
                ("eu-west", [1.0, 1.0, 1.0, 31.0, None, 2.0]),  # briefly, unexplained
                ("eu-west", [2.0, 2.0, 2.0, 2.0, 2.0, 2.0]),  # a second replica there
                ("ap-south", [1.0, 1.0, 1.0, 1.0, 1.0, 99.0]),  # stale in its last slice
            ]
        ),
        "freshness": by_region(
            [
                ("us-east", [1.0] * 6),
                ("eu-west", [2.0, 2.0, 2.0, 2.0, None, 1.0]),
                ("ap-south", [1.0, 1.0, 1.0, 1.0, 1.0, None]),
            ]
        ),
        "mode:partition:when": by_region([("us-east", [None, 1.0, 1.0, None, None, None])]),
        "mode:checkpoint:when": by_region([("", [None, None, None, 1.0, None, None])]),
    }


def test_each_region_is_judged_on_its_own_gauge_and_the_slo_counts_one_slice_per_region() -> None:
    spec = lag_spec()
    assert "count by (region)" in {s.key: s for s in signals(spec)}["freshness"].template
    answers = lag_story()
    chunk = GroupedEvaluator(spec).evaluate(1000, SLICES, answers, known=())
    reference = ChunkEvaluator(ungrouped(spec))
    for region in REGIONS:
        expected = reference.evaluate(1000, SLICES, alone(answers, {region}))
        assert_same(chunk.groups[region,], expected)
    assert_sum(chunk.slo, list(chunk.groups.values()))
    # Slice by slice: regions with data, regions whose slice is bad.
    assert chunk.slo.total.tolist() == [3, 3, 3, 3, 2, 2]
    assert chunk.slo.bad.tolist() == [0, 1, 1, 2, 0, 0]
    east = chunk.groups["us-east",].records()
    assert [r.modes["partition"].credited for r in east[:4]] == [0.0, 1.0, 1.0, 0.0]
    # The unexplained eu-west lag meets a global condition: it is credited there, per group.
    west = chunk.groups["eu-west",].records()
    assert west[3].modes["checkpoint"].credited == 1.0 and west[3].unattributed == 0.0
    assert east[3].modes["checkpoint"].credited == 1.0  # 40 s: bad in us-east as well
    # A region whose gauges went unsampled is no-data there, not judged on a stale value.
    south = chunk.groups["ap-south",].records()
    for record in (west[4], south[5]):
        assert record.no_data is not None and record.no_data.encode() == "stale-gauge:threshold"
    # The SLO's value: the worst region's (the highest lag of those with data).
    assert chunk.slo.value is not None
    assert chunk.slo.value.tolist() == [2.0, 45.0, 50.0, 40.0, 2.0, 2.0]


def test_freshness_without_group_labels_holds_for_every_group() -> None:
    """A gauge whose group label is made by `label_replace` has selectors without it: its
    freshness count is one series without the label, which then holds for every group."""
    spec = lag_spec()
    answers = lag_story()
    answers["freshness"] = by_region([("", [1.0, 1.0, 1.0, 1.0, None, 1.0])])
    chunk = GroupedEvaluator(spec).evaluate(1000, SLICES, answers, known=())
    reference = ChunkEvaluator(ungrouped(spec))
    for region in REGIONS:
        assert_same(chunk.groups[region,], reference.evaluate(1000, SLICES, alone(answers, {region})))  # fmt: skip
    assert chunk.slo.ok.tolist() == [True, True, True, True, False, True]


def test_a_lower_bound_makes_the_lowest_group_the_worst() -> None:
    chunk = GroupedEvaluator(lag_spec(">=")).evaluate(1000, SLICES, lag_story(), known=())
    assert chunk.slo.value is not None
    assert chunk.slo.value.tolist() == [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]


def test_time_slices_of_events_are_judged_per_group_and_summed() -> None:
    spec = sliced_spec()
    answers = {
        "total": by_region(
            [("eu-west", [100.0] * 6), ("us-east", [100.0, 100.0, 0.0, None, 50.0, 100.0])]
        ),
        "bad": by_region(
            [
                ("eu-west", [0.0, 10.0, 0.0, 0.0, 0.0, 6.0]),
                ("us-east", [20.0, 0.0, 0.0, 0.0, 1.0, 6.0]),
            ]
        ),
        "mode:timeout:bad": by_region([("us-east", [20.0, 0.0, 0.0, 0.0, 0.0, 0.0])]),
        "mode:outage:when": by_region([("", [None, 1.0, None, None, None, None])]),
    }
    chunk = GroupedEvaluator(spec).evaluate(1000, SLICES, answers, known=())
    reference = ChunkEvaluator(ungrouped(spec))
    for region in ("eu-west", "us-east"):
        assert_same(chunk.groups[region,], reference.evaluate(1000, SLICES, alone(answers, {region})))  # fmt: skip
    assert_sum(chunk.slo, list(chunk.groups.values()))
    # us-east's zero-traffic slice is judged as no slice at all; its no-data one adds nothing.
    assert chunk.slo.total.tolist() == [2, 2, 1, 1, 2, 2]
    assert chunk.slo.bad.tolist() == [1, 1, 0, 0, 0, 2]
    assert chunk.slo.events_total is not None and chunk.slo.events_bad is not None
    assert chunk.slo.events_total.tolist() == [200, 200, 100, 100, 150, 200]
    assert chunk.slo.events_bad.tolist() == [20, 10, 0, 0, 1, 12]
    east = chunk.groups["us-east",].records()
    assert east[0].modes["timeout"].credited == 1.0
    west = chunk.groups["eu-west",].records()
    assert west[1].modes["outage"].credited == 1.0


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_gauges_give_groups_as_their_own_slos_and_an_slo_that_is_their_exact_sum(
    data: st.DataObject,
) -> None:
    regions = [f"r{i}" for i in range(data.draw(st.integers(1, 4)))]
    slices = data.draw(st.integers(1, 4))
    spec = lag_spec(data.draw(st.sampled_from(["<=", ">", "=="])), data.draw(st.integers(1, 4)))
    answers: dict[str, Any] = {
        key: data.draw(labelled(regions, slices, gauge=key != "threshold"))
        for key in ("threshold", "freshness", "mode:partition:when")
    }
    # `labelled` names its label `route`: the grouped SLO reads `region`.
    answers = {
        key: (grid, [{"region": found["route"]} for found in labels])
        for key, (grid, labels) in answers.items()
    }
    answers["mode:checkpoint:when"] = (
        GridAnswer(
            np.zeros((1, slices)),
            np.array([data.draw(st.lists(st.booleans(), min_size=slices, max_size=slices))]),
        ),
        [{}],
    )
    chunk = GroupedEvaluator(spec).evaluate(1000, slices, answers, known=())
    reference = ChunkEvaluator(ungrouped(spec))
    overflow = {group[0] for group in chunk.overflow}
    for group, outcome in chunk.groups.items():
        members = overflow if group == ("__other__",) else {group[0]}
        assert_same(outcome, reference.evaluate(1000, slices, alone(answers, members)))
    if chunk.groups:
        assert_sum(chunk.slo, list(chunk.groups.values()))
        counted = [g.ok.astype(float) for g in chunk.groups.values()]
        assert np.array_equal(chunk.slo.total, np.sum(counted, axis=0))
