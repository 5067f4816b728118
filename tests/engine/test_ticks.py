"""A tick cut at its deadline must not starve the SLOs it did not reach."""

from __future__ import annotations

from dataclasses import dataclass

from app.engine.ticks import furthest_behind_first
from app.store.registry import StoredSLO


@dataclass(frozen=True)
class Named:
    key: str


def stored(key: str, checkpoint: int | None) -> StoredSLO:
    return StoredSLO(
        id=hash(key) % 1000,
        key=key,
        service="s",
        name=key,
        active=True,
        content_hash="c",
        history_hash="h",
        slice_seconds=60,
        history_start=None,
        checkpoint=checkpoint,
        last_error=None,
        last_error_kind=None,
        last_error_at=None,
        last_success_at=None,
        definition={},
    )


def test_the_slos_furthest_behind_come_first_and_ties_keep_file_order() -> None:
    checkpoints = {"a": 600, "b": 540, "c": None, "d": 600, "e": 540}
    rows = {key: stored(key, checkpoint) for key, checkpoint in checkpoints.items()}
    ordered = furthest_behind_first([Named(key) for key in "abcde"], rows)
    assert [named.key for named in ordered] == ["c", "b", "e", "a", "d"]


def test_ticks_cut_at_a_deadline_reach_every_slo_in_turn() -> None:
    """Simulate ticks that each evaluate only two SLOs: every SLO moves within three ticks."""
    checkpoints: dict[str, int | None] = dict.fromkeys("abcdef", 0)
    reached_by_tick = []
    for now in (60, 120, 180):
        rows = {key: stored(key, checkpoint) for key, checkpoint in checkpoints.items()}
        reached = [named.key for named in furthest_behind_first([Named(k) for k in rows], rows)][:2]
        for key in reached:
            checkpoints[key] = now
        reached_by_tick.append(reached)
    assert sorted(key for reached in reached_by_tick for key in reached) == list("abcdef")
