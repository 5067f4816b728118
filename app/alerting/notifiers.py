"""Sending one notification: Alertmanager (API v2) or a signed webhook, over httpx.

Webhooks get the transition's document as a JSON body (canonical: sorted keys, no spaces, so a
retry sends the same bytes), an `Idempotency-Key` header (the same on every retry of one
transition: receivers drop repeats) and, when the receiver names a secret, a signature over the
time of sending and the body (`app.alerting.signing`): every attempt is signed afresh, so a
request captured on the way verifies for minutes, not forever.

Alertmanager identifies an alert by its label set, so posting the same alert twice updates it
instead of notifying twice: re-sending is idempotent by design and needs no key. A firing alert
is sent with `endsAt` in the future (and re-sent before then); a resolved one with `endsAt` now.

httpx errors never leave this module: they become `DeliveryError`, which says whether a retry
can help (timeouts, refused connections, 408/425/429/5xx) or not (other 4xx, a missing secret).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from app import __version__
from app.alerting.document import Document
from app.alerting.signing import signed_headers
from app.slo.alert_spec import Receiver
from app.slo.redaction import redact_url
from app.slo.report import rfc3339

IDEMPOTENCY_HEADER = "Idempotency-Key"
ALERTMANAGER_PATH = "/api/v2/alerts"
RETRYABLE_STATUS = frozenset({408, 425, 429})
# A firing alert stays active this many re-send intervals past the last post.
ENDS_AT_INTERVALS = 3


class DeliveryError(Exception):
    """A notification did not arrive; `retryable` says whether trying again can help."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


def canonical_body(document: Document) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def send_webhook(
    client: httpx.Client,
    receiver: Receiver,
    document: Document,
    key: str,
    environ: Mapping[str, str] = os.environ,
) -> None:
    body = canonical_body(document)
    headers = {
        **receiver.headers,
        "Content-Type": "application/json",
        "User-Agent": f"faultline/{__version__}",
        IDEMPOTENCY_HEADER: key,
    }
    if receiver.secret_env is not None:
        secret = environ.get(receiver.secret_env)
        if not secret:
            # Never send unsigned what the receiver expects signed; nothing retries this away.
            raise DeliveryError(
                f"the webhook secret variable {receiver.secret_env} is not set", retryable=False
            )
        # The wall clock, not the dispatcher's: the receiver judges it against its own.
        headers.update(signed_headers(secret, body, time.time()))
    _post(client, receiver.url, receiver.timeout, content=body, headers=headers)


def alertmanager_url(receiver: Receiver) -> str:
    base = receiver.url.rstrip("/")
    return base if base.endswith(ALERTMANAGER_PATH) else base + ALERTMANAGER_PATH


def alertmanager_alert(document: Document, now: float, resend_interval: int) -> dict[str, Any]:
    """One alert of the API v2 `postableAlerts` body."""
    starts_at = str(document["starts_at"])
    if document["status"] == "firing":
        ends_at = rfc3339(int(now) + ENDS_AT_INTERVALS * resend_interval)
    else:
        # Resolved now; never before it started (Alertmanager rejects endsAt < startsAt).
        ends_at = max(rfc3339(int(now)), starts_at)
    return {
        "labels": document["labels"],
        "annotations": document["annotations"],
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": document["dashboard_url"],
    }


def send_alertmanager(
    client: httpx.Client, receiver: Receiver, documents: Sequence[Document], now: float
) -> None:
    if not documents:
        return
    alerts = [alertmanager_alert(d, now, receiver.resend_interval) for d in documents]
    headers = {**receiver.headers, "User-Agent": f"faultline/{__version__}"}
    _post(client, alertmanager_url(receiver), receiver.timeout, json=alerts, headers=headers)


def send(
    client: httpx.Client,
    receiver: Receiver,
    document: Document,
    key: str,
    now: float,
    environ: Mapping[str, str] = os.environ,
) -> None:
    """Deliver one transition to one receiver; raises DeliveryError."""
    if receiver.type == "alertmanager":
        send_alertmanager(client, receiver, [document], now)
    else:
        send_webhook(client, receiver, document, key, environ)


def _post(client: httpx.Client, url: str, timeout: float, **request: Any) -> None:
    shown = redact_url(url)  # messages are logged and stored: never a password in them
    try:
        response = client.post(url, timeout=timeout, **request)
    except httpx.TimeoutException:
        message = f"no answer from {shown} within {timeout:g} s"
        raise DeliveryError(message, retryable=True) from None
    except httpx.HTTPError as error:
        raise DeliveryError(f"cannot reach {shown}: {error}", retryable=True) from None
    if response.is_success:
        return
    status = response.status_code
    text = " ".join(response.text.split())[:300]
    message = f"{shown} answered {status}" + (f": {text}" if text else "")
    retryable = status >= 500 or status in RETRYABLE_STATUS
    raise DeliveryError(message, retryable=retryable, retry_after=_retry_after(response))


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a `Retry-After: <seconds>` header (the HTTP-date form is not honoured)."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None
