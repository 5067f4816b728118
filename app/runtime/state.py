"""What the running application holds: settings, engine, scheduler, metrics registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from app.engine.service import Engine
from app.runtime.settings import Settings

if TYPE_CHECKING:
    from app.engine.scheduler import EngineScheduler


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    scheduler: EngineScheduler | None = None
    definition_problems: list[str] = field(default_factory=list)
