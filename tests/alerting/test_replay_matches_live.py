"""One implementation, two drivers: replaying a backfilled range gives exactly the transitions
live evaluation gives when the same range is played tick by tick (real Prometheus, scenarios of
known truth): same slice ends, same tiers, same states, same text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.alerting.evaluator import AlertEvaluator
from app.engine.replay import run_replay
from app.slo.definitions import DefinitionSet
from app.slo.replay_models import ReplayRequest
from app.store.registry import get_slo
from tests.alerting.support import only, shipped
from tests.conftest import RunningPrometheus
from tests.engine.conftest import make_engine

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

BASE_URL = "http://faultline.test"
StartPrometheus = Callable[..., RunningPrometheus]
Transition = tuple[str, str, str, int, str]  # SLO key, tier, state, slice end, summary


def live(
    running: RunningPrometheus, definitions: DefinitionSet, ticks: range, database: str
) -> list[Transition]:
    """The live driver: the engine ticks minute by minute, alerts judged after every tick."""
    engine = make_engine(running.url, database, running.scenario.start, ticks[0], definitions)
    evaluator = AlertEvaluator(engine.store, lambda: engine.definitions, base_url=BASE_URL)
    seen = []
    try:
        for t in ticks:
            result = engine.tick(now=t)
            assert not result.errors and result.unavailable is None, result
            seen.extend(evaluator.evaluate().transitions)
        with engine.store.read() as connection:
            keys = {get_slo(connection, d.key).id: d.key for d in definitions.slos}  # type: ignore[union-attr]
    finally:
        engine.store.close()
    return sorted((keys[t.slo_id], t.tier, t.state.value, t.t, t.summary) for t in seen)


def replayed(
    running: RunningPrometheus, definitions: DefinitionSet, ticks: range, database: str
) -> list[Transition]:
    """The replay driver over a ledger backfilled in one go to the end of the ticks."""
    engine = make_engine(running.url, database, running.scenario.start, ticks[-1], definitions)
    try:
        result = engine.tick(now=ticks[-1])
        assert not result.errors and result.unavailable is None, result
        request = ReplayRequest(start=str(ticks[0] - 60), end=str(ticks[-1]))
        answer = run_replay(engine.store, definitions, request, base_url=BASE_URL, now=ticks[-1])
    finally:
        engine.store.close()
    return sorted(
        (slo.key, alert.tier, alert.state, alert.t, alert.summary)
        for slo in answer.slos
        for alert in slo.actual.alerts
    )


@pytest.mark.parametrize(
    ("scenario", "keys", "first", "last", "states"),
    [
        # A 30x payment-timeout burn: page-fast and page-slow fire and resolve.
        ("fast_burn", ("checkout/checkout-success", "checkout/checkout-latency"), 200, 360,
         {"firing", "resolved"}),
        # Queue backlog, payment timeouts with retries, replica lag: burn and timeslice SLOs.
        ("overlapping", ("orders/queue-freshness", "orders/order-status-reads",
                         "checkout/checkout-success"), 110, 300, {"firing", "resolved"}),
        # A 2x burn for hours, a scrape gap (no-data slices) and counter resets in the range.
        ("slow_burn", ("checkout/checkout-success",), 700, 900, {"firing"}),
    ],
)  # fmt: skip
def test_replay_gives_exactly_the_live_transitions(
    prometheus_over: StartPrometheus,
    tmp_path: Path,
    scenario: str,
    keys: tuple[str, ...],
    first: int,
    last: int,
    states: set[str],
) -> None:
    running = prometheus_over(scenario)
    definitions = only(shipped(), *keys)
    start = running.scenario.start
    ticks = range(start + first * 60, start + last * 60 + 1, 60)
    by_live = live(running, definitions, ticks, f"sqlite:///{tmp_path}/live.db")
    by_replay = replayed(running, definitions, ticks, f"sqlite:///{tmp_path}/replay.db")
    assert by_live, "the scenario makes alerts fire"
    assert {state for _, _, state, _, _ in by_live} == states
    assert by_replay == by_live
