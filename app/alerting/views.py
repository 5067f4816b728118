"""Read models of alerts for the API and the dashboards: what fires now, and what happened when.

Plain reads of the alert tables (no evaluation): a page shows exactly what was notified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, select

from app.alerting.transitions import AlertState
from app.store.tables import alert_events, alert_states, slos


@dataclass(frozen=True)
class FiringAlert:
    """An alert firing now. `since` is the slice end (epoch seconds) at which it started;
    `summary` is refreshed at every evaluation while it fires."""

    slo_key: str
    tier: str
    severity: str
    since: int
    summary: str


@dataclass(frozen=True)
class AlertEvent:
    """One transition of one alert: it started firing, or it resolved, at slice end `t`."""

    t: int
    tier: str
    state: str  # "firing" | "resolved"
    summary: str
    severity: str = ""
    replayed: bool = False  # judged by replay from the ledger's history, never delivered


def firing_states(*columns: ColumnElement[Any]) -> Select[Any]:
    """The firing alert states of active SLOs, oldest first, as `columns` (of `alert_states`
    and `slos`): one definition of "firing" for every view that lists them."""
    return (
        select(*columns)
        .select_from(alert_states)
        .join(slos, slos.c.id == alert_states.c.slo_id)
        .where(alert_states.c.state == AlertState.FIRING.value, slos.c.active.is_(True))
        .order_by(alert_states.c.since, slos.c.key, alert_states.c.tier)
    )


def firing_alerts(connection: Connection) -> list[FiringAlert]:
    """Every firing alert of an active SLO, oldest first."""
    rows = connection.execute(
        firing_states(
            slos.c.key,
            alert_states.c.tier,
            alert_states.c.severity,
            alert_states.c.since,
            alert_states.c.summary,
        )
    )
    return [
        FiringAlert(slo_key=key, tier=tier, severity=severity, since=int(since), summary=summary)
        for key, tier, severity, since, summary in rows
    ]


def alert_timeline(connection: Connection, slo_key: str, start: int, end: int) -> list[AlertEvent]:
    """Transitions of one SLO's alerts with `start < t <= end`, in order."""
    rows = connection.execute(
        select(
            alert_events.c.t,
            alert_events.c.tier,
            alert_events.c.state,
            alert_events.c.summary,
            alert_events.c.severity,
        )
        .join(slos, slos.c.id == alert_events.c.slo_id)
        .where(slos.c.key == slo_key, alert_events.c.t > start, alert_events.c.t <= end)
        .order_by(alert_events.c.t, alert_events.c.id)
    )
    return [
        AlertEvent(t=int(t), tier=tier, state=state, summary=summary, severity=severity)
        for t, tier, state, summary, severity in rows
    ]


def first_event_t(connection: Connection, slo_key: str) -> int | None:
    """The slice end of the SLO's first live transition, if it ever had one."""
    first = connection.execute(
        select(func.min(alert_events.c.t))
        .join(slos, slos.c.id == alert_events.c.slo_id)
        .where(slos.c.key == slo_key)
    ).scalar_one_or_none()
    return None if first is None else int(first)
