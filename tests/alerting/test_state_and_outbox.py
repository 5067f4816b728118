"""The alert state machine and the transactional outbox on a real store (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from app.alerting import states
from app.alerting.document import idempotency_key
from app.alerting.evaluator import AlertEvaluator
from app.alerting.views import alert_timeline, firing_alerts
from app.slo.alert_spec import Receiver, Route, RouteMatch
from app.slo.definitions import DefinitionSet
from app.store.errors import StoreError
from app.store.tables import alert_events, alert_states, notifications
from tests.alerting.conftest import SyntheticLedger
from tests.alerting.support import NOON, only, shipped, with_receivers

KEY = "checkout/checkout-success"
MakeLedger = Callable[[DefinitionSet | None], SyntheticLedger]


def routed() -> DefinitionSet:
    """checkout-success with a webhook for pages and an Alertmanager for everything."""
    receivers = {
        "pager": Receiver(type="webhook", url="http://127.0.0.1:9/hook"),
        "am": Receiver(type="alertmanager", url="http://127.0.0.1:9"),
    }
    routes = (
        Route(receiver="pager", match=RouteMatch(severity=("page",))),
        Route(receiver="am"),
    )
    return with_receivers(only(shipped(), KEY), receivers, routes)


def evaluator(ledger: SyntheticLedger) -> AlertEvaluator:
    return AlertEvaluator(
        ledger.store, lambda: ledger.definitions, base_url="http://faultline", clock=lambda: 1e9
    )


def burn(ledger: SyntheticLedger, first: int, minutes: int, bad: float = 100.0) -> int:
    """`minutes` slices at `bad` of 1000 (10% = a 100× burn), 90% of it payment timeouts."""
    last = first + 60 * (minutes - 1)
    ledger.fill(KEY, first, last, bad=bad, modes={"payment-timeout": bad * 0.9})
    return last


def count(ledger: SyntheticLedger, table: object) -> int:
    with ledger.store.read() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_a_transition_writes_state_event_and_one_notification_per_routed_receiver(
    synthetic: MakeLedger,
) -> None:
    ledger = synthetic(routed())
    ledger.fill(KEY, NOON - 3 * 3600 + 60, NOON)  # three clean hours
    judge = evaluator(ledger)
    assert judge.evaluate().transitions == []
    at = burn(ledger, NOON + 60, 10)
    result = judge.evaluate()
    fired = {(t.tier, t.state.value) for t in result.transitions}
    assert ("page-fast", "firing") in fired
    page = next(t for t in result.transitions if t.tier == "page-fast")
    assert page.t == at
    assert page.key == idempotency_key(KEY, "page-fast", "firing", at)
    with ledger.store.read() as connection:
        rows = connection.execute(
            select(notifications.c.receiver, notifications.c.state).where(
                notifications.c.idempotency_key == page.key
            )
        ).all()
        assert sorted(rows) == [("am", "pending"), ("pager", "pending")]
        firing = firing_alerts(connection)
        assert ("checkout/checkout-success", "page-fast", "page", at) in {
            (a.slo_key, a.tier, a.severity, a.since) for a in firing
        }
    # Tickets go to Alertmanager only: the pager route matches pages.
    tickets = [t for t in result.transitions if t.severity == "ticket"]
    with ledger.store.read() as connection:
        for ticket in tickets:
            receivers = connection.execute(
                select(notifications.c.receiver).where(
                    notifications.c.idempotency_key == ticket.key
                )
            ).scalars()
            assert list(receivers) == ["am"]


def test_judging_the_same_slice_again_changes_nothing(synthetic: MakeLedger) -> None:
    ledger = synthetic(routed())
    ledger.fill(KEY, NOON - 3 * 3600 + 60, NOON)
    burn(ledger, NOON + 60, 10)
    judge = evaluator(ledger)
    first = judge.evaluate()
    events, outbox = count(ledger, alert_events), count(ledger, notifications)
    assert first.transitions and events == len(first.transitions)
    assert judge.evaluate().transitions == []
    assert evaluator(ledger).evaluate().transitions == []  # a second replica, too
    assert (count(ledger, alert_events), count(ledger, notifications)) == (events, outbox)


def test_a_failed_transaction_leaves_neither_the_state_change_nor_its_notifications(
    synthetic: MakeLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = synthetic(routed())
    ledger.fill(KEY, NOON - 3 * 3600 + 60, NOON)
    judge = evaluator(ledger)
    judge.evaluate()
    at = burn(ledger, NOON + 60, 10)
    saved = states.save_alerts

    def crash_after_the_event_was_written(*args: object, **kwargs: object) -> None:
        saved(*args, **kwargs)  # type: ignore[arg-type]
        raise StoreError("the database went away mid-transaction")

    monkeypatch.setattr(states, "save_alerts", crash_after_the_event_was_written)
    result = judge.evaluate()
    assert KEY in result.errors
    assert count(ledger, alert_events) == 0
    assert count(ledger, notifications) == 0
    with ledger.store.read() as connection:
        assert firing_alerts(connection) == []
        assert {row.state for row in connection.execute(select(alert_states))} == {"inactive"}
    monkeypatch.setattr(states, "save_alerts", saved)
    result = judge.evaluate()
    assert {t.tier for t in result.transitions} >= {"page-fast"}
    assert all(t.t == at for t in result.transitions)


def test_a_resolution_keeps_the_firing_labels_and_gets_its_own_key(synthetic: MakeLedger) -> None:
    ledger = synthetic(routed())
    ledger.fill(KEY, NOON - 3 * 3600 + 60, NOON)
    judge = evaluator(ledger)
    fired_at = burn(ledger, NOON + 60, 10)
    judge.evaluate()
    # Clean slices: the 5m window is clean after five of them and the page resolves.
    for minute in range(1, 8):
        ledger.fill(KEY, fired_at + 60 * minute, fired_at + 60 * minute)
        judge.evaluate()
    with ledger.store.read() as connection:
        timeline = [
            (e.tier, e.state, e.t)
            for e in alert_timeline(connection, KEY, NOON, NOON + 86400)
            if e.tier == "page-fast"
        ]
        documents = [
            json.loads(text)
            for text in connection.execute(
                select(alert_events.c.document)
                .where(alert_events.c.tier == "page-fast")
                .order_by(alert_events.c.id)
            ).scalars()
        ]
    assert timeline == [
        ("page-fast", "firing", fired_at),
        ("page-fast", "resolved", fired_at + 300),
    ]
    firing, resolved = documents
    assert resolved["labels"] == firing["labels"]
    assert resolved["starts_at"] == firing["starts_at"]
    assert resolved["ends_at"] is not None and firing["ends_at"] is None
    assert resolved["idempotency_key"] != firing["idempotency_key"]


def test_no_data_raises_its_own_alert_and_holds_burn_alerts(synthetic: MakeLedger) -> None:
    ledger = synthetic(routed())
    ledger.fill(KEY, NOON - 3 * 3600 + 60, NOON)
    judge = evaluator(ledger)
    fired_at = burn(ledger, NOON + 60, 10)
    judge.evaluate()
    transitions: list[tuple[str, str, int]] = []
    gap_start = fired_at + 60
    for minute in range(20):  # the SLI returns no series for 20 minutes
        t = gap_start + 60 * minute
        ledger.fill(KEY, t, t, no_data=True)
        transitions += [(x.tier, x.state.value, x.t) for x in judge.evaluate().transitions]
    # 15 minutes without data (the policy's no_data_after) raise "no data"; nothing else moves:
    # the page stays firing, since missing data is not a recovery.
    assert transitions == [("no-data", "firing", gap_start + 14 * 60)]
    with ledger.store.read() as connection:
        assert {a.tier for a in firing_alerts(connection)} >= {"page-fast", "no-data"}
    ledger.fill(KEY, gap_start + 20 * 60, gap_start + 20 * 60)
    after = [(x.tier, x.state.value) for x in judge.evaluate().transitions]
    assert ("no-data", "resolved") in after


def test_for_delays_firing_until_the_condition_held_that_long(synthetic: MakeLedger) -> None:
    definitions = routed()
    checkout = definitions.slos[0]
    spec = checkout.spec.model_copy(
        update={"alerting": checkout.spec.alerting.model_copy(update={"for_seconds": 180})}
    )
    definitions = replace(definitions, slos=(replace(checkout, spec=spec),))
    ledger = synthetic(definitions)
    ledger.fill(KEY, NOON - 3 * 3600 + 60, NOON)
    judge = evaluator(ledger)
    fired: list[int] = []
    for minute in range(1, 16):
        t = NOON + 60 * minute
        ledger.fill(KEY, t, t, bad=100.0, modes={"payment-timeout": 90.0})
        fired += [x.t for x in judge.evaluate().transitions if x.tier == "page-fast"]
    # 10% bad after three clean hours: the 1h ratio passes 1.44% with the 9th bad slice (9 × 10%
    # / 60 = 1.5%), the condition first holds there, and `for: 3m` fires it three slices later.
    assert fired == [NOON + 9 * 60 + 180]


def test_a_tier_that_left_the_policy_is_resolved_not_left_firing(synthetic: MakeLedger) -> None:
    ledger = synthetic(routed())
    ledger.fill(KEY, NOON - 3 * 3600 + 60, NOON)
    at = burn(ledger, NOON + 60, 10)
    evaluator(ledger).evaluate()
    checkout = ledger.definitions.slos[0]
    reference = checkout.spec.alerting.model_copy(update={"disabled_tiers": ("page-fast",)})
    spec = checkout.spec.model_copy(update={"alerting": reference})
    ledger.redefine(replace(ledger.definitions, slos=(replace(checkout, spec=spec),)), at)
    ledger.fill(KEY, at + 60, at + 60, bad=100.0)
    result = evaluator(ledger).evaluate()
    retired = [t for t in result.transitions if t.tier == "page-fast"]
    assert [(t.state.value, t.t) for t in retired] == [("resolved", at + 60)]
    assert "no longer part of the SLO's alert policy" in retired[0].summary


def test_alerts_of_an_slo_that_is_no_longer_loaded_are_resolved(synthetic: MakeLedger) -> None:
    ledger = synthetic(routed())
    ledger.fill(KEY, NOON - 3 * 3600 + 60, NOON)
    at = burn(ledger, NOON + 60, 10)
    fired = evaluator(ledger).evaluate().transitions
    ledger.redefine(replace(ledger.definitions, slos=()), at)
    retired = evaluator(ledger).evaluate().transitions
    assert sorted(t.tier for t in retired) == sorted(t.tier for t in fired)
    assert all(t.state.value == "resolved" and t.t == at for t in retired)
    assert all("the SLO is no longer loaded" in t.summary for t in retired)
    with ledger.store.read() as connection:
        assert firing_alerts(connection) == []
    assert evaluator(ledger).evaluate().transitions == []
