"""What an alert says and where it goes: summary text, labels, routes, the guard, backoff."""

from __future__ import annotations

import random

import pytest

from app.alerting.conditions import AlertRule, RuleKind, Verdict, guard_events
from app.alerting.document import alert_labels, idempotency_key
from app.alerting.facts import build_facts
from app.alerting.routing import receivers_for
from app.alerting.summary import firing_summary, human_duration, resolved_summary
from app.slo.alert_spec import Receiver, Route, RouteMatch
from app.slo.ledger import WindowTotals
from app.sources.retry import full_jitter
from tests.alerting.support import shipped

PAGE = AlertRule("page-fast", RuleKind.BURN, "page", 3600, 300, 0.02)


def checkout_facts(long_burn: float, remaining_bad: float = 8_640.0):  # type: ignore[no-untyped-def]
    definitions = shipped()
    checkout = definitions.get("checkout/checkout-success")
    assert checkout is not None
    verdict = Verdict(
        PAGE, True, factor=14.4, long_burn=long_burn, short_burn=28.8, long_events=1e5
    )
    long_totals = WindowTotals(
        total=100_000,
        bad=2_500,
        unattributed=100,
        credited={"payment-timeout": 2_300, "orders-backlog": 100},
        slices=60,
    )
    period = WindowTotals(total=43_200_000, bad=remaining_bad, slices=43_200)
    return build_facts(
        checkout,
        definitions.catalog,
        verdict,
        1_709_553_600,
        period_totals=period,
        long_totals=long_totals,
        base_url="https://faultline.example/",
    )


def test_the_summary_names_modes_shares_choices_verification_budget_and_link() -> None:
    text = firing_summary(checkout_facts(long_burn=25.0))
    assert text == (
        "checkout/checkout-success burns its error budget 25.0× faster than sustainable over 1h "
        "(5m: 28.8×; page-fast fires above 14.4×). Over 1h: payment-timeout 92.0% "
        "(synchronous-call, payment-provider), orders-backlog 4.0% (queue, orders-queue), "
        "unattributed 4.0%. Verify synchronous-call: Enforce timeout budgets and trace critical "
        "paths. Budget left: 80.0% of 30d; gone in 23h 2m at this burn. "
        "Dashboard: https://faultline.example/slo/checkout/checkout-success"
    )


def test_time_to_exhaustion_is_the_remaining_budget_at_the_long_window_burn() -> None:
    facts = checkout_facts(long_burn=30.0)
    # 80% of a 30-day budget at 30× lasts 0.8 × 30 d / 30 = 0.8 d.
    assert facts.exhaustion_seconds == pytest.approx(0.8 * 86400)
    assert "gone in 19h 12m at this burn" in firing_summary(facts)


def test_a_resolution_reports_the_burn_it_ended_at() -> None:
    text = resolved_summary(checkout_facts(long_burn=12.0))
    assert text.startswith("checkout/checkout-success page-fast resolved: 1h burn 12.0×, 5m")
    assert "Budget left: 80.0% of 30d." in text


def test_human_durations() -> None:
    assert [human_duration(s) for s in (30, 300, 3600, 5400, 86400, 90000)] == [
        "under a minute",
        "5m",
        "1h",
        "1h 30m",
        "1d",
        "1d 1h",
    ]


def test_labels_name_the_alert_and_keep_the_slo_labels_below_them() -> None:
    checkout = shipped().get("checkout/checkout-success")
    assert checkout is not None
    assert alert_labels(checkout, PAGE) == {
        "alertname": "ErrorBudgetBurn",
        "service": "checkout",
        "slo": "checkout-success",
        "severity": "page",
        "long_window": "1h",
        "short_window": "5m",
        "team": "payments",
        "tier": "1",
    }


def test_idempotency_keys_are_stable_and_distinct() -> None:
    key = idempotency_key("a/b", "page-fast", "firing", 60)
    assert key == idempotency_key("a/b", "page-fast", "firing", 60)
    assert key != idempotency_key("a/b", "page-fast", "resolved", 60)
    assert key != idempotency_key("a/b", "page-fast", "firing", 120)


def test_routes_match_in_order_and_continue_false_stops() -> None:
    receivers = {name: Receiver(type="webhook", url="http://x") for name in ("a", "b", "c")}
    routes = (
        Route(receiver="a", match=RouteMatch(severity=("page",), labels={"team": "payments"})),
        Route(receiver="b", match=RouteMatch(service=("checkout",)), continue_=False),
        Route(receiver="c"),
    )
    page = {"severity": "page", "service": "checkout", "team": "payments"}
    assert receivers_for(page, routes, receivers) == ["a", "b"]
    assert receivers_for({**page, "team": "other"}, routes, receivers) == ["b"]
    assert receivers_for({"severity": "ticket", "service": "orders"}, routes, receivers) == ["c"]
    assert receivers_for(page, (), receivers) == ["a", "b", "c"]  # no routes: everyone


def test_the_guard_never_lets_one_failure_cross_a_threshold_alone() -> None:
    budget = 0.001
    assert [guard_events(100, f, budget) for f in (14.4, 6.0, 3.0, 1.0)] == [100, 167, 334, 1000]
    assert guard_events(0, 14.4, budget) == 0
    for factor in (14.4, 6.0, 3.0, 1.0):
        events = guard_events(100, factor, budget)
        assert 1 / events <= factor * budget  # one failure at the guard stays under
        assert 1 / (events - 1) > factor * budget or events == 100


def test_full_jitter_is_capped_and_grows() -> None:
    rng = random.Random(1)
    delays = [[full_jitter(retry, 1.0, 60.0, rng) for _ in range(200)] for retry in range(12)]
    assert all(0 <= d <= min(60.0, 2**retry) for retry, row in enumerate(delays) for d in row)
    assert max(delays[10]) > 50  # capped at 60, not at 1024
    assert full_jitter(10_000, 1.0, 60.0, rng) <= 60.0  # no overflow after many retries
