"""Replay for the dashboards: the alert timeline with its history, and the Replay panel.

Alerts are judged live only from the moment a process judges them. Before that — a backfilled
ledger, a service that just started — the timeline shows what the same policy would have done,
replayed from the ledger and marked as such, so history is never silent about a burn.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.alerting import views as alert_views
from app.engine.replay import ReplayError, run_replay
from app.engine.service import Engine
from app.slo.replay_models import ReplayOut, ReplayRequest, SLOReplayOut
from app.slo.whatif import Change
from app.slo.windows import Window, align_down

WARM_UP = 3 * 86400  # the longest default alert window: replay starts in the state it had


@dataclass(frozen=True)
class AlertHistory:
    events: list[alert_views.AlertEvent]
    live_since: int  # replayed before, live from here on
    note: str = ""  # why nothing was replayed, when that is the case


def alert_history(engine: Engine, key: str, window: Window, base_url: str) -> AlertHistory:
    """Live transitions in `window`, and replayed ones before live judging began."""
    with engine.store.read() as connection:
        live = alert_views.alert_timeline(connection, key, window.start, window.end)
        first_live = alert_views.first_event_t(connection, key)
    started = align_down(engine.started_at, 60)
    live_since = min(started, first_live) if first_live is not None else started
    end = min(window.end, live_since)
    if end - window.start < 60:
        return AlertHistory(live, live_since)
    request = ReplayRequest(slos=(key,), start=str(window.start - WARM_UP), end=str(end))
    try:
        answer = _replayed(engine, request, base_url)
    except ReplayError as error:
        return AlertHistory(live, live_since, f"history not replayed: {error}")
    replayed = [
        alert_views.AlertEvent(
            t=alert.t,
            tier=alert.tier,
            state=alert.state,
            summary=alert.summary,
            severity=alert.severity,
            replayed=True,
        )
        for slo in answer.slos
        for alert in slo.actual.alerts
        if window.start < alert.t < live_since
    ]
    return AlertHistory(replayed + live, live_since)


def what_if(
    engine: Engine, key: str, window: Window, change: Change, base_url: str
) -> SLOReplayOut | str:
    """The SLO over `window` as it was and under `change`; a message when that cannot be."""
    request = ReplayRequest(
        slos=(key,), start=str(window.start), end=str(window.end), change=change
    )
    try:
        answer = _replayed(engine, request, base_url)
    except ReplayError as error:
        return str(error)
    return answer.slos[0] if answer.slos else "this SLO has no ledger to replay yet"


def _replayed(engine: Engine, request: ReplayRequest, base_url: str) -> ReplayOut:
    with engine.replay_slots.taken():
        return run_replay(
            engine.store, engine.definitions, request, base_url=base_url, now=engine.clock()
        )
