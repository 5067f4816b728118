"""Firing alerts and alert timelines from `app.alerting.views`, when alerting is there.

Alerting is optional for the dashboards: without it (an older build, or a store that has not
been migrated for it yet) pages say "no alerts" instead of failing.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from app.engine.service import Engine
from app.store.errors import StoreError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Firing:
    slo_key: str
    tier: str
    severity: str
    since: int | float | str | datetime | None
    summary: str


@dataclass(frozen=True)
class TimelineEvent:
    t: int | float | str | datetime | None
    tier: str
    state: str
    summary: str


@dataclass(frozen=True)
class Alerts:
    """What alerting said, or why it said nothing (`unavailable`)."""

    firing: list[Firing]
    unavailable: str | None = None

    def of(self, key: str) -> list[Firing]:
        return [alert for alert in self.firing if alert.slo_key == key]


def _views() -> Any | None:
    try:
        return importlib.import_module("app.alerting.views")
    except ImportError:
        return None


def firing(engine: Engine) -> Alerts:
    views = _views()
    if views is None or not hasattr(views, "firing_alerts"):
        return Alerts([], unavailable="alerting is not enabled in this build")
    try:
        with engine.store.read() as connection:
            found = views.firing_alerts(connection)
    except (StoreError, SQLAlchemyError) as error:
        log.warning("firing alerts unavailable: %s", error)
        return Alerts([], unavailable="alert state could not be read")
    return Alerts(
        [
            Firing(
                slo_key=str(getattr(alert, "slo_key", getattr(alert, "slo", ""))),
                tier=str(alert.tier),
                severity=str(alert.severity),
                since=alert.since,
                summary=str(alert.summary),
            )
            for alert in found
        ]
    )


def timeline(engine: Engine, key: str, start: int, end: int) -> tuple[list[TimelineEvent], str]:
    """(events, note): the note says why the list is empty when alerting could not answer."""
    views = _views()
    if views is None or not hasattr(views, "alert_timeline"):
        return [], "alerting is not enabled in this build"
    try:
        with engine.store.read() as connection:
            found = views.alert_timeline(connection, key, start, end)
    except (StoreError, SQLAlchemyError) as error:
        log.warning("alert timeline unavailable: %s", error)
        return [], "alert state could not be read"
    events = [
        TimelineEvent(
            t=event.t, tier=str(event.tier), state=str(event.state), summary=str(event.summary)
        )
        for event in found
    ]
    return events, "" if events else "no alert changed state in this range"
