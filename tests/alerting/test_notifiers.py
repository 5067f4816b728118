"""Delivery errors name the receiver without the password of its URL (they are logged and
stored in the outbox)."""

from __future__ import annotations

import httpx
import pytest

from app.alerting.document import Document
from app.alerting.notifiers import DeliveryError, send_webhook
from app.testbed.prometheus import free_port
from tests.alerting.receiver import WebhookReceiver
from tests.alerting.support import SECRET, SECRET_ENV, webhook_receiver

DOCUMENT: Document = {"version": 1, "idempotency_key": "k-1", "status": "firing"}
PASSWORD = "hook-s3cr3t"


def with_password(url: str) -> str:
    return url.replace("http://", f"http://hook:{PASSWORD}@", 1)


def failure(url: str) -> str:
    with httpx.Client() as client, pytest.raises(DeliveryError) as raised:
        send_webhook(client, webhook_receiver(url), DOCUMENT, "k-1", {SECRET_ENV: SECRET})
    return str(raised.value)


def test_a_receiver_that_refuses_is_named_without_the_password(webhook: WebhookReceiver) -> None:
    webhook.status = 401
    message = failure(with_password(webhook.url))
    assert "answered 401" in message
    assert "hook:***@127.0.0.1" in message and PASSWORD not in message


def test_an_unreachable_receiver_is_named_without_the_password() -> None:
    message = failure(with_password(f"http://127.0.0.1:{free_port()}/hook"))
    assert message.startswith("cannot reach http://hook:***@127.0.0.1")
    assert PASSWORD not in message
