"""A grouped SLO's chunks are cut so that one answer (every group's series at once) stays
within `ANSWER_POINTS`, whatever the source's own chunks."""

from __future__ import annotations

from app.engine.grouped import ANSWER_POINTS, GroupedChunks
from app.slo.definitions import SLODefinition
from app.slo.spec import SLOSpec
from app.store.store import Store


def grouped(max_groups: int) -> GroupedChunks:
    spec = SLOSpec.model_validate(
        {
            "name": "success",
            "objective": 99,
            "group_by": ["route"],
            "max_groups": max_groups,
            "sli": {
                "events": {
                    "total": "sum by (route) (rate(a[{{window}}]))",
                    "bad": "sum by (route) (rate(b[{{window}}]))",
                }
            },
        }
    )
    return GroupedChunks(Store("sqlite://"), SLODefinition(service="shop", spec=spec), 1)


def test_chunks_are_cut_to_the_answer_points_and_cover_the_same_slices() -> None:
    chunks = [(60, 60 * 10_000), (60 * 10_001, 60 * 12_000)]  # as the source cuts 12,000
    # In whole hours of slices: 960 (16 h) of one-minute slices at 500 groups; at 5,000 groups
    # the 100 slices the points allow are rounded down to one hour (60).
    for max_groups, most in ((500, ANSWER_POINTS // 500 // 60 * 60), (5000, 60)):
        pieces = grouped(max_groups).split(chunks, 60)
        sizes = [(last - first) // 60 + 1 for first, last in pieces]
        assert max(sizes) == most and sum(sizes) == 12_000
        ends = [t for first, last in pieces for t in range(first, last + 1, 60)]
        assert ends == list(range(60, 60 * 12_000 + 1, 60))
    # Pieces of a chunk that starts on an hour start on hours.
    starts = [first for first, _ in grouped(500).split([(3660, 3600 + 60 * 12_000)], 60)]
    assert all((first - 60) % 3600 == 0 for first in starts)
    # A tick's one slice stays one chunk.
    assert grouped(500).split([(120, 120)], 60) == [(120, 120)]
