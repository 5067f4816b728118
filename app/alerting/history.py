"""Read models of the alerts page: recent transitions of every SLO's alerts and how the
notifications of each were delivered. Plain reads of the alert tables and the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from app.alerting.transitions import AlertState
from app.alerting.views import firing_states
from app.store.tables import alert_events, alert_states, notifications, slos


@dataclass(frozen=True)
class DeliveryState:
    """One receiver's notification of one transition, as the outbox holds it."""

    receiver: str
    state: str  # pending | delivered | failed
    attempts: int
    last_error: str | None
    delivered_at: float | None


@dataclass(frozen=True)
class AlertRecord:
    """A transition (firing or resolved) of one SLO's alert tier, with its deliveries."""

    event_id: int
    t: int  # slice end of the transition
    slo_key: str
    tier: str
    severity: str
    state: str
    summary: str
    deliveries: list[DeliveryState] = field(default_factory=list)
    firing_now: bool = False  # this transition set the alert's current, firing state


def recent_alerts(connection: Connection, start: int, end: int, limit: int) -> list[AlertRecord]:
    """Transitions with `start < t <= end` of active SLOs, newest first, at most `limit`."""
    current = {
        event_id
        for (event_id,) in connection.execute(
            select(alert_states.c.event_id).where(
                alert_states.c.state == AlertState.FIRING.value,
                alert_states.c.event_id.is_not(None),
            )
        )
    }
    rows = connection.execute(
        select(
            alert_events.c.id,
            alert_events.c.t,
            slos.c.key,
            alert_events.c.tier,
            alert_events.c.severity,
            alert_events.c.state,
            alert_events.c.summary,
        )
        .join(slos, slos.c.id == alert_events.c.slo_id)
        .where(slos.c.active.is_(True), alert_events.c.t > start, alert_events.c.t <= end)
        .order_by(alert_events.c.t.desc(), alert_events.c.id.desc())
        .limit(limit)
    )
    records = [
        AlertRecord(
            event_id=int(event_id),
            t=int(t),
            slo_key=key,
            tier=tier,
            severity=severity,
            state=state,
            summary=summary,
            firing_now=int(event_id) in current,
        )
        for event_id, t, key, tier, severity, state, summary in rows
    ]
    deliveries = _deliveries(connection, [record.event_id for record in records])
    for record in records:
        record.deliveries.extend(deliveries.get(record.event_id, []))
    return records


def firing_alerts(connection: Connection) -> list[AlertRecord]:
    """Every firing alert of an active SLO, oldest first, with its current summary and the
    deliveries of the transition that started it."""
    rows = connection.execute(
        firing_states(
            alert_states.c.event_id,
            alert_states.c.since,
            slos.c.key,
            alert_states.c.tier,
            alert_states.c.severity,
            alert_states.c.summary,
        )
    )
    records = [
        AlertRecord(
            event_id=int(event_id or 0),
            t=int(since),
            slo_key=key,
            tier=tier,
            severity=severity,
            state=AlertState.FIRING.value,
            summary=summary,
            firing_now=True,
        )
        for event_id, since, key, tier, severity, summary in rows
    ]
    deliveries = _deliveries(connection, [r.event_id for r in records if r.event_id])
    for record in records:
        record.deliveries.extend(deliveries.get(record.event_id, []))
    return records


def _deliveries(connection: Connection, event_ids: Sequence[int]) -> dict[int, list[DeliveryState]]:
    found: dict[int, list[DeliveryState]] = {}
    if not event_ids:
        return found
    rows = connection.execute(
        select(
            notifications.c.event_id,
            notifications.c.receiver,
            notifications.c.state,
            notifications.c.attempts,
            notifications.c.last_error,
            notifications.c.delivered_at,
        )
        .where(notifications.c.event_id.in_(list(event_ids)))
        .order_by(notifications.c.event_id, notifications.c.receiver)
    )
    for event_id, receiver, state, attempts, last_error, delivered_at in rows:
        found.setdefault(int(event_id), []).append(
            DeliveryState(receiver, state, int(attempts or 0), last_error, delivered_at)
        )
    return found
