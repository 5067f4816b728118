"""Alert states, their transitions and the outbox rows, in the caller's transaction.

`record_transition` writes the event and one notification per receiver; the evaluator calls it
in the same transaction that saves the new state, so a crash can never leave a state change
without its notifications, nor a notification for a change that was rolled back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, or_, select, update

from app.alerting.document import Document
from app.alerting.transitions import AlertState, Position
from app.store.ledger import upsert
from app.store.tables import alert_events, alert_states, notifications


@dataclass(frozen=True)
class StoredAlert:
    """Where one alert of an SLO stands, as stored in `alert_states`."""

    tier: str
    severity: str
    position: Position
    evaluated_at: int
    event_id: int | None
    summary: str


def load_alerts(
    connection: Connection, slo_id: int, *, lock: bool = False
) -> dict[str, StoredAlert]:
    """The SLO's alerts by rule name; `lock` takes row locks where the database has them."""
    query = select(alert_states).where(alert_states.c.slo_id == slo_id)
    if lock:
        query = query.with_for_update()
    return {row.tier: _stored(row) for row in connection.execute(query)}


def load_alerts_many(
    connection: Connection, slo_ids: Sequence[int]
) -> dict[int, dict[str, StoredAlert]]:
    """`load_alerts` of several SLOs in one query (no locks: the evaluator's batched read)."""
    found: dict[int, dict[str, StoredAlert]] = {slo_id: {} for slo_id in slo_ids}
    if slo_ids:
        query = select(alert_states).where(alert_states.c.slo_id.in_(list(slo_ids)))
        for row in connection.execute(query):
            found[row.slo_id][row.tier] = _stored(row)
    return found


@dataclass(frozen=True)
class Judged:
    """An alert judged at `at` without any change but its `evaluated_at` (as read)."""

    slo_id: int
    alert: StoredAlert
    at: int


def touch_evaluated(connection: Connection, judged: Sequence[Judged]) -> None:
    """Move `evaluated_at` to `at` for alerts nobody wrote since they were read: the row must
    still have the `evaluated_at` and state read (every judgement that writes raises
    `evaluated_at`), so a concurrent judge's write is never overwritten. The caller reads the
    rows back to find those left behind."""
    if not judged:
        return
    statement = (
        update(alert_states)
        .where(
            alert_states.c.slo_id == bindparam("b_slo_id"),
            alert_states.c.tier == bindparam("b_tier"),
            alert_states.c.evaluated_at == bindparam("b_seen"),
            alert_states.c.state == bindparam("b_state"),
        )
        .values(evaluated_at=bindparam("b_at"))
    )
    connection.execute(
        statement,
        [
            {
                "b_slo_id": item.slo_id,
                "b_tier": item.alert.tier,
                "b_seen": item.alert.evaluated_at,
                "b_state": item.alert.position.state.value,
                "b_at": item.at,
            }
            for item in judged
        ],
    )


def _stored(row: Any) -> StoredAlert:
    return StoredAlert(
        tier=row.tier,
        severity=row.severity,
        position=Position(AlertState(row.state), row.since, row.pending_since),
        evaluated_at=row.evaluated_at,
        event_id=row.event_id,
        summary=row.summary,
    )


def save_alerts(connection: Connection, slo_id: int, alerts: Sequence[StoredAlert]) -> None:
    """Upsert where each alert stands now (one statement for all of an SLO's rules)."""
    upsert(
        connection,
        alert_states,
        [
            {
                "slo_id": slo_id,
                "tier": alert.tier,
                "severity": alert.severity,
                "state": alert.position.state.value,
                "since": alert.position.since,
                "pending_since": alert.position.pending_since,
                "evaluated_at": alert.evaluated_at,
                "event_id": alert.event_id,
                "summary": alert.summary,
            }
            for alert in alerts
        ],
        ["slo_id", "tier"],
    )


@dataclass(frozen=True)
class Transition:
    slo_id: int
    tier: str
    severity: str
    state: AlertState
    t: int
    key: str
    summary: str
    document: Document


def record_transition(
    connection: Connection, transition: Transition, receivers: Sequence[str], now: float
) -> int:
    """Insert the event and its outbox rows; returns the event id."""
    result = connection.execute(
        insert(alert_events).values(
            slo_id=transition.slo_id,
            tier=transition.tier,
            severity=transition.severity,
            state=transition.state.value,
            t=transition.t,
            idempotency_key=transition.key,
            summary=transition.summary,
            document=json.dumps(transition.document, sort_keys=True),
            created_at=int(now),
        )
    )
    assert result.inserted_primary_key is not None
    event_id = int(result.inserted_primary_key[0])
    if receivers:
        connection.execute(
            insert(notifications),
            [
                {
                    "event_id": event_id,
                    "slo_id": transition.slo_id,
                    "tier": transition.tier,
                    "receiver": receiver,
                    "idempotency_key": transition.key,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for receiver in receivers
            ],
        )
    return event_id


def load_document(connection: Connection, event_id: int) -> Document | None:
    text = connection.execute(
        select(alert_events.c.document).where(alert_events.c.id == event_id)
    ).scalar_one_or_none()
    return None if text is None else dict(json.loads(text))


def current_documents(connection: Connection, resolved_since: float) -> list[Document]:
    """Documents of firing alerts and of alerts resolved at or after `resolved_since` (wall)."""
    rows = connection.execute(
        select(alert_events.c.document)
        .join(alert_states, alert_states.c.event_id == alert_events.c.id)
        .where(
            or_(
                alert_states.c.state == AlertState.FIRING.value,
                and_(
                    alert_states.c.state == AlertState.RESOLVED.value,
                    alert_events.c.created_at >= int(resolved_since),
                ),
            )
        )
        .order_by(alert_events.c.id)
    )
    return [dict(json.loads(text)) for (text,) in rows]
