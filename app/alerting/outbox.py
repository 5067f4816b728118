"""The dispatcher's side of the outbox: claim due notifications, record how delivery went.

A claim is a lease (`lease_until`), taken with a conditional UPDATE that only one dispatcher can
win, on SQLite and PostgreSQL alike. A dispatcher that dies mid-delivery leaves its lease to run
out; the notification is then claimed again and re-sent with the same idempotency key.

Per alert and receiver, notifications go out in order: a resolution is never claimed while its
firing notification is still pending, so a receiver never sees "resolved" before "firing".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, exists, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from app.alerting.document import Document
from app.store.tables import alert_events, notifications

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True)
class Delivery:
    """A claimed notification: what to send, to whom, and how often it was tried before."""

    id: int
    receiver: str
    idempotency_key: str
    attempts: int
    created_at: float
    document: Document


def _lease_free(now: float) -> ColumnElement[bool]:
    return or_(notifications.c.lease_until.is_(None), notifications.c.lease_until < now)


def claim_due(connection: Connection, now: float, lease: float, limit: int = 50) -> list[Delivery]:
    """Lease up to `limit` due notifications, oldest first, skipping out-of-order ones."""
    earlier = notifications.alias("earlier")
    blocked = exists().where(
        earlier.c.slo_id == notifications.c.slo_id,
        earlier.c.tier == notifications.c.tier,
        earlier.c.receiver == notifications.c.receiver,
        earlier.c.state == PENDING,
        earlier.c.id < notifications.c.id,
    )
    candidates = connection.execute(
        select(notifications.c.id)
        .where(
            notifications.c.state == PENDING,
            notifications.c.next_attempt_at <= now,
            _lease_free(now),
            ~blocked,
        )
        .order_by(notifications.c.id)
        .limit(limit)
    ).scalars()
    claimed: list[int] = []
    for notification_id in list(candidates):
        won = connection.execute(
            update(notifications)
            .where(
                notifications.c.id == notification_id,
                notifications.c.state == PENDING,
                _lease_free(now),
            )
            .values(lease_until=now + lease)
        )
        if won.rowcount == 1:
            claimed.append(notification_id)
    if not claimed:
        return []
    rows = connection.execute(
        select(notifications, alert_events.c.document)
        .join(alert_events, alert_events.c.id == notifications.c.event_id)
        .where(notifications.c.id.in_(claimed))
        .order_by(notifications.c.id)
    )
    return [_delivery(row) for row in rows]


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        receiver=row.receiver,
        idempotency_key=row.idempotency_key,
        attempts=row.attempts,
        created_at=row.created_at,
        document=dict(json.loads(row.document)),
    )


def mark_delivered(connection: Connection, delivery: Delivery, now: float) -> None:
    connection.execute(
        update(notifications)
        .where(notifications.c.id == delivery.id, notifications.c.state == PENDING)
        .values(
            state=DELIVERED,
            attempts=delivery.attempts + 1,
            delivered_at=now,
            lease_until=None,
            last_error=None,
        )
    )


def schedule_retry(
    connection: Connection, delivery: Delivery, next_attempt_at: float, error: str
) -> None:
    connection.execute(
        update(notifications)
        .where(notifications.c.id == delivery.id, notifications.c.state == PENDING)
        .values(
            attempts=delivery.attempts + 1,
            next_attempt_at=next_attempt_at,
            lease_until=None,
            last_error=error[:2000],
        )
    )


def mark_failed(connection: Connection, delivery: Delivery, error: str) -> None:
    """Give up: the receiver refused the notification for good, or it is too old to matter."""
    connection.execute(
        update(notifications)
        .where(notifications.c.id == delivery.id, notifications.c.state == PENDING)
        .values(
            state=FAILED, attempts=delivery.attempts + 1, lease_until=None, last_error=error[:2000]
        )
    )


@dataclass(frozen=True)
class OutboxStats:
    oldest_pending_created_at: float | None
    pending: dict[str, int]  # by receiver
    failed: dict[str, int]


def outbox_stats(connection: Connection) -> OutboxStats:
    oldest = connection.execute(
        select(func.min(notifications.c.created_at)).where(notifications.c.state == PENDING)
    ).scalar_one_or_none()
    counts: dict[str, dict[str, int]] = {PENDING: {}, FAILED: {}}
    rows = connection.execute(
        select(notifications.c.state, notifications.c.receiver, func.count())
        .where(notifications.c.state.in_([PENDING, FAILED]))
        .group_by(notifications.c.state, notifications.c.receiver)
    )
    for state, receiver, count in rows:
        counts[state][receiver] = int(count)
    return OutboxStats(None if oldest is None else float(oldest), counts[PENDING], counts[FAILED])


def reclaim_leases(connection: Connection) -> int:
    """A new leader (the only dispatcher) takes over: claims of the previous one, which died or
    lost the lead, are void at once rather than after their lease. Should that one still be
    sending, the receiver gets the same idempotency key twice: one effective delivery."""
    result = connection.execute(
        update(notifications)
        .where(notifications.c.state == PENDING, notifications.c.lease_until.is_not(None))
        .values(lease_until=None)
    )
    return int(result.rowcount or 0)
