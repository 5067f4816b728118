"""Webhook signatures over a timestamp: a real delivery verifies; a replay after the tolerance
window and a tampered timestamp are refused, by the test receiver and by the docs' example."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping

import httpx
import pytest

from app.alerting.document import Document
from app.alerting.notifiers import send_webhook
from app.alerting.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TOLERANCE_SECONDS,
    SignatureError,
    verify,
)
from tests.alerting.receiver import Received, WebhookReceiver
from tests.alerting.support import REPO, SECRET, SECRET_ENV, webhook_receiver

DOCUMENT: Document = {"version": 1, "idempotency_key": "k-1", "status": "firing"}
Verifier = Callable[[Mapping[str, str], bytes, float], bool]


@pytest.fixture
def delivered(webhook: WebhookReceiver) -> Iterator[Received]:
    """One real signed delivery, as the receiver got it."""
    with httpx.Client() as client:
        receiver = webhook_receiver(webhook.url)
        send_webhook(client, receiver, DOCUMENT, "k-1", {SECRET_ENV: SECRET})
    assert list(webhook.handled) == ["k-1"], webhook.refusals
    yield webhook.requests[0]


def replay(webhook: WebhookReceiver, received: Received, **changed: str) -> int:
    headers = {**received.headers, **{name.lower(): value for name, value in changed.items()}}
    headers.pop("content-length", None)
    headers.pop("host", None)
    return httpx.post(webhook.url, content=received.body, headers=headers).status_code


def test_a_delivery_carries_a_fresh_timestamp_and_verifies(delivered: Received) -> None:
    timestamp = int(delivered.headers[TIMESTAMP_HEADER.lower()])
    assert abs(timestamp - delivered.at) <= 1
    assert re.fullmatch(r"v1=[0-9a-f]{64}", delivered.headers[SIGNATURE_HEADER.lower()])
    verify(SECRET, delivered.headers, delivered.body, delivered.at)


def test_a_replay_after_the_tolerance_window_is_refused(
    webhook: WebhookReceiver, delivered: Received
) -> None:
    webhook.clock = lambda: time.time() + TOLERANCE_SECONDS + 2
    assert replay(webhook, delivered) == 401
    assert webhook.refusals == ["the timestamp is more than 300 s from now (a replay?)"]
    webhook.clock = time.time  # within the window the same request is accepted, handled once
    assert replay(webhook, delivered) == 200
    assert list(webhook.handled) == ["k-1"]


def test_a_tampered_timestamp_or_body_is_refused(
    webhook: WebhookReceiver, delivered: Received
) -> None:
    now = str(int(time.time()) + 1)
    assert replay(webhook, delivered, **{TIMESTAMP_HEADER: now}) == 401
    assert replay(webhook, delivered, **{TIMESTAMP_HEADER: ""}) == 401
    tampered = Received(delivered.path, delivered.headers, delivered.body + b" ", delivered.at)
    assert replay(webhook, tampered) == 401
    assert webhook.refusals == [
        "the signature does not match the timestamp and body",
        f"missing or malformed {TIMESTAMP_HEADER}",
        "the signature does not match the timestamp and body",
    ]
    with pytest.raises(SignatureError):
        verify("another secret", delivered.headers, delivered.body, delivered.at)


def docs_verifier() -> Verifier:
    """The receiver example of docs/alerting.md, run as written."""
    text = (REPO / "docs" / "alerting.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- receiver-example:.*?-->\n```python\n(.*?)```", text, re.DOTALL)
    assert found is not None, "the receiver example is missing from docs/alerting.md"
    namespace: dict[str, object] = {}
    exec(compile(found.group(1), "docs/alerting.md", "exec"), namespace)
    function = namespace["verify_faultline_webhook"]
    assert callable(function)
    return lambda headers, body, now: bool(function(SECRET, headers, body, now))


def test_the_documented_receiver_example_checks_signature_and_tolerance(
    delivered: Received,
) -> None:
    check = docs_verifier()
    headers, body, at = delivered.headers, delivered.body, delivered.at
    assert check(headers, body, at)
    assert check(headers, body, at + TOLERANCE_SECONDS - 1)
    assert not check(headers, body, at + TOLERANCE_SECONDS + 2)  # replayed too late
    later = str(int(at) + 600)
    assert not check({**headers, TIMESTAMP_HEADER.lower(): later}, body, at + 600)  # tampered
    assert not check(headers, body + b" ", at)
    assert not check({**headers, TIMESTAMP_HEADER.lower(): "1e9"}, body, at)
