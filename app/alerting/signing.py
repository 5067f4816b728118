"""Webhook signatures over a timestamp, so a captured request stops verifying after minutes.

The sender puts the Unix time of the request in `X-Faultline-Timestamp` and
`X-Faultline-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">` (the scheme of Stripe and
Slack). A receiver recomputes the HMAC over the timestamp it was given and refuses a request
whose timestamp is more than `TOLERANCE_SECONDS` away from its own clock: altering the timestamp
breaks the signature, and replaying the request unaltered fails the tolerance check.
`verify` is the reference check (docs/alerting.md shows the same recipe for receivers).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Faultline-Signature"
TIMESTAMP_HEADER = "X-Faultline-Timestamp"
SCHEME = "v1"
# How far a receiver should let a request's timestamp stray from its clock, either way.
TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """A delivery that must be refused; the message says why."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def signed_headers(secret: str, body: bytes, now: float) -> dict[str, str]:
    """The two headers that sign `body` at Unix time `now`."""
    timestamp = int(now)
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    tolerance: float = TOLERANCE_SECONDS,
) -> None:
    """Raise SignatureError unless `body` was signed with `secret` within `tolerance` of `now`.

    `headers` are looked up in lower case (HTTP header names are case-insensitive).
    """
    given = {name.lower(): value for name, value in headers.items()}
    raw = given.get(TIMESTAMP_HEADER.lower(), "")
    if not raw.isascii() or not raw.isdigit():
        raise SignatureError(f"missing or malformed {TIMESTAMP_HEADER}")
    expected = signature(secret, int(raw), body)
    if not hmac.compare_digest(given.get(SIGNATURE_HEADER.lower(), ""), expected):
        raise SignatureError("the signature does not match the timestamp and body")
    if abs(now - int(raw)) > tolerance:
        raise SignatureError(f"the timestamp is more than {tolerance:g} s from now (a replay?)")
