"""Delivery to a real Alertmanager (API v2): labels, annotations, re-sends, resolution.

Alertmanager identifies an alert by its label set, so re-posting is idempotent by design; a
firing alert must be re-sent before its `endsAt` passes, and a resolution carries `endsAt` now.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from app.alerting.dispatcher import Dispatcher
from app.alerting.evaluator import AlertEvaluator
from app.slo.alert_spec import Receiver
from app.slo.definitions import DefinitionSet
from app.testbed.alertmanager import AlertmanagerServer
from tests.alerting.conftest import SyntheticLedger
from tests.alerting.receiver import WebhookReceiver
from tests.alerting.support import NOON, only, shipped, with_receivers

pytestmark = pytest.mark.alertmanager

KEY = "checkout/checkout-success"
RESEND = 5  # seconds; the smallest interval a receiver may set
MakeLedger = Callable[[DefinitionSet | None], SyntheticLedger]


def epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def page_fast(alerts: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((a for a in alerts if a["labels"].get("long_window") == "1h"), None)


def page_fast_states(notified: WebhookReceiver) -> list[str]:
    """States of the page-fast alert in Alertmanager's own notifications, in order."""
    return [
        alert["status"]
        for request in notified.requests
        for alert in request.json()["alerts"]
        if alert["labels"].get("long_window") == "1h"
    ]


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_alertmanager_gets_the_page_keeps_it_alive_and_learns_it_resolved(
    synthetic: MakeLedger, alertmanager: tuple[AlertmanagerServer, WebhookReceiver]
) -> None:
    server, notified = alertmanager
    receiver = Receiver(type="alertmanager", url=server.url, resend_interval=RESEND)
    ledger = synthetic(with_receivers(only(shipped(), KEY), {"am": receiver}))
    ledger.fill(KEY, NOON - 3 * 3600 + 60, NOON)
    judge = AlertEvaluator(ledger.store, lambda: ledger.definitions, base_url="http://faultline")
    for minute in range(1, 11):  # ten minutes of a 100× burn, 90% of it payment timeouts
        t = NOON + 60 * minute
        ledger.fill(KEY, t, t, bad=100.0, modes={"payment-timeout": 90.0})
        judge.evaluate()
    dispatcher = Dispatcher(ledger.store, lambda: ledger.definitions.alerts)
    try:
        dispatcher.run_once()
        alert = page_fast(server.alerts())
        assert alert is not None, server.alerts()
        labels = alert["labels"]
        assert {k: labels[k] for k in ("alertname", "service", "slo", "severity")} == {
            "alertname": "ErrorBudgetBurn",
            "service": "checkout",
            "slo": "checkout-success",
            "severity": "page",
        }
        assert (labels["long_window"], labels["short_window"]) == ("1h", "5m")
        assert labels["team"] == "payments"  # the SLO's own labels route too
        annotations = alert["annotations"]
        assert annotations["summary"].startswith("checkout/checkout-success burns")
        assert (
            "payment-timeout 90.0% (synchronous-call, payment-provider)" in annotations["summary"]
        )
        assert annotations["dashboard_url"] == "http://faultline/slo/checkout/checkout-success"
        assert "Never mark an order paid" in annotations["description"]
        assert alert["status"]["state"] == "active"
        # The 9th bad slice takes the 1h ratio over 1.44% (9 × 10% / 60): data time, not now.
        assert epoch(alert["startsAt"]) == NOON + 9 * 60
        first_end = epoch(alert["endsAt"])
        assert time.time() < first_end <= time.time() + 3 * RESEND + 1
        # Alertmanager's own notification reached its receiver.
        wait_until(lambda: "firing" in page_fast_states(notified))

        # Re-sent before it expires: `endsAt` moves on, the alert stays active past the first.
        time.sleep(RESEND + 0.5)
        assert dispatcher.run_once().resent >= 1
        again = page_fast(server.alerts())
        assert again is not None and epoch(again["endsAt"]) > first_end

        # The burn stops; after five clean minutes the page resolves: `endsAt` now.
        for minute in range(11, 17):
            t = NOON + 60 * minute
            ledger.fill(KEY, t, t)
            judge.evaluate()
        dispatcher.run_once()
        dispatcher.run_once()  # the resolution follows its firing notification
        wait_until(lambda: page_fast(server.alerts()) is None)
        # Alertmanager tells its receiver that the page resolved (the tickets still fire).
        wait_until(lambda: "resolved" in page_fast_states(notified))
    finally:
        dispatcher.close()
