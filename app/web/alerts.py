"""Firing alerts and alert timelines for the pages, from the engine's read facade.

A store that cannot answer makes pages say why there are no alerts instead of failing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from app.engine import replay_views, views
from app.engine.service import Engine
from app.slo.windows import Window
from app.store.errors import StoreError

log = logging.getLogger(__name__)

Firing = views.FiringAlert
TimelineEvent = views.AlertEvent
Record = views.AlertRecord


@dataclass(frozen=True)
class Alerts:
    """What alerting said, or why it said nothing (`unavailable`)."""

    firing: list[Firing]
    unavailable: str | None = None

    def of(self, key: str) -> list[Firing]:
        return [alert for alert in self.firing if alert.slo_key == key]


def firing(engine: Engine) -> Alerts:
    try:
        return Alerts(views.firing_alerts(engine))
    except (StoreError, SQLAlchemyError) as error:
        log.warning("firing alerts unavailable: %s", error)
        return Alerts([], unavailable="alert state could not be read")


def timeline(
    engine: Engine, key: str, window: Window, base_url: str
) -> tuple[list[TimelineEvent], str, int | None]:
    """(events, note, live since): replayed transitions before live judging began, live ones
    after; the note says why the list is empty when alerting could not answer."""
    try:
        history = replay_views.alert_history(engine, key, window, base_url)
    except (StoreError, SQLAlchemyError) as error:
        log.warning("alert timeline unavailable: %s", error)
        return [], "alert state could not be read", None
    note = history.note or ("" if history.events else "no alert changed state in this range")
    return history.events, note, history.live_since


def recent(engine: Engine, start: int, end: int) -> tuple[list[Record], str]:
    """(transitions newest first, note): the note says why the list is empty."""
    try:
        records = views.recent_alerts(engine, start, end)
    except (StoreError, SQLAlchemyError) as error:
        log.warning("recent alerts unavailable: %s", error)
        return [], "alert state could not be read"
    return records, "" if records else "no alert changed state in this range"


def firing_records(engine: Engine) -> tuple[list[Record], str | None]:
    """(firing alerts with their deliveries, why none could be read)."""
    try:
        return views.firing_with_deliveries(engine), None
    except (StoreError, SQLAlchemyError) as error:
        log.warning("firing alerts unavailable: %s", error)
        return [], "alert state could not be read"
