"""A tick cut at its deadline must not starve the SLOs it did not reach, nor spend past it
refreshing their snapshots."""

from __future__ import annotations

from dataclasses import dataclass

from app.engine.reports import Freshness
from app.engine.ticks import TickResult, furthest_behind_first, still_to_refresh
from app.store.registry import StoredSLO


@dataclass(frozen=True)
class Named:
    key: str


def stored(key: str, checkpoint: int | None) -> StoredSLO:
    return StoredSLO(
        id=ord(key),
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


def test_a_tick_refreshes_only_the_snapshots_it_wrote_or_that_changed_meaning() -> None:
    """After the deadline, an SLO the tick did not evaluate (left for the next tick, or with
    nothing due) gets a new snapshot only if it has none or turned stale since its last one;
    the short catch-ups' snapshots, left for the tick's end, are all written, failed ones too."""
    wall, freshness = 10_000, Freshness(stale_after=300, evaluation_delay=0)
    checkpoints = {"a": 9960, "b": 9900, "c": 9600, "d": 9000, "e": 9960, "f": None, "g": 9000}
    # Neither evaluated nor left: h not reached once the source was down, i with nothing due.
    checkpoints |= {"h": 9600, "i": 9960}
    # Short catch-ups: j succeeded, k failed (checkpoints from before the tick).
    checkpoints |= {"j": 9900, "k": 9000}
    shown = {"b": 9950, "c": 9800, "d": 9700, "e": 9950, "f": 9000, "h": 9800, "j": 9950}
    shown |= {"k": 9700}
    rows = {key: stored(key, checkpoint) for key, checkpoint in checkpoints.items()}
    result = TickResult(started=0.0, refreshed={"a"}, deferred={"b", "c", "d", "f", "g"})
    result.leave_status("j", 9990)
    result.leave_status("k", None)
    rest = still_to_refresh(
        [Named(key) for key in rows],
        rows,
        result,
        {ord(key): at for key, at in shown.items()},
        wall,
        freshness,
    )
    # a: written; b, e: still current; c, h: stale since their snapshot; d, f: shown stale
    # already; g, i: no snapshot yet; j, k: short catch-ups, written at the end of the tick.
    assert [named.key for named in rest] == ["c", "g", "h", "i", "j", "k"]
    assert result.succeeded == {"j": 9990}
