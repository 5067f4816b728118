"""Burn-rate alerts end to end: real Prometheus over a scenario with known ground truth, the
engine ticking minute by minute in simulated time, alerts judged after every tick, and the
notifications delivered to a real Alertmanager and a real webhook receiver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.alerting.dispatcher import Dispatcher
from app.alerting.evaluator import AlertEvaluator
from app.alerting.states import Transition
from app.alerting.transitions import AlertState
from app.alerting.views import firing_alerts
from app.engine.service import Engine
from app.slo.alert_spec import Receiver, Route, RouteMatch
from app.slo.definitions import DefinitionSet
from app.slo.windows import trailing
from app.store import ledger
from app.store.registry import get_slo
from app.testbed.alertmanager import AlertmanagerServer
from app.testbed.truth import SLOTruth
from tests.alerting.receiver import WebhookReceiver
from tests.alerting.support import (
    SECRET,
    SECRET_ENV,
    only,
    shipped,
    webhook_receiver,
    with_receivers,
)
from tests.conftest import RunningPrometheus
from tests.engine.conftest import make_engine

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

CHECKOUT = "checkout/checkout-success"
PAGE_FAST = ("page-fast", 3600, 300, 14.4)  # name, long, short, factor (30-day SLO)
StartPrometheus = Callable[[str], RunningPrometheus]


@dataclass
class Run:
    """An engine ticking in simulated time, with every alert transition it caused."""

    engine: Engine
    evaluator: AlertEvaluator
    transitions: list[Transition] = field(default_factory=list)

    def tick(self, t: int) -> list[Transition]:
        before = len(self.transitions)
        result = self.engine.tick(now=t)
        assert not result.errors and result.unavailable is None, result
        return self.transitions[before:]

    def of(self, key: str, tier: str) -> list[tuple[str, int]]:
        slo_id = self._id(key)
        return [
            (t.state.value, t.t) for t in self.transitions if t.slo_id == slo_id and t.tier == tier
        ]

    def _id(self, key: str) -> int:
        with self.engine.store.read() as connection:
            stored = get_slo(connection, key)
        assert stored is not None
        return stored.id


@pytest.fixture
def run_over(tmp_path: Path) -> Iterator[Callable[[RunningPrometheus, DefinitionSet, int], Run]]:
    runs: list[Run] = []

    def start(running: RunningPrometheus, definitions: DefinitionSet, first_tick: int) -> Run:
        engine = make_engine(
            running.url,
            f"sqlite:///{tmp_path}/ledger-{len(runs)}.db",
            running.scenario.start,
            first_tick,
            definitions,
        )
        evaluator = AlertEvaluator(
            engine.store, lambda: engine.definitions, base_url="http://faultline.test"
        )
        run = Run(engine, evaluator)
        # Wired as the service wires it: evaluated after every tick, from the ledger.
        engine.after_tick.append(lambda _: run.transitions.extend(evaluator.evaluate().transitions))
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.engine.store.close()


def holds(
    truth: SLOTruth, t: int, long: int, short: int, factor: float, min_events: int = 100
) -> bool:
    """Whether a tier's condition holds at slice end `t` by ground truth."""
    long_window, short_window = truth.window(t - long, t), truth.window(t - short, t)
    return (
        long_window.total >= min_events
        and (long_window.burn_rate or 0.0) > factor
        and (short_window.burn_rate or 0.0) > factor
    )


