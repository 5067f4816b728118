"""What the running application holds: settings, engine, scheduler, metrics registry.

The API and the dashboards read it through Protocols of their own (`app.api.context`,
`app.web.process`), since the runtime sits above them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from app.api.context import ServiceState
from app.engine.service import Engine
from app.runtime.loading import LoadResult, load
from app.runtime.settings import Settings
from app.web.process import DashboardState

if TYPE_CHECKING:
    from app.engine.scheduler import EngineScheduler


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    scheduler: EngineScheduler | None = None
    definition_problems: list[str] = field(default_factory=list)

    def load_definitions(self) -> LoadResult:
        """The definition files as they are on disk now (what a reload would run)."""
        return load(self.settings)


def as_seen_by_api_and_dashboards(state: AppState) -> tuple[ServiceState, DashboardState]:
    """The same state under the Protocols of its readers; mypy checks that it provides both."""
    return state, state