@pytest.mark.alertmanager
def test_a_fast_burn_pages_on_time_names_what_burns_and_resolves(
    prometheus_over: StartPrometheus,
    run_over: Callable[[RunningPrometheus, DefinitionSet, int], Run],
    alertmanager: tuple[AlertmanagerServer, WebhookReceiver],
    webhook: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    running = prometheus_over("fast_burn")
    facts = running.built.named.facts
    incident_start, incident_end = int(facts["incident_start"]), int(facts["incident_end"])
    server, notified = alertmanager
    receivers = {
        "am": Receiver(type="alertmanager", url=server.url),
        "pager": webhook_receiver(webhook.url),
    }
    routes = (Route(receiver="pager", match=RouteMatch(severity=("page",))), Route(receiver="am"))
    definitions = with_receivers(only(shipped(), CHECKOUT), receivers, routes)
    run = run_over(running, definitions, incident_start - 300)
    dispatcher = Dispatcher(run.engine.store, lambda: run.engine.definitions.alerts)
    truth = running.truth.slo(CHECKOUT)
    name, long, short, factor = PAGE_FAST
    ticks = range(incident_start - 300, incident_end + 15 * 60 + 1, 60)
    try:
        for t in ticks:
            run.tick(t)
            dispatcher.run_once()
            if run.of(CHECKOUT, name) == [("firing", t)]:
                # The page is in Alertmanager as soon as it fired.
                assert any(a["labels"]["long_window"] == "1h" for a in server.alerts())
        dispatcher.run_once()
    finally:
        dispatcher.close()

    expected = next(t for t in ticks if holds(truth, t, long, short, factor))
    page = run.of(CHECKOUT, name)
    assert [state for state, _ in page] == ["firing", "resolved"]
    fired_at, resolved_at = page[0][1], page[1][1]
    assert abs(fired_at - expected) <= 60, "pages at the first tick both windows burn > 14.4×"
    assert truth.window(incident_start, incident_end).burn_rate >= 14.4  # a real fast burn
    assert incident_end < resolved_at <= incident_end + short + 60

    # The summary names what burned over the hour, as the ledger (and the truth) attribute it.
    firing = next(t for t in run.transitions if t.tier == name and t.state is AlertState.FIRING)
    top = firing.document["failure_modes"][0]
    with run.engine.store.read() as connection:
        stored = get_slo(connection, CHECKOUT)
        assert stored is not None
        (hour,) = ledger.window_totals(connection, stored.id, [trailing(fired_at, long)])
    assert top["name"] == "payment-timeout" == max(hour.credited, key=lambda m: hour.credited[m])
    assert top["share"] == pytest.approx(hour.credited["payment-timeout"] / hour.bad, rel=1e-12)
    assert top["share"] == pytest.approx(
        truth.window(fired_at - long, fired_at).share(top["name"]), abs=1e-9
    )
    assert (
        f"payment-timeout {top['share'] * 100:.1f}% (synchronous-call, payment-provider)"
        in firing.summary
    )
    assert "Verify synchronous-call: Enforce timeout budgets" in firing.summary
    assert "http://faultline.test/slo/checkout/checkout-success" in firing.summary

    # The pager webhook got the page and its resolution, once each; Alertmanager resolved it.
    pages = [r.json() for r in webhook.handled.values()]
    assert sorted((p["rule"]["name"], p["status"]) for p in pages) == [
        (name, "firing"),
        (name, "resolved"),
    ]
    assert all(count == 1 for count in webhook.deliveries_per_key().values())
    assert not any(a["labels"]["long_window"] == "1h" for a in server.alerts())
    notified.wait_for(1)


def test_a_2x_burn_only_tickets(
    prometheus_over: StartPrometheus,
    run_over: Callable[[RunningPrometheus, DefinitionSet, int], Run],
) -> None:
    running = prometheus_over("slow_burn")
    truth = running.truth.slo(CHECKOUT)
    facts = running.built.named.facts
    burn = truth.window(int(facts["burn_start"]), int(facts["burn_end"])).burn_rate
    assert burn is not None and 1.5 < burn < 2.5
    start = running.scenario.start
    run = run_over(running, only(shipped(), CHECKOUT), start + 3600)
    ticks = range(start + 3600, running.scenario.end + 1, 1800)
    for t in ticks:
        run.tick(t)
    severities = {t.severity for t in run.transitions}
    assert severities == {"ticket"}
    assert run.of(CHECKOUT, "ticket-slow")[:1] == [
        ("firing", next(t for t in ticks if holds(truth, t, 3 * 86400, 6 * 3600, 1.0)))
    ]
    # By ground truth no page condition held at any slice end of the day.
    for t in truth.ends:
        assert not holds(truth, t, 3600, 300, 14.4) and not holds(truth, t, 6 * 3600, 1800, 6.0)


def test_a_clean_scenario_raises_nothing(
    prometheus_over: StartPrometheus,
    run_over: Callable[[RunningPrometheus, DefinitionSet, int], Run],
) -> None:
    running = prometheus_over("steady")
    start = running.scenario.start
    run = run_over(running, shipped(), start + 3600)
    for t in range(start + 3600, running.scenario.end + 1, 900):
        run.tick(t)
    assert run.transitions == []
    with run.engine.store.read() as connection:
        assert firing_alerts(connection) == []


def test_one_failure_in_an_hour_of_low_traffic_does_not_page(
    prometheus_over: StartPrometheus,
    run_over: Callable[[RunningPrometheus, DefinitionSet, int], Run],
) -> None:
    running = prometheus_over("low_traffic")
    failure_at = int(running.built.named.facts["failure_at"])
    truth = running.truth.slo(CHECKOUT)
    run = run_over(running, only(shipped(), CHECKOUT), failure_at - 300)
    ticks = range(failure_at - 300, failure_at + 15 * 60 + 1, 60)
    for t in ticks:
        run.tick(t)
    assert [t for t in run.transitions if t.severity == "page"] == []
    # Without the guard both page tiers would have paged: their windows burned far above the
    # factor on one failure. The guard needs 100 events in the hour (the policy's min_events)
    # and 167 in six hours (one failure must not cross 6 × 0.1% alone); the truth had fewer.
    for long, short, factor, guard in ((3600, 300, 14.4, 100), (6 * 3600, 1800, 6.0, 167)):
        unguarded = [t for t in ticks if holds(truth, t, long, short, factor, min_events=0)]
        assert unguarded, (long, short)
        assert all(truth.window(t - long, t).total < guard for t in unguarded)
        assert all(truth.window(t - long, t).bad == 1 for t in unguarded)
